package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

func init() {
	register(Demo{
		Name:    "context",
		Summary: "the seed's thread-local request context, done the Go way: values carried by context.Context across goroutines",
		Run:     contextDemo,
	})
}

// The seed keeps request data in threading.local: every function on the
// thread can read it, nothing passes it along, and it must be cleared by
// hand or the next request on a pooled thread sees stale values. A thread
// the handler starts does not see it at all.
//
// Go has no goroutine-local storage, by design. Request-scoped data rides
// in the context.Context that every call on the request's path takes as
// its first argument: it reaches helper goroutines because they are given
// the context, it cannot leak into another request, and it disappears with
// the request. The same context carries the request's cancellation.

// contextRequest is the request-scoped data: one typed value under one
// key, rather than a bag of strings.
type contextRequest struct {
	ID   int
	User string
}

// contextKey is unexported, so no other package can read or overwrite the
// value stored under it.
type contextKey struct{}

// contextWithRequest returns a context carrying req.
func contextWithRequest(ctx context.Context, req contextRequest) context.Context {
	return context.WithValue(ctx, contextKey{}, req)
}

// contextRequestFrom returns the request carried by ctx, if any.
func contextRequestFrom(ctx context.Context) (contextRequest, bool) {
	req, ok := ctx.Value(contextKey{}).(contextRequest)
	return req, ok
}

// contextSeen is what one step of a request's work read from its context.
type contextSeen struct {
	step string
	req  contextRequest
}

// contextHandle is the seed's handle_request: it attaches the request to
// the context and fans the work out to goroutines that read it back.
func contextHandle(ctx context.Context, id int) ([]contextSeen, error) {
	ctx = contextWithRequest(ctx, contextRequest{ID: id, User: fmt.Sprintf("user_%d", id)})
	steps := []string{"load profile", "load orders", "write audit log"}
	seen := make([]contextSeen, len(steps))
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() { seen[i], errs[i] = contextStep(ctx, step) })
	}
	wg.Wait()
	return seen, errors.Join(errs...)
}

// contextStep is a function deep in the call path: it needs the request's
// identity and learns it from ctx alone.
func contextStep(ctx context.Context, step string) (contextSeen, error) {
	if err := ctx.Err(); err != nil {
		return contextSeen{}, fmt.Errorf("%s: %w", step, err)
	}
	req, ok := contextRequestFrom(ctx)
	if !ok {
		return contextSeen{}, fmt.Errorf("%s: no request in context", step)
	}
	return contextSeen{step: step, req: req}, nil
}

func contextDemo(ctx context.Context, w io.Writer) (string, error) {
	const requests = 50
	const cancelled = 7 // this request's client goes away before it is served

	results := make([][]contextSeen, requests)
	errs := make([]error, requests)
	var wg sync.WaitGroup
	for id := range requests {
		reqCtx, cancel := context.WithCancel(ctx)
		if id == cancelled {
			cancel()
		}
		wg.Go(func() {
			defer cancel()
			results[id], errs[id] = contextHandle(reqCtx, id)
		})
	}
	wg.Wait()

	reads := 0
	for id := range requests {
		if id == cancelled {
			if !errors.Is(errs[id], context.Canceled) {
				return "", fmt.Errorf("request %d was cancelled but returned %v", id, errs[id])
			}
			continue
		}
		if errs[id] != nil {
			return "", fmt.Errorf("request %d: %w", id, errs[id])
		}
		want := contextRequest{ID: id, User: fmt.Sprintf("user_%d", id)}
		for _, s := range results[id] {
			if s.req != want {
				return "", fmt.Errorf("request %d: step %q saw %+v, want %+v", id, s.step, s.req, want)
			}
			reads++
		}
	}
	for _, s := range results[3] {
		fmt.Fprintf(w, "Request %d handled by %s (%s, on its own goroutine)\n", s.req.ID, s.req.User, s.step)
	}
	fmt.Fprintf(w, "%d concurrent requests, %d goroutines reading their request from the context: every one saw its own values\n",
		requests, reads)
	fmt.Fprintf(w, "request %d was cancelled by its client: its steps stopped with %v; the others were unaffected\n",
		cancelled, context.Canceled)
	return fmt.Sprintf("%d requests x 3 goroutines each read only their own request; the cancelled one stopped", requests-1), nil
}

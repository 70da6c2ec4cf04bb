package pool

import (
	"context"
	"errors"
	"sync"

	"github.com/skein-go/skein/future"
)

// Group runs a set of tasks on a pool and waits for all of them, like
// golang.org/x/sync/errgroup with results. By default the first error
// cancels every other task of the group (queued ones never run, running
// ones see their context cancelled) and is what Wait returns; with
// WithErrorMode(AllErrors) every task runs and Wait joins every error.
//
// Call Go from any number of goroutines, then Wait once. A Group is for
// one batch: Go after Wait has started fails that task.
type Group[T any] struct {
	p    *Pool
	ctx  context.Context
	mode ErrorMode
	stop func() bool // unregisters the cancellation hook on ctx

	mu      sync.Mutex // guards the fields below
	futures []*future.Future[T]
	errs    []error // in completion order; only the first in FirstError mode
	failed  bool    // the group stopped: the first error (FirstError mode) or ctx ended
	waiting bool
	setup   error // bad arguments to NewGroup
}

// NewGroup returns an empty group running its tasks on p. ctx bounds the
// submissions (Go blocks while p's queue is full) and, when it ends,
// cancels the group's remaining tasks. Of the MapOptions only
// WithErrorMode applies. Bad arguments make Wait return an error.
func NewGroup[T any](ctx context.Context, p *Pool, opts ...MapOption) *Group[T] {
	g := &Group[T]{p: p, ctx: ctx}
	if p == nil {
		g.setup = errNilPool
		return g
	}
	cfg, err := newMapConfig(p, opts)
	if err != nil {
		g.setup = err
		return g
	}
	g.mode = cfg.errorMode
	g.stop = context.AfterFunc(ctx, g.ctxDone)
	return g
}

// Go submits fn to the group's pool. It never fails on its own: a task
// that cannot be submitted (pool closed, ctx ended, group already failed
// or waited on) counts as a failed task of the group.
func (g *Group[T]) Go(fn func(context.Context) (T, error)) {
	g.mu.Lock()
	if g.setup != nil {
		g.mu.Unlock()
		return
	}
	if g.waiting {
		g.setup = errors.New("pool: Group.Go called after Wait")
		g.mu.Unlock()
		return
	}
	skip := g.failed
	g.mu.Unlock()

	var f *future.Future[T]
	if skip {
		f = future.Fail[T](future.ErrCancelled)
	} else {
		f = Submit(g.ctx, g.p, fn)
	}
	f.OnDone(func(_ T, err error) { g.done(err) })
	g.mu.Lock()
	g.futures = append(g.futures, f)
	late := g.failed // the group failed while f was being submitted
	g.mu.Unlock()
	if late {
		f.Cancel()
	}
}

// done records a finished task's error; in FirstError mode the first one
// cancels the rest of the group.
func (g *Group[T]) done(err error) {
	if err == nil {
		return
	}
	g.mu.Lock()
	first := !g.failed
	switch {
	case g.mode == FirstError && first:
		g.errs = append(g.errs, err)
		g.failed = true
	case g.mode == AllErrors && !(g.failed && errors.Is(err, context.Canceled)):
		g.errs = append(g.errs, err) // but not the echoes of a cancellation
	}
	g.mu.Unlock()
	if g.mode == FirstError && first {
		g.cancelAll()
	}
}

// ctxDone runs when the group's context ends: it records the context's
// error (unless a task failed first) and cancels every task.
func (g *Group[T]) ctxDone() {
	g.mu.Lock()
	if !g.failed {
		g.errs = append(g.errs, g.ctx.Err())
	}
	g.failed = true
	g.mu.Unlock()
	g.cancelAll()
}

// cancelAll cancels every task of the group submitted so far.
func (g *Group[T]) cancelAll() {
	g.mu.Lock()
	fs := append([]*future.Future[T](nil), g.futures...)
	g.mu.Unlock()
	for _, f := range fs {
		f.Cancel()
	}
}

// Wait waits for every task of the group to finish and returns their
// values in the order Go was called (zero for tasks that failed) and the
// group's error: the first error, or all of them joined.
func (g *Group[T]) Wait() ([]T, error) {
	g.mu.Lock()
	g.waiting = true
	fs := g.futures
	setup := g.setup
	g.mu.Unlock()
	if g.stop != nil {
		g.stop()
	}
	vals := make([]T, len(fs))
	for i, f := range fs {
		vals[i], _ = f.Wait(context.Background())
	}
	if setup != nil {
		return vals, setup
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.errs) == 1 {
		return vals, g.errs[0]
	}
	return vals, errors.Join(g.errs...)
}

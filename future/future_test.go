package future_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/future"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPromiseResolveSucceeds(t *testing.T) {
	p := future.NewPromise[int]()
	f := p.Future()
	if got := f.State(); got != future.Pending {
		t.Fatalf("new future state = %v, want pending", got)
	}
	if _, _, ok := f.Result(); ok {
		t.Fatal("Result of a pending future reported ok")
	}
	if !p.Start() {
		t.Fatal("Start of a pending future returned false")
	}
	if p.Start() {
		t.Fatal("second Start returned true")
	}
	if !p.Resolve(42, nil) {
		t.Fatal("first Resolve returned false")
	}
	if p.Resolve(7, errors.New("late")) {
		t.Fatal("second Resolve returned true")
	}
	v, err := f.Wait(context.Background())
	if v != 42 || err != nil {
		t.Fatalf("Wait = %v, %v; want 42, nil", v, err)
	}
	if f.State() != future.Succeeded {
		t.Fatalf("state = %v, want succeeded", f.State())
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done channel not closed after resolution")
	}
}

func TestResolveWithErrorFails(t *testing.T) {
	boom := errors.New("boom")
	p := future.NewPromise[string]()
	p.Start()
	p.Resolve("", boom)
	_, err := p.Future().Wait(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if s := p.Future().State(); s != future.Failed {
		t.Fatalf("state = %v, want failed", s)
	}
	if !strings.Contains(p.Future().String(), "boom") {
		t.Fatalf("String() = %q, want the error in it", p.Future().String())
	}
}

func TestCancelPendingNeverRuns(t *testing.T) {
	p := future.NewPromise[int]()
	f := p.Future()
	if !f.Cancel() {
		t.Fatal("Cancel of a pending future returned false")
	}
	if !f.Cancel() {
		t.Fatal("Cancel of a cancelled future returned false (Python returns True)")
	}
	if p.Start() {
		t.Fatal("Start after Cancel returned true")
	}
	if p.Resolve(1, nil) {
		t.Fatal("Resolve after Cancel returned true")
	}
	_, err := f.Wait(context.Background())
	if !errors.Is(err, future.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want ErrCancelled matching context.Canceled", err)
	}
	if f.State() != future.Cancelled {
		t.Fatalf("state = %v, want cancelled", f.State())
	}
}

func TestCancelRunningCancelsContext(t *testing.T) {
	started := make(chan struct{})
	f := future.Go(context.Background(), func(ctx context.Context) (int, error) {
		close(started)
		<-ctx.Done()
		return 0, ctx.Err()
	})
	<-started
	if f.Cancel() {
		t.Fatal("Cancel of a running future returned true")
	}
	_, err := f.Wait(context.Background())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.State() != future.Cancelled {
		t.Fatalf("state = %v, want cancelled", f.State())
	}
}

func TestCancelDoneFutureReturnsFalse(t *testing.T) {
	f := future.Ready(3)
	if f.Cancel() {
		t.Fatal("Cancel of a succeeded future returned true")
	}
	if v, err := f.Wait(context.Background()); v != 3 || err != nil {
		t.Fatalf("Wait = %v, %v", v, err)
	}
}

func TestRunningErrorWithoutCancelIsFailed(t *testing.T) {
	// A function that returns context.Canceled on its own (say, from a
	// call it made) has failed: nobody cancelled it.
	f := future.Go(context.Background(), func(context.Context) (int, error) {
		return 0, context.Canceled
	})
	if _, err := f.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if f.State() != future.Failed {
		t.Fatalf("state = %v, want failed", f.State())
	}
}

func TestWaitHonoursContext(t *testing.T) {
	p := future.NewPromise[int]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Future().Wait(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if p.Future().State() != future.Pending {
		t.Fatal("an expired Wait changed the future's state")
	}
}

func TestGoTurnsPanicIntoPanicError(t *testing.T) {
	cause := errors.New("root cause")
	f := future.Go(context.Background(), func(context.Context) (int, error) {
		panic(cause)
	})
	_, err := f.Wait(context.Background())
	var pe *future.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *PanicError", err, err)
	}
	if !errors.Is(err, cause) {
		t.Fatal("PanicError does not unwrap to the panic value")
	}
	if !strings.Contains(string(pe.Stack), "future_test") {
		t.Fatalf("stack does not name the panicking function:\n%s", pe.Stack)
	}
	if full := fmt.Sprintf("%+v", err); !strings.Contains(full, "goroutine") {
		t.Fatalf("%%+v does not include the stack: %q", full)
	}
	if f.State() != future.Failed {
		t.Fatalf("state = %v, want failed", f.State())
	}
}

func TestGoNilFunctionFails(t *testing.T) {
	f := future.Go[int](context.Background(), nil)
	if _, err := f.Wait(context.Background()); err == nil {
		t.Fatal("nil function did not fail")
	}
}

func TestFailWithNilErrorStillFails(t *testing.T) {
	if _, err := future.Fail[int](nil).Wait(context.Background()); err == nil {
		t.Fatal("Fail(nil) resolved without an error")
	}
}

func TestOnDoneRunsOnceInOrder(t *testing.T) {
	p := future.NewPromise[int]()
	var mu sync.Mutex
	var got []string
	add := func(s string) func(int, error) {
		return func(v int, err error) {
			mu.Lock()
			got = append(got, fmt.Sprintf("%s:%d", s, v))
			mu.Unlock()
		}
	}
	p.Future().OnDone(add("a"))
	p.Future().OnDone(add("b"))
	p.Future().OnDone(nil) // ignored
	p.Start()
	p.Resolve(5, nil)
	p.Resolve(6, nil)
	p.Future().OnDone(add("c")) // already done: runs at once
	want := "a:5 b:5 c:5"
	if s := strings.Join(got, " "); s != want {
		t.Fatalf("callbacks = %q, want %q", s, want)
	}
}

func TestTaskContextCarriesParentValuesAndCancellation(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	p := future.NewPromise[int]()
	ctx := p.Context(parent)
	if ctx.Value(key{}) != "v" {
		t.Fatal("task context lost the parent's value")
	}
	if ctx.Err() != nil {
		t.Fatal("fresh task context already done")
	}
	child, stop := context.WithCancel(ctx) // uses AfterFunc: no goroutine
	defer stop()
	cancel()
	<-ctx.Done()
	<-child.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v", ctx.Err())
	}
}

func TestTaskContextDoneAfterResolve(t *testing.T) {
	p := future.NewPromise[int]()
	ctx := p.Context(context.Background())
	p.Start()
	p.Resolve(1, nil)
	if ctx.Err() == nil {
		t.Fatal("task context still live after the future resolved")
	}
	<-ctx.Done() // made after resolution: must already be closed
}

func TestStateStrings(t *testing.T) {
	for s, want := range map[future.State]string{
		future.Pending: "pending", future.Running: "running", future.Succeeded: "succeeded",
		future.Failed: "failed", future.Cancelled: "cancelled", future.State(9): "State(9)",
	} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", uint32(s), s.String(), want)
		}
	}
	if future.Running.Done() || !future.Cancelled.Done() {
		t.Error("State.Done is wrong")
	}
}

// TestConcurrentCancelAndResolve races every write-side call against each
// other; exactly one outcome must win and all waiters must see it.
func TestConcurrentCancelAndResolve(t *testing.T) {
	for range 200 {
		p := future.NewPromise[int]()
		f := p.Future()
		var wg sync.WaitGroup
		results := make(chan string, 4)
		wg.Add(3)
		go func() { defer wg.Done(); f.Cancel() }()
		go func() {
			defer wg.Done()
			if p.Start() {
				p.Resolve(1, nil)
			}
		}()
		go func() {
			defer wg.Done()
			v, err := f.Wait(context.Background())
			results <- fmt.Sprint(v, err)
		}()
		wg.Wait()
		v, err := f.Wait(context.Background())
		if got, want := <-results, fmt.Sprint(v, err); got != want {
			t.Fatalf("waiters disagree: %q vs %q", got, want)
		}
		if s := f.State(); s != future.Succeeded && s != future.Cancelled {
			t.Fatalf("final state %v", s)
		}
	}
}

func ExampleGo() {
	f := future.Go(context.Background(), func(ctx context.Context) (string, error) {
		return "hello from a goroutine", nil
	})
	v, err := f.Wait(context.Background())
	fmt.Println(v, err)
	// Output: hello from a goroutine <nil>
}

func ExamplePromise() {
	// An executor keeps the Promise and hands out the Future.
	p := future.NewPromise[int]()
	f := p.Future()
	go func() {
		if p.Start() { // false if the caller cancelled meanwhile
			p.Resolve(6*7, nil)
		}
	}()
	v, _ := f.Wait(context.Background())
	fmt.Println(v)
	// Output: 42
}

func ExampleFuture_Cancel() {
	p := future.NewPromise[int]() // pending: queued, not started
	f := p.Future()
	fmt.Println(f.Cancel(), f.State())
	_, err := f.Wait(context.Background())
	fmt.Println(errors.Is(err, context.Canceled))
	// Output:
	// true cancelled
	// true
}

func TestOnCancelFiresOnlyForCancelWhileRunning(t *testing.T) {
	tests := []struct {
		name      string
		run       func(p *future.Promise[int], f *future.Future[int])
		wantCalls int
	}{
		{"cancel while running", func(p *future.Promise[int], f *future.Future[int]) {
			p.Start()
			f.Cancel()
		}, 1},
		{"cancel while pending", func(p *future.Promise[int], f *future.Future[int]) {
			f.Cancel()
			if p.Start() {
				t.Error("Start after Cancel returned true")
			}
		}, 0},
		{"resolve without cancel", func(p *future.Promise[int], f *future.Future[int]) {
			p.Start()
			p.Resolve(1, nil)
		}, 0},
		{"cancel after resolve", func(p *future.Promise[int], f *future.Future[int]) {
			p.Start()
			p.Resolve(1, nil)
			f.Cancel()
		}, 0},
		{"resolve after cancel", func(p *future.Promise[int], f *future.Future[int]) {
			p.Start()
			f.Cancel()
			p.Resolve(0, context.Canceled)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := future.NewPromise[int]()
			ctx := p.Context(context.Background())
			calls := 0
			p.OnCancel(func() { calls++ })
			tt.run(p, p.Future())
			if calls != tt.wantCalls {
				t.Fatalf("OnCancel hook ran %d times, want %d", calls, tt.wantCalls)
			}
			if p.Future().State().Done() && ctx.Err() == nil {
				t.Fatal("task context not done after resolution")
			}
		})
	}
}

func TestOnCancelKeepsTaskContextWorking(t *testing.T) {
	p := future.NewPromise[int]()
	ctx := p.Context(context.Background())
	calls := 0
	p.OnCancel(func() { calls++ })
	done := ctx.Done() // makes the real context after the hook was set
	p.Start()
	p.Future().Cancel()
	select {
	case <-done:
	default:
		t.Fatal("task context not done after Cancel of a running future")
	}
	if calls != 1 {
		t.Fatalf("OnCancel hook ran %d times, want 1", calls)
	}
	p.OnCancel(nil) // ignored
}

package pool_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var bg = context.Background()

// newPool returns a pool that is closed when the test ends.
func newPool(t *testing.T, n int, opts ...pool.Option) *pool.Pool {
	t.Helper()
	p, err := pool.New(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// gate is a task that blocks until released, for controlling pools.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{started: make(chan struct{}), release: make(chan struct{})} }

func (g *gate) task(ctx context.Context) (int, error) {
	close(g.started)
	select {
	case <-g.release:
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// checkInvariant asserts the Stats identity documented on Stats.
func checkInvariant(t *testing.T, s pool.Stats) {
	t.Helper()
	sum := uint64(s.Queued) + uint64(s.Running) + s.Completed + s.Failed + s.Cancelled
	if s.Submitted != sum {
		t.Fatalf("stats do not add up: submitted %d != queued %d + running %d + completed %d + failed %d + cancelled %d",
			s.Submitted, s.Queued, s.Running, s.Completed, s.Failed, s.Cancelled)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	cases := []struct {
		name string
		n    int
		opts []pool.Option
		want string
	}{
		{"zero workers", 0, nil, "maxWorkers"},
		{"negative workers", -3, nil, "maxWorkers"},
		{"negative queue", 1, []pool.Option{pool.WithQueueSize(-1)}, "WithQueueSize"},
		{"negative min", 1, []pool.Option{pool.WithMinWorkers(-1)}, "WithMinWorkers"},
		{"min above max", 2, []pool.Option{pool.WithMinWorkers(3)}, "exceeds"},
		{"zero idle timeout", 1, []pool.Option{pool.WithIdleTimeout(0)}, "WithIdleTimeout"},
		{"nil context", 1, []pool.Option{pool.WithContext(nilCtx)}, "WithContext"},
		{"unknown error mode", 1, []pool.Option{pool.WithErrorMode(7)}, "unknown mode"},
		{"nil option", 1, []pool.Option{nil}, "nil option"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := pool.New(tc.n, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, %v; want an error mentioning %q", p, err, tc.want)
			}
		})
	}
}

func TestSubmitReturnsTypedResults(t *testing.T) {
	p := newPool(t, 4)
	var fs []*future.Future[string]
	for i := range 100 {
		fs = append(fs, pool.Submit(bg, p, func(context.Context) (string, error) {
			return fmt.Sprint("v", i), nil
		}))
	}
	vals, err := future.All(bg, fs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		if v != fmt.Sprint("v", i) {
			t.Fatalf("vals[%d] = %q", i, v)
		}
	}
	if err := p.Wait(bg); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	checkInvariant(t, s)
	if s.Submitted != 100 || s.Completed != 100 || s.Running != 0 || s.Workers > 4 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestSubmitBadInputFailsTheFuture(t *testing.T) {
	p := newPool(t, 1)
	if _, err := pool.Submit[int](bg, p, nil).Wait(bg); err == nil || !strings.Contains(err.Error(), "nil task") {
		t.Fatalf("nil fn: %v", err)
	}
	if _, err := pool.Submit(bg, nil, func(context.Context) (int, error) { return 1, nil }).Wait(bg); err == nil {
		t.Fatal("nil pool accepted")
	}
	if _, err := pool.TrySubmit[int](p, nil); err == nil {
		t.Fatal("TrySubmit accepted a nil fn")
	}
	if err := p.Go(bg, nil); err == nil {
		t.Fatal("Go accepted a nil fn")
	}
	if err := p.TryGo(nil); err == nil {
		t.Fatal("TryGo accepted a nil fn")
	}
}

func TestPanicBecomesPanicErrorAndPoolSurvives(t *testing.T) {
	p := newPool(t, 1)
	f := pool.Submit(bg, p, func(context.Context) (int, error) { panic("kaboom") })
	_, err := f.Wait(bg)
	var pe *pool.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || len(pe.Stack) == 0 {
		t.Fatalf("err = %v, want *PanicError with value and stack", err)
	}
	if v, err := pool.Submit(bg, p, func(context.Context) (int, error) { return 2, nil }).Wait(bg); v != 2 || err != nil {
		t.Fatalf("pool did not survive the panic: %v, %v", v, err)
	}
	p.Wait(bg) // counters are updated just after a future resolves
	s := p.Stats()
	if s.Panicked != 1 || s.Failed != 1 || s.Completed != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestGoexitFailsTaskAndWorkerIsReplaced(t *testing.T) {
	p := newPool(t, 1, pool.WithQueueSize(4))
	g := newGate()
	blocker := pool.Submit(bg, p, g.task)
	<-g.started
	dies := pool.Submit(bg, p, func(context.Context) (int, error) { runtime.Goexit(); return 0, nil })
	after := pool.Submit(bg, p, func(context.Context) (int, error) { return 3, nil })
	close(g.release)
	if _, err := dies.Wait(bg); !errors.Is(err, pool.ErrGoexit) {
		t.Fatalf("Goexit task: %v", err)
	}
	if v, err := after.Wait(bg); v != 3 || err != nil {
		t.Fatalf("task after Goexit: %v, %v", v, err)
	}
	blocker.Wait(bg)
	p.Wait(bg)
	checkInvariant(t, p.Stats())
}

func TestCancelWhileQueuedNeverRuns(t *testing.T) {
	p := newPool(t, 1)
	g := newGate()
	pool.Submit(bg, p, g.task)
	<-g.started
	var ran atomic.Bool
	queued := pool.Submit(bg, p, func(context.Context) (int, error) { ran.Store(true); return 0, nil })
	if !queued.Cancel() {
		t.Fatal("Cancel of a queued task returned false")
	}
	close(g.release)
	if err := p.Wait(bg); err != nil {
		t.Fatal(err)
	}
	if ran.Load() {
		t.Fatal("a cancelled queued task ran")
	}
	if _, err := queued.Wait(bg); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	s := p.Stats()
	checkInvariant(t, s)
	if s.Cancelled != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestCancelWhileRunningCancelsTaskContext(t *testing.T) {
	p := newPool(t, 1)
	g := newGate()
	f := pool.Submit(bg, p, g.task)
	<-g.started
	if f.Cancel() {
		t.Fatal("Cancel of a running task returned true")
	}
	if _, err := f.Wait(bg); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if f.State() != future.Cancelled {
		t.Fatalf("state = %v", f.State())
	}
	p.Wait(bg) // counters are updated just after a future resolves
	if s := p.Stats(); s.Cancelled != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestTrySubmitReportsFull(t *testing.T) {
	p := newPool(t, 1, pool.WithQueueSize(1))
	g := newGate()
	pool.Submit(bg, p, g.task)
	<-g.started
	if _, err := pool.TrySubmit(p, func(context.Context) (int, error) { return 0, nil }); err != nil {
		t.Fatalf("first queued TrySubmit: %v", err)
	}
	if _, err := pool.TrySubmit(p, func(context.Context) (int, error) { return 0, nil }); !errors.Is(err, pool.ErrFull) {
		t.Fatalf("TrySubmit on a full queue: %v", err)
	}
	if err := p.TryGo(func(context.Context) error { return nil }); !errors.Is(err, pool.ErrFull) {
		t.Fatalf("TryGo on a full queue: %v", err)
	}
	close(g.release)
	p.Wait(bg)
	s := p.Stats()
	checkInvariant(t, s)
	if s.Rejected != 2 {
		t.Fatalf("Rejected = %d, want 2", s.Rejected)
	}
}

func TestSubmitBlocksUntilContextExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, 1, pool.WithQueueSize(0))
		g := newGate()
		pool.Submit(bg, p, g.task)
		<-g.started
		ctx, cancel := context.WithCancel(bg)
		done := make(chan error)
		go func() {
			_, err := pool.Submit(ctx, p, func(context.Context) (int, error) { return 0, nil }).Wait(bg)
			done <- err
		}()
		synctest.Wait() // the submitter is blocked for room
		if s := p.Stats(); s.Blocked != 1 {
			t.Fatalf("stats = %+v, want one blocked submitter", s)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("blocked Submit returned %v", err)
		}
		close(g.release)
		p.Wait(bg)
		if s := p.Stats(); s.Submitted != 1 || s.Rejected != 1 || s.Blocked != 0 {
			t.Fatalf("stats = %+v", s)
		}
	})
}

func TestBlockedSubmittersAreAdmittedInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, 1, pool.WithQueueSize(1))
		g := newGate()
		pool.Submit(bg, p, g.task)
		<-g.started
		var mu sync.Mutex
		var order []int
		record := func(i int) func(context.Context) (int, error) {
			return func(context.Context) (int, error) {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return i, nil
			}
		}
		pool.Submit(bg, p, record(0)) // fills the queue
		for i := 1; i <= 3; i++ {
			go pool.Submit(bg, p, record(i))
			synctest.Wait() // submitter i is blocked before i+1 starts
		}
		if s := p.Stats(); s.Blocked != 3 {
			t.Fatalf("stats = %+v", s)
		}
		close(g.release)
		if err := p.Wait(bg); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(order) != "[0 1 2 3]" {
			t.Fatalf("blocked submitters ran in order %v, want FIFO", order)
		}
		checkInvariant(t, p.Stats())
	})
}

func TestSubmitAfterShutdownFails(t *testing.T) {
	p := newPool(t, 2)
	if err := p.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Submit(bg, p, func(context.Context) (int, error) { return 0, nil }).Wait(bg); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("Submit after Shutdown: %v", err)
	}
	if err := p.Go(bg, func(context.Context) error { return nil }); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("Go after Shutdown: %v", err)
	}
	if err := p.Shutdown(bg); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close after Shutdown: %v", err)
	}
}

func TestShutdownRunsEverythingAccepted(t *testing.T) {
	p := newPool(t, 2)
	var ran atomic.Int64
	g := newGate()
	pool.Submit(bg, p, g.task)
	<-g.started
	var fs []*future.Future[int]
	for range 50 {
		fs = append(fs, pool.Submit(bg, p, func(context.Context) (int, error) { ran.Add(1); return 1, nil }))
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown with an ended ctx while busy: %v", err)
	}
	close(g.release)
	if err := p.Shutdown(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := future.All(bg, fs); err != nil || ran.Load() != 50 {
		t.Fatalf("after graceful shutdown ran %d/50, err %v", ran.Load(), err)
	}
	s := p.Stats()
	checkInvariant(t, s)
	if s.Workers != 0 {
		t.Fatalf("workers still alive after Shutdown: %+v", s)
	}
}

func TestCloseFailsQueuedAndCancelsRunning(t *testing.T) {
	p := newPool(t, 1)
	g := newGate()
	running := pool.Submit(bg, p, g.task)
	<-g.started
	queued := pool.Submit(bg, p, func(context.Context) (int, error) { return 0, nil })
	var goRan atomic.Bool
	if err := p.Go(bg, func(context.Context) error { goRan.Store(true); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := running.Wait(bg); !errors.Is(err, context.Canceled) {
		t.Fatalf("running task: %v", err)
	}
	if _, err := queued.Wait(bg); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("queued task: %v", err)
	}
	if queued.State() != future.Cancelled {
		t.Fatalf("queued state = %v", queued.State())
	}
	if goRan.Load() {
		t.Fatal("a queued Go task ran after Close")
	}
	if err := p.Wait(bg); !errors.Is(err, pool.ErrClosed) || !strings.Contains(err.Error(), "1 queued Go tasks dropped") {
		t.Fatalf("Wait after Close = %v, want the dropped Go task reported", err)
	}
	s := p.Stats()
	checkInvariant(t, s)
	if s.Cancelled != 3 || s.Workers != 0 {
		t.Fatalf("stats = %+v", s)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestCloseRejectsBlockedSubmitters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPool(t, 1, pool.WithQueueSize(0))
		g := newGate()
		pool.Submit(bg, p, g.task)
		<-g.started
		done := make(chan error)
		go func() { done <- p.Go(bg, func(context.Context) error { return nil }) }()
		synctest.Wait()
		p.Close()
		if err := <-done; !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("blocked Go after Close: %v", err)
		}
	})
}

func TestWaitReportsGoErrorsFirstOrAll(t *testing.T) {
	e1, e2 := errors.New("e1"), errors.New("e2")
	for _, tc := range []struct {
		mode    pool.ErrorMode
		wantAll bool
	}{{pool.FirstError, false}, {pool.AllErrors, true}} {
		p := newPool(t, 1, pool.WithErrorMode(tc.mode))
		p.Go(bg, func(context.Context) error { return e1 })
		p.Go(bg, func(context.Context) error { return e2 })
		p.Go(bg, func(context.Context) error { panic("p") })
		err := p.Wait(bg)
		if !errors.Is(err, e1) {
			t.Fatalf("mode %v: Wait = %v, want e1", tc.mode, err)
		}
		var pe *pool.PanicError
		if got := errors.Is(err, e2) && errors.As(err, &pe); got != tc.wantAll {
			t.Fatalf("mode %v: Wait = %v", tc.mode, err)
		}
		if err := p.Wait(bg); err != nil {
			t.Fatalf("second Wait = %v, want errors reset", err)
		}
		// The pool is reusable after Wait.
		if err := p.Go(bg, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(bg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestWaitHonoursContext(t *testing.T) {
	p := newPool(t, 1)
	g := newGate()
	pool.Submit(bg, p, g.task)
	<-g.started
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := p.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v", err)
	}
	close(g.release)
}

func TestTaskContexts(t *testing.T) {
	type key struct{}
	base, cancelBase := context.WithCancel(context.WithValue(bg, key{}, "pool"))
	defer cancelBase()
	p := newPool(t, 1, pool.WithContext(base))

	// Submit: the submitter's context is the task's.
	sub := context.WithValue(bg, key{}, "submitter")
	v, err := pool.Submit(sub, p, func(ctx context.Context) (any, error) { return ctx.Value(key{}), nil }).Wait(bg)
	if v != "submitter" || err != nil {
		t.Fatalf("Submit task saw %v, %v", v, err)
	}
	// Go: the pool's context.
	seen := make(chan any, 1)
	p.Go(bg, func(ctx context.Context) error { seen <- ctx.Value(key{}); return nil })
	if got := <-seen; got != "pool" {
		t.Fatalf("Go task saw %v", got)
	}
}

func TestSubmitContextCancelsRunningTask(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithCancel(bg)
	g := newGate()
	f := pool.Submit(ctx, p, g.task)
	<-g.started
	cancel()
	if _, err := f.Wait(bg); !errors.Is(err, context.Canceled) || f.State() != future.Cancelled {
		t.Fatalf("Wait = %v, state %v", err, f.State())
	}
}

func TestSubmitContextEndedWhileQueuedNeverRuns(t *testing.T) {
	p := newPool(t, 1)
	g := newGate()
	pool.Submit(bg, p, g.task)
	<-g.started
	ctx, cancel := context.WithTimeout(bg, time.Hour)
	var ran atomic.Bool
	f := pool.Submit(ctx, p, func(context.Context) (int, error) { ran.Store(true); return 0, nil })
	cancel()
	close(g.release)
	if _, err := f.Wait(bg); !errors.Is(err, context.Canceled) || f.State() != future.Cancelled {
		t.Fatalf("Wait = %v, state %v", err, f.State())
	}
	p.Wait(bg)
	if ran.Load() {
		t.Fatal("a task whose context ended while queued ran")
	}
	checkInvariant(t, p.Stats())
}

func TestPoolContextCancelsRunningTasks(t *testing.T) {
	base, cancelBase := context.WithCancel(bg)
	p := newPool(t, 2, pool.WithContext(base))
	g := newGate()
	f := pool.Submit(bg, p, g.task)
	<-g.started
	goDone := make(chan error, 1)
	p.Go(bg, func(ctx context.Context) error { <-ctx.Done(); goDone <- ctx.Err(); return nil })
	cancelBase()
	if _, err := f.Wait(bg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit task after the pool context ended: %v", err)
	}
	if err := <-goDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("Go task: %v", err)
	}
	p.Close()
}

func TestWorkersRetireWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := pool.New(3, pool.WithIdleTimeout(time.Second), pool.WithMinWorkers(1))
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var fs []*future.Future[int]
		release := make(chan struct{})
		for range 3 {
			fs = append(fs, pool.Submit(bg, p, func(context.Context) (int, error) { <-release; return 1, nil }))
		}
		synctest.Wait()
		if s := p.Stats(); s.Workers != 3 || s.Running != 3 {
			t.Fatalf("busy stats = %+v", s)
		}
		close(release)
		future.All(bg, fs)
		synctest.Wait()
		if s := p.Stats(); s.Workers != 3 || s.Idle != 3 {
			t.Fatalf("just idle: %+v", s)
		}
		time.Sleep(999 * time.Millisecond) // fake time inside the bubble
		synctest.Wait()
		if s := p.Stats(); s.Workers != 3 {
			t.Fatalf("retired before the idle timeout: %+v", s)
		}
		time.Sleep(501 * time.Millisecond) // retirement comes within 1.5x the timeout
		synctest.Wait()
		if s := p.Stats(); s.Workers != 1 || s.Idle != 1 {
			t.Fatalf("after idle timeout: %+v, want only the minimum worker", s)
		}
		// The warm worker still serves.
		if v, _ := pool.Submit(bg, p, func(context.Context) (int, error) { return 7, nil }).Wait(bg); v != 7 {
			t.Fatal("warm worker did not run the task")
		}
	})
}

func TestMinWorkersStartWarm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, err := pool.New(4, pool.WithMinWorkers(2))
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := p.Stats(); s.Workers != 2 || s.Idle != 2 {
			t.Fatalf("stats = %+v", s)
		}
		p.Close()
		if s := p.Stats(); s.Workers != 0 {
			t.Fatalf("after Close: %+v", s)
		}
	})
}

func ExampleSubmit() {
	p, err := pool.New(4)
	if err != nil {
		panic(err)
	}
	defer p.Close()

	square := func(n int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) { return n * n, nil }
	}
	var fs []*future.Future[int]
	for i := 1; i <= 5; i++ {
		fs = append(fs, pool.Submit(context.Background(), p, square(i)))
	}
	squares, err := future.All(context.Background(), fs)
	fmt.Println(squares, err)
	// Output: [1 4 9 16 25] <nil>
}

func ExamplePool_Go() {
	p, _ := pool.New(2)
	defer p.Close()
	var total atomic.Int64
	for i := 1; i <= 100; i++ {
		p.Go(context.Background(), func(context.Context) error {
			total.Add(int64(i))
			return nil
		})
	}
	err := p.Wait(context.Background())
	fmt.Println(total.Load(), err)
	// Output: 5050 <nil>
}

func ExamplePool_Shutdown() {
	p, _ := pool.New(2)
	f := pool.Submit(context.Background(), p, func(context.Context) (string, error) { return "finished", nil })
	p.Shutdown(context.Background()) // runs everything accepted, then stops
	v, _ := f.Wait(context.Background())
	_, err := pool.Submit(context.Background(), p, func(context.Context) (string, error) { return "", nil }).Wait(context.Background())
	fmt.Println(v, err)
	// Output: finished pool: closed
}

// nilCtx is a nil context kept in a variable, to test that WithContext
// rejects it.
var nilCtx context.Context

// countingReporter is a Reporter that counts calls.
type countingReporter struct{ total, done, failed atomic.Int64 }

func (c *countingReporter) AddTotal(n int64)  { c.total.Add(n) }
func (c *countingReporter) Add(n int64)       { c.done.Add(n) }
func (c *countingReporter) AddFailed(n int64) { c.failed.Add(n) }

func TestProgressReporterSeesEveryTask(t *testing.T) {
	rep := &countingReporter{}
	p := newPool(t, 2, pool.WithProgress(rep))
	for i := range 30 {
		pool.Submit(bg, p, func(context.Context) (int, error) {
			if i%3 == 0 {
				return 0, errors.New("x")
			}
			return i, nil
		})
	}
	p.Wait(bg)
	if rep.total.Load() != 30 || rep.done.Load() != 20 || rep.failed.Load() != 10 {
		t.Fatalf("reporter saw total %d done %d failed %d", rep.total.Load(), rep.done.Load(), rep.failed.Load())
	}
	if _, err := pool.New(1, pool.WithProgress(nil)); err == nil {
		t.Fatal("WithProgress(nil) accepted")
	}
}

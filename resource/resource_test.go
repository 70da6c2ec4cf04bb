package resource_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/resource"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// conn is a fake resource that records its own life.
type conn struct {
	id        int
	destroyed bool
}

// factory builds numbered conns and remembers which were destroyed.
type factory struct {
	mu        sync.Mutex
	built     int
	destroyed []int
	fail      error         // returned by construct when set
	gate      chan struct{} // construct waits on it when set
}

func (f *factory) construct(ctx context.Context) (*conn, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.built++
	return &conn{id: f.built}, nil
}

func (f *factory) destroy(c *conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.destroyed {
		panic("conn destroyed twice")
	}
	c.destroyed = true
	f.destroyed = append(f.destroyed, c.id)
}

func (f *factory) destroyedIDs() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(slices.Values(f.destroyed))
}

func newPool(t *testing.T, f *factory, maxSize int, opts ...resource.Option) *resource.Pool[*conn] {
	t.Helper()
	p, err := resource.New(maxSize, f.construct, f.destroy, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func closePool(t *testing.T, p *resource.Pool[*conn]) {
	t.Helper()
	if err := p.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func acquire(t *testing.T, p *resource.Pool[*conn]) resource.Resource[*conn] {
	t.Helper()
	r, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	return r
}

func release(t *testing.T, r resource.Resource[*conn]) {
	t.Helper()
	if err := r.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

func TestNewRejectsInvalidArguments(t *testing.T) {
	f := &factory{}
	tests := []struct {
		name    string
		maxSize int
		opts    []resource.Option
		nilCons bool
		nilDest bool
		want    string
	}{
		{name: "zero max size", maxSize: 0, want: "max size 0"},
		{name: "negative max size", maxSize: -2, want: "max size -2"},
		{name: "nil constructor", maxSize: 1, nilCons: true, want: "nil constructor"},
		{name: "nil destructor", maxSize: 1, nilDest: true, want: "nil destructor"},
		{name: "nil option", maxSize: 1, opts: []resource.Option{nil}, want: "nil option"},
		{name: "negative min idle", maxSize: 1, opts: []resource.Option{resource.WithMinIdle(-1)}, want: "min idle -1"},
		{name: "min idle above max", maxSize: 2, opts: []resource.Option{resource.WithMinIdle(3)}, want: "above max size"},
		{name: "negative idle timeout", maxSize: 1, opts: []resource.Option{resource.WithIdleTimeout(-time.Second)}, want: "idle timeout"},
		{name: "negative max lifetime", maxSize: 1, opts: []resource.Option{resource.WithMaxLifetime(-1)}, want: "max lifetime"},
		{name: "zero construct timeout", maxSize: 1, opts: []resource.Option{resource.WithConstructTimeout(0)}, want: "construct timeout"},
		{name: "nil health check", maxSize: 1, opts: []resource.Option{resource.WithHealthCheck[*conn](nil)}, want: "nil health check"},
		{name: "health check of another type", maxSize: 1,
			opts: []resource.Option{resource.WithHealthCheck(func(context.Context, string) error { return nil })},
			want: "health check takes string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			construct, destroy := f.construct, f.destroy
			if tt.nilCons {
				construct = nil
			}
			if tt.nilDest {
				destroy = nil
			}
			p, err := resource.New(tt.maxSize, construct, destroy, tt.opts...)
			if !errors.Is(err, resource.ErrInvalidOption) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an ErrInvalidOption mentioning %q", err, tt.want)
			}
			if p != nil {
				t.Fatal("New returned a pool along with an error")
			}
		})
	}
}

func TestPoolBuildsLazilyAndReusesReleasedResources(t *testing.T) {
	f := &factory{}
	p := newPool(t, f, 2)
	if s := p.Stats(); s.Total != 0 || s.Constructed != 0 {
		t.Fatalf("a new pool built resources: %+v", s)
	}
	r := acquire(t, p)
	first := r.Value()
	if r.CreatedAt().IsZero() {
		t.Fatal("CreatedAt is zero")
	}
	release(t, r)
	r = acquire(t, p)
	if r.Value() != first {
		t.Fatalf("got conn %d after releasing conn %d", r.Value().id, first.id)
	}
	s := p.Stats()
	if s.Constructed != 1 || s.Acquires != 2 || s.InUse != 1 || s.Idle != 0 || s.Total != 1 || s.MaxSize != 2 {
		t.Fatalf("stats: %+v", s)
	}
	release(t, r)
	closePool(t, p)
	if got := f.destroyedIDs(); !slices.Equal(got, []int{1}) {
		t.Fatalf("destroyed %v, want [1]", got)
	}
}

func TestReleasedResourceGoesToTheLongestWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 1)
		defer closePool(t, p)
		held := acquire(t, p)
		order := make(chan int, 3)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Go(func() {
				r, err := p.Acquire(context.Background())
				if err != nil {
					t.Errorf("waiter %d: %v", i, err)
					return
				}
				order <- i
				_ = r.Release()
			})
			synctest.Wait() // waiter i is in line before waiter i+1 arrives
		}
		if s := p.Stats(); s.Waits != 4 || s.Total != 1 { // the first Acquire waited for its construction
			t.Fatalf("with three waiters on a pool of one: %+v", s)
		}
		release(t, held)
		wg.Wait()
		close(order)
		if got := slices.Collect(func(yield func(int) bool) {
			for i := range order {
				yield(i)
			}
		}); !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("waiters served in order %v", got)
		}
		if s := p.Stats(); s.Constructed != 1 || s.WaitDuration != 0 {
			// No fake time passes in this bubble, so the wait took zero.
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestLoanEndsExactlyOnce(t *testing.T) {
	f := &factory{}
	p := newPool(t, f, 1)
	defer closePool(t, p)
	r := acquire(t, p)
	copyOfR := r
	release(t, r)
	if err := copyOfR.Release(); !errors.Is(err, resource.ErrReleased) {
		t.Fatalf("second Release: got %v, want ErrReleased", err)
	}
	if err := r.Destroy(); !errors.Is(err, resource.ErrReleased) {
		t.Fatalf("Destroy after Release: got %v, want ErrReleased", err)
	}
	r2 := acquire(t, p) // the same conn, lent again
	if err := r.Release(); !errors.Is(err, resource.ErrReleased) {
		t.Fatalf("stale handle released the new loan: %v", err)
	}
	if s := p.Stats(); s.InUse != 1 {
		t.Fatalf("InUse = %d after a stale Release, want 1", s.InUse)
	}
	release(t, r2)
	var zero resource.Resource[*conn]
	if err := zero.Release(); !errors.Is(err, resource.ErrReleased) {
		t.Fatalf("zero Resource Release: %v", err)
	}
	if err := zero.Destroy(); !errors.Is(err, resource.ErrReleased) {
		t.Fatalf("zero Resource Destroy: %v", err)
	}
	if zero.Value() != nil || !zero.CreatedAt().IsZero() {
		t.Fatal("zero Resource has a value")
	}
}

func TestDestroyRetiresTheResourceAndAWaiterGetsANewOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 1)
		defer closePool(t, p)
		r := acquire(t, p)
		got := make(chan *conn, 1)
		go func() {
			r, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				got <- nil
				return
			}
			got <- r.Value()
			_ = r.Release()
		}()
		synctest.Wait()
		if err := r.Destroy(); err != nil {
			t.Fatal(err)
		}
		if c := <-got; c == nil || c.id != 2 {
			t.Fatalf("waiter got %+v, want conn 2", c)
		}
		if !r.Value().destroyed {
			t.Fatal("Destroy did not call the destructor")
		}
		synctest.Wait()
		if s := p.Stats(); s.Destroyed != 1 || s.Constructed != 2 || s.Total != 1 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestCancelledAcquireLeavesItsConstructionToThePool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{gate: make(chan struct{})}
		p := newPool(t, f, 1)
		defer closePool(t, p)
		ctx, cancel := context.WithCancel(context.Background())
		errs := make(chan error, 1)
		go func() {
			_, err := p.Acquire(ctx)
			errs <- err
		}()
		synctest.Wait()
		if s := p.Stats(); s.Constructing != 1 {
			t.Fatalf("Constructing = %d, want 1", s.Constructing)
		}
		cancel()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Acquire: got %v", err)
		}
		close(f.gate) // the construction finishes after its caller left
		synctest.Wait()
		s := p.Stats()
		if s.Idle != 1 || s.Total != 1 || s.Constructing != 0 || s.CancelledAcquires != 1 || s.Acquires != 0 {
			t.Fatalf("stats after the orphaned construction: %+v", s)
		}
		r := acquire(t, p)
		if r.Value().id != 1 {
			t.Fatalf("got conn %d, want the orphaned conn 1", r.Value().id)
		}
		release(t, r)
	})
}

func TestOrphanedConstructionGoesToTheNextWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{gate: make(chan struct{})}
		p := newPool(t, f, 1)
		defer closePool(t, p)
		ctx, cancel := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := p.Acquire(ctx)
			first <- err
		}()
		synctest.Wait()
		second := make(chan resource.Resource[*conn], 1)
		go func() {
			r, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			second <- r
		}()
		synctest.Wait()
		cancel()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Fatalf("first Acquire: %v", err)
		}
		close(f.gate)
		r := <-second
		if r.Value() == nil || r.Value().id != 1 {
			t.Fatalf("second waiter got %+v, want conn 1", r.Value())
		}
		release(t, r)
		if s := p.Stats(); s.Constructed != 1 {
			t.Fatalf("Constructed = %d, want 1", s.Constructed)
		}
	})
}

func TestConstructTimeoutBoundsAConstruction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{gate: make(chan struct{})} // never opened
		p := newPool(t, f, 1, resource.WithConstructTimeout(time.Second))
		defer closePool(t, p)
		start := time.Now()
		_, err := p.Acquire(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "resource: construct: ") {
			t.Fatalf("Acquire: got %v, want a construct error wrapping DeadlineExceeded", err)
		}
		if took := time.Since(start); took != time.Second {
			t.Fatalf("construction gave up after %v, want 1s", took)
		}
		if s := p.Stats(); s.ConstructErrors != 1 || s.Total != 0 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestConstructErrorsReachTheAcquirer(t *testing.T) {
	errDial := errors.New("dial refused")
	tests := []struct {
		name      string
		construct func(context.Context) (*conn, error)
		want      string
	}{
		{"error", func(context.Context) (*conn, error) { return nil, errDial }, "resource: construct: dial refused"},
		{"panic", func(context.Context) (*conn, error) { panic("boom") }, "resource: construct panicked: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := resource.New(2, tt.construct, func(*conn) {})
			if err != nil {
				t.Fatal(err)
			}
			defer closePool(t, p)
			_, err = p.Acquire(context.Background())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Acquire: got %v, want %q", err, tt.want)
			}
			if tt.name == "error" && !errors.Is(err, errDial) {
				t.Fatal("the constructor's error is not wrapped")
			}
			if s := p.Stats(); s.Total != 0 || s.ConstructErrors != 1 {
				t.Fatalf("stats: %+v", s)
			}
		})
	}
}

func TestAcquireReturnsCtxErr(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 1)
		defer closePool(t, p)
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := p.Acquire(done); !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire with a done ctx: %v", err)
		}
		r := acquire(t, p)
		ctx, cancel2 := context.WithTimeout(context.Background(), time.Minute)
		defer cancel2()
		if _, err := p.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Acquire on an exhausted pool past its deadline: %v", err)
		}
		s := p.Stats()
		if s.CancelledAcquires != 2 || s.Waits != 2 || s.WaitDuration != time.Minute {
			t.Fatalf("stats: %+v", s)
		}
		release(t, r)
	})
}

func TestHealthCheckDestroysUnhealthyIdleResources(t *testing.T) {
	f := &factory{}
	healthy := func(_ context.Context, c *conn) error {
		if c.id == 1 {
			return errors.New("connection reset")
		}
		return nil
	}
	p := newPool(t, f, 2, resource.WithHealthCheck(healthy))
	defer closePool(t, p)
	a, b := acquire(t, p), acquire(t, p) // conns 1 and 2, fresh: not checked
	release(t, b)
	release(t, a) // conn 1 is now the most recently used idle resource
	r := acquire(t, p)
	if r.Value().id != 2 {
		t.Fatalf("got conn %d, want healthy conn 2", r.Value().id)
	}
	if got := f.destroyedIDs(); !slices.Equal(got, []int{1}) {
		t.Fatalf("destroyed %v, want [1]", got)
	}
	if s := p.Stats(); s.HealthCheckFailed != 1 || s.Acquires != 3 || s.Total != 1 {
		t.Fatalf("stats: %+v", s)
	}
	release(t, r)
}

func TestHealthCheckCutShortByCtxKeepsTheResource(t *testing.T) {
	f := &factory{}
	ctx, cancel := context.WithCancel(context.Background())
	check := func(ctx context.Context, _ *conn) error {
		cancel() // the borrower gives up during the check
		return ctx.Err()
	}
	p := newPool(t, f, 1, resource.WithHealthCheck(check))
	defer closePool(t, p)
	release(t, acquire(t, p))
	if _, err := p.Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire: got %v, want context.Canceled", err)
	}
	if s := p.Stats(); s.Idle != 1 || s.Destroyed != 0 || s.HealthCheckFailed != 0 || s.Acquires != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestIdleTimeoutDestroysIdleResourcesAboveTheMinimum(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 3, resource.WithIdleTimeout(time.Minute), resource.WithMinIdle(1))
		defer closePool(t, p)
		synctest.Wait() // min idle: conn 1 built in the background
		rs := []resource.Resource[*conn]{acquire(t, p), acquire(t, p), acquire(t, p)}
		for _, r := range rs {
			release(t, r)
		}
		time.Sleep(59 * time.Second) // fake time: advances the bubble's clock
		synctest.Wait()
		if s := p.Stats(); s.Idle != 3 {
			t.Fatalf("before the timeout: %+v", s)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		s := p.Stats()
		if s.Idle != 1 || s.IdleExpired != 2 || s.Destroyed != 2 || s.Total != 1 {
			t.Fatalf("after the timeout: %+v", s)
		}
		time.Sleep(time.Hour) // the minimum stays
		synctest.Wait()
		if s := p.Stats(); s.Idle != 1 {
			t.Fatalf("an hour later: %+v", s)
		}
	})
}

func TestIdleTimeoutIsCheckedBeforeLending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 1, resource.WithIdleTimeout(time.Minute))
		defer closePool(t, p)
		release(t, acquire(t, p))
		time.Sleep(2 * time.Minute)
		r := acquire(t, p)
		if r.Value().id != 2 {
			t.Fatalf("got conn %d, want a new conn 2", r.Value().id)
		}
		release(t, r)
		if s := p.Stats(); s.IdleExpired != 1 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestMaxLifetimeRetiresOldResources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 2, resource.WithMaxLifetime(time.Hour))
		defer closePool(t, p)
		old := acquire(t, p)      // conn 1, borrowed past its lifetime
		release(t, acquire(t, p)) // conn 2, idle past its lifetime
		time.Sleep(time.Hour)     // fake time
		synctest.Wait()           // the sweep retires idle conn 2
		if got := f.destroyedIDs(); !slices.Equal(got, []int{2}) {
			t.Fatalf("destroyed %v, want [2]: a borrowed conn is never taken away", got)
		}
		release(t, old) // past its lifetime: destroyed, not kept
		s := p.Stats()
		if s.LifetimeExpired != 2 || s.Total != 0 || s.Idle != 0 {
			t.Fatalf("stats: %+v", s)
		}
		release(t, acquire(t, p)) // conn 3, fresh
		time.Sleep(30 * time.Minute)
		synctest.Wait()
		if s := p.Stats(); s.Idle != 1 {
			t.Fatalf("a half-hour-old conn was retired: %+v", s)
		}
	})
}

func TestMinIdleKeepsResourcesReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 3, resource.WithMinIdle(2))
		defer closePool(t, p)
		synctest.Wait()
		if s := p.Stats(); s.Idle != 2 || s.Constructed != 2 {
			t.Fatalf("after New: %+v", s)
		}
		r := acquire(t, p)
		synctest.Wait()
		if s := p.Stats(); s.Idle != 2 || s.InUse != 1 || s.Total != 3 {
			t.Fatalf("after one Acquire: %+v", s)
		}
		release(t, r) // the pool is at its maximum: nothing more is built
		if s := p.Stats(); s.Idle != 3 || s.Total != 3 {
			t.Fatalf("after Release: %+v", s)
		}
	})
}

func TestCloseWaitsForBorrowedResources(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 2)
		r := acquire(t, p)
		release(t, acquire(t, p)) // conn 2... or 1; one is idle, one lent
		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-closed:
			t.Fatalf("Close returned %v while a resource was borrowed", err)
		default:
		}
		if got := len(f.destroyedIDs()); got != 1 {
			t.Fatalf("Close destroyed %d idle resources, want 1", got)
		}
		if _, err := p.Acquire(context.Background()); !errors.Is(err, resource.ErrClosed) {
			t.Fatalf("Acquire on a closing pool: %v", err)
		}
		release(t, r) // destroyed on the way back
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		if got := f.destroyedIDs(); len(got) != 2 {
			t.Fatalf("destroyed %v, want both", got)
		}
		closePool(t, p) // idempotent
	})
}

func TestCloseHonoursCtxAndCanBeCalledAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		p := newPool(t, f, 1)
		r := acquire(t, p)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close with a resource out: got %v, want DeadlineExceeded", err)
		}
		release(t, r)
		closePool(t, p)
		if s := p.Stats(); s.Total != 0 || s.Destroyed != 1 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestCloseFailsWaitersAndCancelsConstructions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{gate: make(chan struct{})} // constructions hang until cancelled
		p := newPool(t, f, 1)
		errs := make(chan error, 2)
		for range 2 {
			go func() {
				_, err := p.Acquire(context.Background())
				errs <- err
			}()
		}
		synctest.Wait()
		closePool(t, p)
		for range 2 {
			if err := <-errs; !errors.Is(err, resource.ErrClosed) {
				t.Fatalf("waiting Acquire after Close: %v", err)
			}
		}
		if s := p.Stats(); s.Total != 0 || s.ConstructErrors != 1 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

func TestConstructionFinishingAfterCloseIsDestroyed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var destroyed []string
		construct := func(context.Context) (string, error) {
			<-gate // ignores its context
			return "late", nil
		}
		p, err := resource.New(1, construct, func(s string) { destroyed = append(destroyed, s) })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _, _ = p.Acquire(ctx) }()
		synctest.Wait()
		cancel()
		closeCtx, cancelClose := context.WithTimeout(context.Background(), time.Second)
		defer cancelClose()
		if err := p.Close(closeCtx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Close while a constructor ignores its ctx: %v", err)
		}
		close(gate)
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(destroyed, []string{"late"}) {
			t.Fatalf("destroyed %v", destroyed)
		}
	})
}

func TestHealthCheckRunsOnEveryLoanButTheFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &factory{}
		var checked []int
		check := func(_ context.Context, c *conn) error {
			checked = append(checked, c.id)
			return nil
		}
		p := newPool(t, f, 1, resource.WithHealthCheck(check))
		defer closePool(t, p)
		held := acquire(t, p) // fresh: not checked
		got := make(chan resource.Resource[*conn], 1)
		go func() {
			r, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			got <- r
		}()
		synctest.Wait()
		release(t, held) // handed straight to the waiter, which checks it
		release(t, <-got)
		release(t, acquire(t, p)) // from the idle set: checked
		if !slices.Equal(checked, []int{1, 1}) {
			t.Fatalf("health check ran on %v, want [1 1]", checked)
		}
	})
}

func TestDestructorPanicReachesTheCallerAndKeepsTheBooks(t *testing.T) {
	p, err := resource.New(1,
		func(context.Context) (int, error) { return 7, nil },
		func(int) { panic("destructor failed") })
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if v := recover(); v != "destructor failed" {
				t.Fatalf("recovered %v, want the destructor's panic", v)
			}
		}()
		_ = r.Destroy()
	}()
	if s := p.Stats(); s.Total != 0 || s.Destroyed != 1 {
		t.Fatalf("stats after a panicking destructor: %+v", s)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/proc"
)

// mgrArgs is what the Map's cross-process tests pass to their workers.
type mgrArgs struct {
	M *Map[int64]
	N int
}

// mgrOpsResult is what mgrOps saw in the worker.
type mgrOpsResult struct {
	Got      int64
	Found    bool
	Sum      int64
	Swapped  bool
	Deleted  bool
	Snapshot map[string]int64
	PID      int
}

// Worker functions of the Map's tests, registered at package level.
var (
	mgrOps = proc.Register("ipc.test.mgr-ops", func(ctx context.Context, a mgrArgs) (mgrOpsResult, error) {
		var r mgrOpsResult
		var err error
		if r.Got, r.Found, err = a.M.Get(ctx, "parent"); err != nil {
			return r, err
		}
		if err = a.M.Set(ctx, "worker", r.Got+1); err != nil {
			return r, err
		}
		if r.Sum, err = a.M.Add(ctx, "count", 5); err != nil {
			return r, err
		}
		if r.Swapped, err = a.M.CompareAndSwap(ctx, "cas", 1, 2); err != nil {
			return r, err
		}
		if r.Deleted, err = a.M.Delete(ctx, "gone"); err != nil {
			return r, err
		}
		r.Snapshot, err = a.M.Snapshot(ctx)
		r.PID = os.Getpid()
		return r, err
	})
	mgrAddN = proc.Register("ipc.test.mgr-add", func(ctx context.Context, a mgrArgs) (int, error) {
		for range a.N {
			if _, err := a.M.Add(ctx, "count", 1); err != nil {
				return 0, err
			}
		}
		return os.Getpid(), nil
	})
	// mgrLockedInc is the seed's ProgressTracker discipline: a
	// read-modify-write under the named lock.
	mgrLockedInc = proc.Register("ipc.test.mgr-locked-inc", func(ctx context.Context, a mgrArgs) (int, error) {
		for range a.N {
			if err := a.M.Lock(ctx, "l"); err != nil {
				return 0, err
			}
			v, _, err := a.M.Get(ctx, "n")
			if err == nil {
				err = a.M.Set(ctx, "n", v+1)
			}
			if err := errors.Join(err, a.M.Unlock("l")); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	// mgrHold takes the lock, starts an update, says so and waits to be
	// killed.
	mgrHold = proc.Register("ipc.test.mgr-hold", func(ctx context.Context, a mgrArgs) (int, error) {
		if err := a.M.Lock(ctx, "l"); err != nil {
			return 0, err
		}
		if err := a.M.Set(ctx, "dirty", 1); err != nil {
			return 0, err
		}
		fmt.Println("locked")
		<-ctx.Done()
		return 0, ctx.Err()
	})
	// mgrWaiter says it is about to lock, locks, expects the dead-holder
	// report, repairs and unlocks; it returns the dead holder's pid.
	mgrWaitLock = proc.Register("ipc.test.mgr-waiter", func(ctx context.Context, a mgrArgs) (int, error) {
		fmt.Println("locking")
		err := a.M.Lock(ctx, "l")
		var dead *OwnerDeadError
		if !errors.As(err, &dead) || dead.Name != "l" {
			return 0, fmt.Errorf("Lock = %v, want an *OwnerDeadError", err)
		}
		if _, err := a.M.Delete(ctx, "dirty"); err != nil {
			return 0, err
		}
		return dead.PID, a.M.Unlock("l")
	})
	// mgrBlocked waits for the lock the parent holds; it returns how its
	// Lock and a later Get ended.
	mgrBlocked = proc.Register("ipc.test.mgr-blocked", func(ctx context.Context, a mgrArgs) (string, error) {
		fmt.Println("locking")
		lockErr := a.M.Lock(ctx, "l")
		_, _, getErr := a.M.Get(ctx, "k")
		return fmt.Sprintf("lock closed: %v, get closed: %v", errors.Is(lockErr, ErrClosed), errors.Is(getErr, ErrClosed)), nil
	})
	// mgrLockTimeout waits for the lock the parent holds until its own
	// context ends.
	mgrLockTimeout = proc.Register("ipc.test.mgr-lock-timeout", func(ctx context.Context, a mgrArgs) (string, error) {
		tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		err := a.M.Lock(tctx, "l")
		return fmt.Sprintf("deadline: %v", errors.Is(err, context.DeadlineExceeded)), nil
	})
)

// mgrLimits checks, in a worker, the errors a worker can get that the
// parent cannot: a request or a reply larger than the Map's message
// limit, and an Unlock of a lock the parent holds.
var mgrLimits = proc.Register("ipc.test.mgr-limits", func(ctx context.Context, a mgrBigArgs) (string, error) {
	setErr := a.M.Set(ctx, "big", make([]byte, 200))
	_, snapErr := a.M.Snapshot(ctx)
	unlockErr := a.M.Unlock("l")
	_, _, getErr := a.M.Get(ctx, "small")
	return fmt.Sprintf("set too large: %v, snapshot too large: %v, unlock not held: %v, get: %v",
		errors.Is(setErr, ErrTooLarge), errors.Is(snapErr, ErrTooLarge), errors.Is(unlockErr, ErrNotHeld), getErr), nil
})

// mgrBigArgs carries a Map of byte slices.
type mgrBigArgs struct{ M *Map[[]byte] }

// mgrSignal is a worker's stdout that closes seen at the first write.
type mgrSignal struct {
	once sync.Once
	seen chan struct{}
}

func newMgrSignal() *mgrSignal { return &mgrSignal{seen: make(chan struct{})} }

func (w *mgrSignal) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.seen) })
	return len(p), nil
}

// mgrStart starts f(a) in a new process; the test's cleanup kills it if
// it still runs and waits for it.
func mgrStart[Out any](t *testing.T, f *proc.Func[mgrArgs, Out], a mgrArgs, opts ...proc.Option) *proc.Process[Out] {
	t.Helper()
	p, err := proc.Start(context.Background(), f, a, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(context.Background())
	})
	return p
}

// A worker sees the parent's entries and the parent sees the worker's;
// every operation works across the process boundary.
func TestMapWorkerOperationsAcrossProcesses(t *testing.T) {
	checkNoFDLeak(t)
	ctx := context.Background()
	m := mgrNew[int64](t)
	m.Set(ctx, "parent", 41)
	m.Set(ctx, "cas", 1)
	m.Set(ctx, "gone", 0)
	p := mgrStart(t, mgrOps, mgrArgs{M: m})
	r, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.PID == os.Getpid() || r.Got != 41 || !r.Found || r.Sum != 5 || !r.Swapped || !r.Deleted {
		t.Fatalf("worker saw %+v", r)
	}
	want := map[string]int64{"parent": 41, "worker": 42, "count": 5, "cas": 2}
	if !reflect.DeepEqual(r.Snapshot, want) {
		t.Fatalf("worker's snapshot %v, want %v", r.Snapshot, want)
	}
	if snap, _ := m.Snapshot(ctx); !reflect.DeepEqual(snap, want) {
		t.Fatalf("parent's snapshot %v, want %v", snap, want)
	}
}

// Adds from two processes and the parent at once lose nothing.
func TestMapAddFromTwoProcessesAndTheParentLosesNothing(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	const n = 3000
	a := mgrStart(t, mgrAddN, mgrArgs{M: m, N: n})
	b := mgrStart(t, mgrAddN, mgrArgs{M: m, N: n})
	for range n {
		if _, err := m.Add(ctx, "count", 1); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*proc.Process[int]{a, b} {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, _, _ := m.Get(ctx, "count"); v != 3*n {
		t.Fatalf("count = %d, want %d", v, 3*n)
	}
}

// The seed's ProgressTracker discipline, Lock + Get + Set + Unlock, from
// two processes: exact.
func TestMapLockedIncrementsFromTwoProcessesAreExact(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	const n = 500
	a := mgrStart(t, mgrLockedInc, mgrArgs{M: m, N: n})
	b := mgrStart(t, mgrLockedInc, mgrArgs{M: m, N: n})
	for _, p := range []*proc.Process[int]{a, b} {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, _, _ := m.Get(ctx, "n"); v != 2*n {
		t.Fatalf("n = %d, want %d", v, 2*n)
	}
}

// Tasks of a pool share one connection per worker process; many tasks
// on two workers count exactly.
func TestMapPassedToPoolTasks(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	pool, err := proc.New(2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Shutdown(ctx)
	var futs []*future.Future[int]
	for range 20 {
		futs = append(futs, proc.Submit(ctx, pool, mgrAddN, mgrArgs{M: m, N: 50}))
	}
	for _, f := range futs {
		if _, err := f.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v, _, _ := m.Get(ctx, "count"); v != 20*50 {
		t.Fatalf("count = %d, want %d", v, 20*50)
	}
}

// A worker SIGKILLed while it holds a named lock: the worker waiting for
// it gets it, with *OwnerDeadError naming the dead holder, repairs and
// unlocks; the parent then locks normally.
func TestMapLockHolderKilledNextHolderGetsOwnerDead(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	held := newMgrSignal()
	holder := mgrStart(t, mgrHold, mgrArgs{M: m}, proc.WithStdout(held))
	<-held.seen
	waiting := newMgrSignal()
	waiter := mgrStart(t, mgrWaitLock, mgrArgs{M: m}, proc.WithStdout(waiting))
	<-waiting.seen
	holder.Kill()
	if _, err := holder.Wait(ctx); err == nil {
		t.Fatal("the killed holder returned no error")
	}
	pid, err := waiter.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pid != holder.Pid() {
		t.Fatalf("OwnerDeadError.PID = %d, want the holder's %d", pid, holder.Pid())
	}
	if _, dirty, _ := m.Get(ctx, "dirty"); dirty {
		t.Fatal("the waiter's repair did not land")
	}
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatalf("parent Lock after the repair = %v", err)
	}
	m.Unlock("l")
}

// With nobody waiting when the holder dies, the next Lock (here the
// parent's) gets the report.
func TestMapLockHolderKilledWithoutWaiterReportsToNextLock(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	held := newMgrSignal()
	holder := mgrStart(t, mgrHold, mgrArgs{M: m}, proc.WithStdout(held))
	<-held.seen
	holder.Kill()
	holder.Wait(ctx)
	err := m.Lock(ctx, "l")
	var dead *OwnerDeadError
	if !errors.As(err, &dead) || !errors.Is(err, ErrOwnerDead) || dead.PID != holder.Pid() {
		t.Fatalf("Lock = %v, want *OwnerDeadError for pid %d", err, holder.Pid())
	}
	if err := m.Unlock("l"); err != nil {
		t.Fatalf("Unlock after the report = %v", err)
	}
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatalf("a later Lock = %v, want nil (the death is reported once)", err)
	}
	m.Unlock("l")
}

// Closing the Map while a worker waits for a lock: the worker's Lock and
// every later call fail with ErrClosed; nothing hangs.
func TestMapCloseWhileWorkerWaitsGivesErrClosed(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	waiting := newMgrSignal()
	w := mgrStart(t, mgrBlocked, mgrArgs{M: m}, proc.WithStdout(waiting))
	<-waiting.seen
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := w.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "lock closed: true, get closed: true"; got != want {
		t.Fatalf("worker: %s, want %s", got, want)
	}
}

// A worker's Lock wait ends with its ctx, and the lock is not taken.
func TestMapWorkerLockWaitEndsWithItsContext(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	got, err := mgrStart(t, mgrLockTimeout, mgrArgs{M: m}).Wait(ctx)
	if err != nil || got != "deadline: true" {
		t.Fatalf("worker: %q, %v", got, err)
	}
	if err := m.Unlock("l"); err != nil {
		t.Fatalf("parent Unlock = %v (the withdrawn wait must not have taken the lock)", err)
	}
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	m.Unlock("l")
}

func TestMapWorkerErrorsTooLargeAndNotHeld(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[[]byte](t, WithMapMaxMessage(64))
	m.Set(ctx, "parent-big", make([]byte, 100)) // the parent has no limit
	m.Set(ctx, "small", []byte("x"))
	if err := m.Lock(ctx, "l"); err != nil {
		t.Fatal(err)
	}
	p, err := proc.Start(ctx, mgrLimits, mgrBigArgs{M: m})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Wait(ctx)
	want := "set too large: true, snapshot too large: true, unlock not held: true, get: <nil>"
	if err != nil || got != want {
		t.Fatalf("worker: %q, %v; want %q", got, err, want)
	}
	if err := m.Unlock("l"); err != nil {
		t.Fatalf("the parent's lock after the worker's failed Unlock: %v", err)
	}
}

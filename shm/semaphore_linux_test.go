//go:build linux

package shm

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/skein-go/skein/proc"
)

// newSyncSegment makes a fresh segment of size bytes for the semaphore and
// event tests.
func newSyncSegment(t *testing.T, size int) *Segment {
	t.Helper()
	seg, err := New(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	return seg
}

// newSemaphore makes a semaphore at offset 0 of a fresh segment.
func newSemaphore(t *testing.T, initial, max int) *Semaphore {
	t.Helper()
	sem, err := SemaphoreAt(newSyncSegment(t, 64), 0, initial, max)
	if err != nil {
		t.Fatal(err)
	}
	return sem
}

// waitForSleepers waits until n Acquires are in sem's sleeping loop: a
// condition on shared state, not a guess at how long they take to get
// there.
func waitForSleepers(sem *Semaphore, n uint32) {
	for sem.waiters.Load() < n {
		runtime.Gosched()
	}
}

func TestSemaphoreAtRejectsBadArguments(t *testing.T) {
	seg := newSyncSegment(t, 64)
	closed, err := New(64)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	tests := []struct {
		name              string
		seg               *Segment
		off, initial, max int
		want              error
	}{
		{"negative initial", seg, 0, -1, 0, ErrInvalidCount},
		{"negative max", seg, 0, 0, -1, ErrInvalidCount},
		{"initial above max", seg, 0, 3, 2, ErrInvalidCount},
		{"initial above SemaphoreMaxValue", seg, 0, SemaphoreMaxValue + 1, 0, ErrInvalidCount},
		{"max above SemaphoreMaxValue", seg, 0, 0, SemaphoreMaxValue + 1, ErrInvalidCount},
		{"misaligned", seg, 2, 1, 0, ErrAlign},
		{"past the end", seg, 64 - SemaphoreSize + 4, 1, 0, ErrRange},
		{"negative offset", seg, -4, 1, 0, ErrRange},
		{"closed segment", closed, 0, 1, 0, ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if sem, err := SemaphoreAt(tt.seg, tt.off, tt.initial, tt.max); !errors.Is(err, tt.want) {
				t.Fatalf("SemaphoreAt = %v, %v; want %v", sem, err, tt.want)
			}
		})
	}
	if _, err := SemaphoreAt(seg, 64-SemaphoreSize, 1, 1); err != nil {
		t.Fatalf("SemaphoreAt at the last offset that fits = %v", err)
	}
}

// semStep is one call of a semaphore sequence and what it must give.
type semStep struct {
	op        string // "acquire", "try" or "release"
	wantOK    bool   // try: whether a unit was taken
	wantErr   error  // acquire, release
	wantValue int
}

// CPython's test_semaphore, test_bounded_semaphore and test_timeout, as
// sequences of calls on one semaphore.
func TestSemaphoreSequences(t *testing.T) {
	shared := []semStep{ // _test_semaphore on a semaphore of 2
		{op: "acquire", wantValue: 1},
		{op: "acquire", wantValue: 0},
		{op: "try", wantOK: false, wantValue: 0},
		{op: "release", wantValue: 1},
		{op: "release", wantValue: 2},
	}
	tests := []struct {
		name         string
		initial, max int
		steps        []semStep
	}{
		{"Semaphore(2) releases past its initial count", 2, 0, append(shared[:len(shared):len(shared)],
			semStep{op: "release", wantValue: 3},
			semStep{op: "release", wantValue: 4},
			semStep{op: "try", wantOK: true, wantValue: 3},
		)},
		{"BoundedSemaphore(2) refuses a release past 2", 2, 2, append(shared[:len(shared):len(shared)],
			semStep{op: "release", wantErr: ErrOverRelease, wantValue: 2},
			semStep{op: "try", wantOK: true, wantValue: 1},
		)},
		{"Semaphore(0) has nothing to take", 0, 0, []semStep{
			{op: "try", wantOK: false, wantValue: 0},
			{op: "acquire", wantErr: context.DeadlineExceeded, wantValue: 0},
			{op: "release", wantValue: 1},
			{op: "acquire", wantValue: 0},
		}},
		{"bounded, starting empty", 0, 1, []semStep{
			{op: "release", wantValue: 1},
			{op: "release", wantErr: ErrOverRelease, wantValue: 1},
			{op: "try", wantOK: true, wantValue: 0},
			{op: "try", wantOK: false, wantValue: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sem := newSemaphore(t, tt.initial, tt.max)
			if got := sem.Value(); got != tt.initial {
				t.Fatalf("initial Value = %d, want %d", got, tt.initial)
			}
			for i, s := range tt.steps {
				switch s.op {
				case "acquire":
					// A short deadline: a taken unit returns at once, an
					// empty semaphore must time out rather than hang.
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
					err := sem.Acquire(ctx)
					cancel()
					if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
						t.Fatalf("step %d: Acquire = %v, want %v", i, err, s.wantErr)
					}
				case "try":
					if got := sem.TryAcquire(); got != s.wantOK {
						t.Fatalf("step %d: TryAcquire = %v, want %v", i, got, s.wantOK)
					}
				case "release":
					err := sem.Release()
					if !errors.Is(err, s.wantErr) || (s.wantErr == nil && err != nil) {
						t.Fatalf("step %d: Release = %v, want %v", i, err, s.wantErr)
					}
				}
				if got := sem.Value(); got != s.wantValue {
					t.Fatalf("step %d (%s): Value = %d, want %d", i, s.op, got, s.wantValue)
				}
			}
		})
	}
}

// An unbounded semaphore still stops at SemaphoreMaxValue, Python's
// OverflowError at SEM_VALUE_MAX.
func TestSemaphoreUnboundedReleaseFailsAtMaxValue(t *testing.T) {
	sem := newSemaphore(t, SemaphoreMaxValue, 0)
	if err := sem.Release(); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("Release at SemaphoreMaxValue = %v, want ErrOverRelease", err)
	}
	if got := sem.Value(); got != SemaphoreMaxValue {
		t.Fatalf("Value = %d, want %d", got, SemaphoreMaxValue)
	}
}

// A second SemaphoreAt at the same offset shares the first one's count
// (its own initial is ignored) and must agree on max.
func TestSemaphoreAtTwiceSharesTheSemaphore(t *testing.T) {
	seg := newSyncSegment(t, 64)
	a, err := SemaphoreAt(seg, 0, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if !a.TryAcquire() {
			t.Fatal("TryAcquire of a semaphore of 2 failed")
		}
	}
	b, err := SemaphoreAt(seg, 0, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Value(); got != 0 {
		t.Fatalf("second SemaphoreAt reset the count to %d, want the shared 0", got)
	}
	if err := b.Release(); err != nil {
		t.Fatal(err)
	}
	if got := a.Value(); got != 1 {
		t.Fatalf("first view sees %d after a release through the second, want 1", got)
	}
	if _, err := SemaphoreAt(seg, 0, 1, 3); !errors.Is(err, ErrBoundMismatch) {
		t.Fatalf("SemaphoreAt with another max = %v, want ErrBoundMismatch", err)
	}
	bounded, err := SemaphoreAt(seg, 16, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SemaphoreAt(seg, 16, 0, 0); !errors.Is(err, ErrBoundMismatch) {
		t.Fatalf("unbounded SemaphoreAt over a bounded one = %v, want ErrBoundMismatch", err)
	}
	if err := bounded.Release(); err != nil {
		t.Fatal(err)
	}
}

// An Acquire asleep on an empty semaphore returns ctx's error, without a
// unit, when ctx is cancelled; an expired deadline fails at once.
func TestSemaphoreBlockedAcquireReturnsContextError(t *testing.T) {
	sem := newSemaphore(t, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- sem.Acquire(ctx) }()
	waitForSleepers(sem, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire = %v, want context.Canceled", err)
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	if err := sem.Acquire(expired); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire with an expired deadline = %v, want DeadlineExceeded", err)
	}
	if got, w := sem.Value(), sem.waiters.Load(); got != 0 || w != 0 {
		t.Fatalf("after the failed Acquires: Value %d, waiters %d; want 0, 0", got, w)
	}
	// A free unit is taken even with ctx done, as Mutex.Lock does.
	if err := sem.Release(); err != nil {
		t.Fatal(err)
	}
	if err := sem.Acquire(expired); err != nil {
		t.Fatalf("Acquire of a free unit with ctx done = %v, want nil", err)
	}
}

// Each Release wakes one sleeping Acquire; every sleeper gets a unit.
func TestSemaphoreReleaseWakesSleepingAcquires(t *testing.T) {
	const sleepers = 3
	sem := newSemaphore(t, 0, 0)
	done := make(chan error, sleepers)
	for range sleepers {
		go func() { done <- sem.Acquire(context.Background()) }()
	}
	waitForSleepers(sem, sleepers)
	for range sleepers {
		if err := sem.Release(); err != nil {
			t.Fatal(err)
		}
	}
	for range sleepers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := sem.Value(); got != 0 {
		t.Fatalf("Value = %d after %d releases taken by %d sleepers, want 0", got, sleepers, sleepers)
	}
}

// Goroutines of one process never hold more units than the semaphore
// has; a semaphore of 1 orders plain Go data like a lock (the race
// detector checks the plain counter).
func TestSemaphoreBoundsGoroutinesOfOneProcess(t *testing.T) {
	for _, limit := range []int{1, 3} {
		sem := newSemaphore(t, limit, limit)
		const goroutines, each = 6, 300
		var inside, peak, plain int
		var mu sync.Mutex // guards inside and peak, counted around the semaphore
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for range goroutines {
			wg.Go(func() {
				for range each {
					if err := sem.Acquire(context.Background()); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					inside++
					peak = max(peak, inside)
					mu.Unlock()
					if limit == 1 {
						plain++ // guarded by sem alone
					}
					runtime.Gosched()
					mu.Lock()
					inside--
					mu.Unlock()
					if err := sem.Release(); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if peak > limit || peak < 1 {
			t.Fatalf("semaphore of %d: peak holders %d", limit, peak)
		}
		if limit == 1 && plain != goroutines*each {
			t.Fatalf("plain counter %d, want %d", plain, goroutines*each)
		}
		if got := sem.Value(); got != limit {
			t.Fatalf("Value = %d after every unit came back, want %d", got, limit)
		}
	}
}

// semArgs is what the semaphore workers receive.
type semArgs struct {
	Sem    *Semaphore
	Inside *Value[int64] // processes holding a unit now
	Peak   *Value[int64] // most processes ever holding a unit at once
	Total  *Value[int64] // units taken in all
	N      int
}

var (
	// semHolder takes and gives back a unit N times, recording how many
	// processes hold one at once.
	semHolder = proc.Register("shm.test.sem-holder", func(ctx context.Context, a semArgs) (int, error) {
		for range a.N {
			if err := a.Sem.Acquire(ctx); err != nil {
				return 0, err
			}
			now := a.Inside.Add(1)
			for {
				p := a.Peak.Load()
				if now <= p || a.Peak.CompareAndSwap(p, now) {
					break
				}
			}
			a.Total.Add(1)
			runtime.Gosched()
			a.Inside.Add(-1)
			if err := a.Sem.Release(); err != nil {
				return 0, err
			}
		}
		return 0, nil
	})
	// semReleaser gives N units to the parent.
	semReleaser = proc.Register("shm.test.sem-releaser", func(ctx context.Context, a semArgs) (int, error) {
		for range a.N {
			if err := a.Sem.Release(); err != nil {
				return 0, err
			}
		}
		return a.Sem.Value(), nil
	})
)

// newSemArgs makes a segment holding semArgs' views, with a semaphore of
// initial and max.
func newSemArgs(t *testing.T, initial, max, n int) semArgs {
	t.Helper()
	seg := newSyncSegment(t, 64)
	a := semArgs{N: n}
	var e1, e2, e3, e4 error
	a.Sem, e1 = SemaphoreAt(seg, 0, initial, max)
	a.Inside, e2 = ValueAt[int64](seg, 16)
	a.Peak, e3 = ValueAt[int64](seg, 24)
	a.Total, e4 = ValueAt[int64](seg, 32)
	if err := errors.Join(e1, e2, e3, e4); err != nil {
		t.Fatal(err)
	}
	return a
}

// A semaphore of 2 passed to 4 worker processes never admits more than 2
// of them at once, and every unit comes back.
func TestSemaphoreOfTwoAdmitsAtMostTwoOfFourProcesses(t *testing.T) {
	const workers, each = 4, 300
	a := newSemArgs(t, 2, 2, each)
	ctx := context.Background()
	var ps []*proc.Process[int]
	for range workers {
		p, err := proc.Start(ctx, semHolder, a)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if peak := a.Peak.Load(); peak > 2 || peak < 1 {
		t.Fatalf("peak holders = %d, want 1 or 2", peak)
	}
	if got := a.Total.Load(); got != workers*each {
		t.Fatalf("units taken = %d, want %d", got, workers*each)
	}
	if got := a.Sem.Value(); got != 2 {
		t.Fatalf("Value = %d after all workers, want 2", got)
	}
}

// A worker's Releases wake the parent's Acquires, waiting on a semaphore
// that starts at 0: the semaphore as a signal between processes.
func TestSemaphoreReleaseInWorkerWakesParentAcquire(t *testing.T) {
	a := newSemArgs(t, 0, 0, 3)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		for range a.N {
			if err := a.Sem.Acquire(ctx); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	waitForSleepers(a.Sem, 1)
	p, err := proc.Start(ctx, semReleaser, a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("parent Acquire = %v", err)
	}
	if got := a.Sem.Value(); got != 0 {
		t.Fatalf("Value = %d, want 0", got)
	}
}

// A Semaphore handle decodes to the same semaphore in the same process,
// with the same max.
func TestSemaphoreHandleSharesCountAndBound(t *testing.T) {
	a := newSemArgs(t, 1, 1, 0)
	b, err := a.Sem.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var sem Semaphore
	if err := sem.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !sem.TryAcquire() || a.Sem.Value() != 0 {
		t.Fatalf("decoded copy's TryAcquire did not take the original's unit (Value %d)", a.Sem.Value())
	}
	if err := sem.Release(); err != nil {
		t.Fatal(err)
	}
	if err := sem.Release(); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("decoded copy's Release past max 1 = %v, want ErrOverRelease", err)
	}
}

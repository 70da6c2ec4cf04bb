package lock

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestMutexZeroValueLocksAndUnlocks(t *testing.T) {
	var m Mutex
	if err := m.Lock(t.Context()); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if m.TryLock() {
		t.Fatal("TryLock succeeded on a held mutex")
	}
	m.Unlock()
	if !m.TryLock() {
		t.Fatal("TryLock failed on a free mutex")
	}
	m.Unlock()
}

func TestMutexExcludesConcurrentWriters(t *testing.T) {
	const goroutines, rounds = 8, 2000
	m := NewMutex()
	var count int // guarded by m
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range rounds {
				if err := m.Lock(t.Context()); err != nil {
					t.Error(err)
					return
				}
				count++
				m.Unlock()
			}
		})
	}
	wg.Wait()
	if count != goroutines*rounds {
		t.Fatalf("count = %d, want %d", count, goroutines*rounds)
	}
}

func TestMutexLockReturnsCtxErrWhenCancelledWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Mutex
		_ = m.Lock(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() { errc <- m.Lock(ctx) }()
		synctest.Wait() // the second Lock is parked
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock = %v, want context.Canceled", err)
		}
		// The cancelled waiter left the queue: unlocking makes m free.
		m.Unlock()
		if !m.TryLock() {
			t.Fatal("mutex not free after the cancelled waiter left")
		}
		m.Unlock()
	})
}

func TestMutexLockHonoursDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Mutex
		_ = m.Lock(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if err := m.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock = %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Fatalf("waited %v, want 1s", waited)
		}
		m.Unlock()
	})
}

func TestMutexLockWithDoneCtxFailsOnlyWhenHeld(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var m Mutex
	if err := m.Lock(ctx); err != nil {
		t.Fatalf("Lock of a free mutex with a done ctx = %v, want nil", err)
	}
	if err := m.Lock(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock of a held mutex with a done ctx = %v, want Canceled", err)
	}
	m.Unlock()
}

func TestMutexWakesWaitersInArrivalOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Mutex
		_ = m.Lock(t.Context())
		const n = 5
		order := make(chan int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if err := m.Lock(t.Context()); err != nil {
					t.Error(err)
					return
				}
				order <- i
				m.Unlock()
			})
			synctest.Wait() // waiter i is queued before i+1 starts
		}
		m.Unlock()
		wg.Wait()
		close(order)
		want := 0
		for got := range order {
			if got != want {
				t.Fatalf("waiter %d got the lock in turn %d", got, want)
			}
			want++
		}
	})
}

func TestMutexUnlockOfUnlockedPanics(t *testing.T) {
	tests := []struct {
		name string
		m    func() *Mutex
	}{
		{"zero value", func() *Mutex { return &Mutex{} }},
		{"checked", func() *Mutex { return NewMutex(WithChecker(newTestChecker(t))) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m()
			defer func() {
				if v := recover(); v != "lock: Unlock of an unlocked Mutex" {
					t.Fatalf("recover() = %v, want the unlock panic", v)
				}
			}()
			m.Unlock()
		})
	}
}

func TestMutexMayBeUnlockedByAnotherGoroutine(t *testing.T) {
	m := NewMutex(WithChecker(newTestChecker(t)))
	_ = m.Lock(t.Context())
	done := make(chan struct{})
	go func() {
		m.Unlock()
		close(done)
	}()
	<-done
	if err := m.Lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	m.Unlock()
}

// newTestChecker returns a checker whose reports fail t.
func newTestChecker(t *testing.T) *Checker {
	t.Helper()
	c, err := NewChecker(WithReport(func(r Report) { t.Errorf("unexpected report: %s", r) }))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMutexCancelRacingHandOffKeepsExclusion cancels waiters while the lock
// is being handed to them: whichever wins, a Lock that returns nil holds the
// lock alone, one that fails holds nothing, and the mutex ends free.
func TestMutexCancelRacingHandOffKeepsExclusion(t *testing.T) {
	var m Mutex
	var inside atomic.Int32
	cancels := make(chan context.CancelFunc, 64)
	stop := make(chan struct{})
	var canceller sync.WaitGroup
	canceller.Go(func() {
		for {
			select {
			case cancel := <-cancels:
				cancel()
			case <-stop:
				return
			}
		}
	})
	var wg sync.WaitGroup
	var won, lost atomic.Int64
	for range 4 {
		wg.Go(func() {
			for range 2000 {
				ctx, cancel := context.WithCancel(t.Context())
				cancels <- cancel
				if err := m.Lock(ctx); err != nil {
					lost.Add(1)
					continue
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d goroutines inside the lock", n)
				}
				runtime.Gosched() // hold the lock long enough for others to queue
				inside.Add(-1)
				won.Add(1)
				m.Unlock()
			}
		})
	}
	wg.Wait()
	close(stop)
	canceller.Wait()
	if !m.TryLock() {
		t.Fatal("mutex held after every locker left")
	}
	t.Logf("%d locked, %d cancelled", won.Load(), lost.Load())
}

// TestMutexWaiterIsBeatenAtMostOnce: a running goroutine may take a lock
// just released ahead of the woken waiter, but only once; the next Unlock
// hands the lock to that waiter directly.
func TestMutexWaiterIsBeatenAtMostOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var m Mutex
		_ = m.Lock(t.Context())
		got := make(chan struct{})
		release := make(chan struct{})
		go func() {
			_ = m.Lock(t.Context())
			close(got)
			<-release
			m.Unlock()
		}()
		synctest.Wait() // the waiter is parked
		m.Unlock()      // wakes it, but it has not run yet
		if !m.TryLock() {
			t.Fatal("could not take the lock ahead of the woken waiter")
		}
		synctest.Wait() // the waiter lost, and queued again
		select {
		case <-got:
			t.Fatal("waiter got a lock that was held")
		default:
		}
		m.Unlock() // hands over: the waiter already lost once
		if m.TryLock() {
			t.Fatal("took the lock ahead of a waiter a second time")
		}
		<-got
		close(release)
	})
}

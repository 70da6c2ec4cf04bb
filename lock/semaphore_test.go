package lock

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func newSem(t *testing.T, n int64) *Semaphore {
	t.Helper()
	s, err := NewSemaphore(n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSemaphoreRejectsSizeBelowOne(t *testing.T) {
	for _, n := range []int64{0, -1} {
		if _, err := NewSemaphore(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewSemaphore(%d) = %v, want ErrInvalid", n, err)
		}
	}
}

func TestSemaphoreRejectsInvalidWeights(t *testing.T) {
	s := newSem(t, 3)
	for _, n := range []int64{0, -2, 4} {
		if err := s.Acquire(t.Context(), n); !errors.Is(err, ErrInvalid) {
			t.Errorf("Acquire(%d) = %v, want ErrInvalid", n, err)
		}
		if s.TryAcquire(n) {
			t.Errorf("TryAcquire(%d) = true, want false", n)
		}
	}
	if err := s.Release(0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Release(0) = %v, want ErrInvalid", err)
	}
	if got := s.Available(); got != 3 {
		t.Fatalf("Available = %d after rejected calls, want 3", got)
	}
}

func TestSemaphoreAcquireAndReleaseCountPermits(t *testing.T) {
	s := newSem(t, 5)
	if err := s.Acquire(t.Context(), 2); err != nil {
		t.Fatal(err)
	}
	if !s.TryAcquire(3) {
		t.Fatal("TryAcquire(3) with 3 free = false")
	}
	if s.TryAcquire(1) {
		t.Fatal("TryAcquire(1) with none free = true")
	}
	if err := s.Release(4); err != nil { // Python's release(n)
		t.Fatal(err)
	}
	if got, size := s.Available(), s.Size(); got != 4 || size != 5 {
		t.Fatalf("Available, Size = %d, %d, want 4, 5", got, size)
	}
}

func TestSemaphoreReleaseOfMoreThanHeldIsRefused(t *testing.T) {
	s := newSem(t, 2)
	if err := s.Release(1); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("Release on a full semaphore = %v, want ErrOverRelease", err)
	}
	_ = s.Acquire(t.Context(), 1)
	if err := s.Release(2); !errors.Is(err, ErrOverRelease) {
		t.Fatalf("Release(2) with 1 held = %v, want ErrOverRelease", err)
	}
	if got := s.Available(); got != 1 {
		t.Fatalf("Available = %d after refused release, want 1", got)
	}
}

func TestSemaphoreAcquireReturnsCtxErrAndTakesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSem(t, 1)
		_ = s.Acquire(t.Context(), 1)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() { errc <- s.Acquire(ctx, 1) }()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire = %v, want Canceled", err)
		}
		_ = s.Release(1)
		if got := s.Available(); got != 1 {
			t.Fatalf("Available = %d, want 1: the cancelled waiter took permits", got)
		}
		done, cancelDone := context.WithCancel(t.Context())
		cancelDone()
		_ = s.Acquire(t.Context(), 1)
		if err := s.Acquire(done, 1); !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire with a done ctx on a full semaphore = %v", err)
		}
	})
}

func TestSemaphoreServesWaitersInOrderAndLargeOnesDoNotStarve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSem(t, 3)
		_ = s.Acquire(t.Context(), 2)
		got := make(chan string, 2)
		go func() { // needs 3: waits for the 2 held
			_ = s.Acquire(t.Context(), 3)
			got <- "large"
			_ = s.Release(3)
		}()
		synctest.Wait()
		if s.TryAcquire(1) {
			t.Fatal("TryAcquire jumped the queue")
		}
		go func() { // 1 is free, but the large waiter is first
			_ = s.Acquire(t.Context(), 1)
			got <- "small"
			_ = s.Release(1)
		}()
		synctest.Wait()
		_ = s.Release(2)
		if first, second := <-got, <-got; first != "large" || second != "small" {
			t.Fatalf("order %s, %s; want large, small", first, second)
		}
	})
}

func TestSemaphoreCancelledHeadLetsSmallerWaitersThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSem(t, 2)
		_ = s.Acquire(t.Context(), 1)
		ctx, cancel := context.WithCancel(t.Context())
		go func() { _ = s.Acquire(ctx, 2) }()
		synctest.Wait()
		done := make(chan struct{})
		go func() {
			_ = s.Acquire(t.Context(), 1)
			close(done)
		}()
		synctest.Wait()
		cancel()
		<-done
	})
}

func TestSemaphoreNeverExceedsItsSize(t *testing.T) {
	const size = 3
	s := newSem(t, size)
	var inside, peak atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				if err := s.Acquire(t.Context(), 1); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				inside.Add(-1)
				if err := s.Release(1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > size {
		t.Fatalf("%d holders at once, size %d", p, size)
	}
}

// TestSemaphoreCancelRacingGrantLosesNoPermit cancels waiters while permits
// are being granted to them: every permit is either held by a caller whose
// Acquire returned nil or back in the semaphore at the end.
func TestSemaphoreCancelRacingGrantLosesNoPermit(t *testing.T) {
	const size = 2
	s := newSem(t, size)
	var inside atomic.Int64
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
	for range 6 {
		wg.Go(func() {
			for range 1000 {
				ctx, cancel := context.WithCancel(t.Context())
				cancels <- cancel
				if err := s.Acquire(ctx, 1); err != nil {
					continue
				}
				if n := inside.Add(1); n > size {
					t.Errorf("%d holders, size %d", n, size)
				}
				runtime.Gosched()
				inside.Add(-1)
				if err := s.Release(1); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	canceller.Wait()
	if got := s.Available(); got != size {
		t.Fatalf("Available = %d at the end, want %d", got, size)
	}
}

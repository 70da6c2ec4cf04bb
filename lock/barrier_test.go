package lock

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func newBarrier(t *testing.T, parties int, opts ...BarrierOption) *Barrier {
	t.Helper()
	b, err := NewBarrier(parties, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runParties runs f on n goroutines and waits for them.
func runParties(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

func TestNewBarrierRejectsNonsense(t *testing.T) {
	tests := []struct {
		name    string
		parties int
		opts    []BarrierOption
	}{
		{"zero parties", 0, nil},
		{"negative parties", -3, nil},
		{"nil action", 2, []BarrierOption{WithAction(nil)}},
		{"zero timeout", 2, []BarrierOption{WithTimeout(0)}},
		{"negative timeout", 2, []BarrierOption{WithTimeout(-time.Second)}},
	}
	for _, tt := range tests {
		if _, err := NewBarrier(tt.parties, tt.opts...); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tt.name, err)
		}
	}
}

// TestBarrierKeepsPartiesInStep is CPython's test_barrier: in every round
// no party leaves before all have arrived, and the barrier is reused.
func TestBarrierKeepsPartiesInStep(t *testing.T) {
	const n, rounds = 5, 20
	b := newBarrier(t, n)
	var arrived [rounds]atomic.Int32
	runParties(n, func(int) {
		for r := range rounds {
			arrived[r].Add(1)
			if _, err := b.Wait(t.Context()); err != nil {
				t.Error(err)
				return
			}
			if got := arrived[r].Load(); got != n {
				t.Errorf("round %d: left with %d of %d arrived", r, got, n)
			}
		}
	})
	if b.Broken() || b.Waiting() != 0 || b.Parties() != n {
		t.Fatalf("after use: broken %v, waiting %d, parties %d", b.Broken(), b.Waiting(), b.Parties())
	}
}

// TestBarrierReturnsEachArrivalIndexOnce is CPython's test_wait_return.
func TestBarrierReturnsEachArrivalIndexOnce(t *testing.T) {
	const n = 6
	b := newBarrier(t, n)
	for range 3 {
		indexes := make([]int, n)
		runParties(n, func(i int) {
			idx, err := b.Wait(t.Context())
			if err != nil {
				t.Error(err)
			}
			indexes[i] = idx
		})
		slices.Sort(indexes)
		for i, idx := range indexes {
			if idx != i {
				t.Fatalf("indexes %v, want 0..%d", indexes, n-1)
			}
		}
	}
}

func TestBarrierRunsActionOncePerRoundBeforeRelease(t *testing.T) {
	const n, rounds = 4, 5
	var actions atomic.Int32
	b := newBarrier(t, n, WithAction(func() error {
		actions.Add(1)
		return nil
	}))
	runParties(n, func(int) {
		for r := range rounds {
			if _, err := b.Wait(t.Context()); err != nil {
				t.Error(err)
				return
			}
			if got := actions.Load(); got < int32(r+1) {
				t.Errorf("round %d released before its action ran (%d actions)", r, got)
			}
		}
	})
	if got := actions.Load(); got != rounds {
		t.Fatalf("action ran %d times, want %d", got, rounds)
	}
}

func TestBarrierActionFailureBreaksIt(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name   string
		action func() error
		want   error
	}{
		{"error", func() error { return boom }, boom},
		{"panic", func() error { panic("kaboom") }, ErrBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 3
			b := newBarrier(t, n, WithAction(tt.action))
			errs := make([]error, n)
			runParties(n, func(i int) { _, errs[i] = b.Wait(t.Context()) })
			var fromAction int
			for _, err := range errs {
				if !errors.Is(err, ErrBroken) {
					t.Fatalf("Wait = %v, want ErrBroken", err)
				}
				if errors.Is(err, tt.want) && tt.want != ErrBroken {
					fromAction++
				}
			}
			if tt.want != ErrBroken && fromAction != 1 {
				t.Fatalf("%d goroutines saw the action's error, want 1", fromAction)
			}
			if !b.Broken() {
				t.Fatal("barrier not broken after a failed action")
			}
		})
	}
}

// TestBarrierAbortBreaksWaiters is CPython's test_abort: one party aborts
// instead of waiting, and every other gets ErrBroken now and later.
func TestBarrierAbortBreaksWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 4
		b := newBarrier(t, n)
		errs := make([]error, n-1)
		var wg sync.WaitGroup
		for i := range n - 1 {
			wg.Go(func() { _, errs[i] = b.Wait(t.Context()) })
		}
		synctest.Wait()
		if got := b.Waiting(); got != n-1 {
			t.Fatalf("Waiting = %d, want %d", got, n-1)
		}
		b.Abort()
		wg.Wait()
		for _, err := range errs {
			if !errors.Is(err, ErrBroken) {
				t.Fatalf("Wait = %v, want ErrBroken", err)
			}
		}
		if idx, err := b.Wait(t.Context()); !errors.Is(err, ErrBroken) || idx != -1 {
			t.Fatalf("Wait on a broken barrier = %d, %v", idx, err)
		}
	})
}

// TestBarrierResetBreaksWaitersAndMakesItUsable is CPython's test_reset
// and test_abort_and_reset.
func TestBarrierResetBreaksWaitersAndMakesItUsable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 3
		b := newBarrier(t, n)
		errc := make(chan error, 1)
		go func() {
			_, err := b.Wait(t.Context())
			errc <- err
		}()
		synctest.Wait()
		b.Reset()
		if err := <-errc; !errors.Is(err, ErrBroken) {
			t.Fatalf("waiter during Reset got %v, want ErrBroken", err)
		}
		b.Abort()
		b.Reset()
		if b.Broken() {
			t.Fatal("broken after Reset")
		}
		runParties(n, func(int) {
			if _, err := b.Wait(t.Context()); err != nil {
				t.Error(err)
			}
		})
	})
}

// TestBarrierCtxExpiryBreaksIt is CPython's test_timeout: the waiter whose
// time runs out breaks the barrier for everyone.
func TestBarrierCtxExpiryBreaksIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBarrier(t, 3)
		errc := make(chan error, 1)
		go func() {
			_, err := b.Wait(t.Context())
			errc <- err
		}()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		_, err := b.Wait(ctx)
		if !errors.Is(err, ErrBroken) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("timed-out Wait = %v, want ErrBroken and DeadlineExceeded", err)
		}
		if err := <-errc; !errors.Is(err, ErrBroken) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("other waiter got %v, want ErrBroken only", err)
		}
		if !b.Broken() {
			t.Fatal("barrier not broken")
		}
	})
}

// TestBarrierDefaultTimeout is CPython's test_default_timeout.
func TestBarrierDefaultTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newBarrier(t, 2, WithTimeout(time.Second))
		start := time.Now()
		if _, err := b.Wait(t.Context()); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Fatalf("waited %v, want 1s", waited)
		}
	})
}

// TestBarrierOfOnePassesAtOnce is CPython's test_single_thread.
func TestBarrierOfOnePassesAtOnce(t *testing.T) {
	b := newBarrier(t, 1)
	for range 3 {
		if idx, err := b.Wait(t.Context()); idx != 0 || err != nil {
			t.Fatalf("Wait = %d, %v; want 0, nil", idx, err)
		}
	}
}

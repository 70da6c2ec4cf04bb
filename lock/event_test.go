package lock

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestEventIsSetFollowsSetAndClear(t *testing.T) {
	var e Event
	steps := []struct {
		op   func()
		want bool
	}{
		{func() {}, false},
		{e.Set, true},
		{e.Set, true},
		{e.Clear, false},
		{e.Set, true},
		{e.Clear, false},
	}
	for i, s := range steps {
		s.op()
		if got := e.IsSet(); got != s.want {
			t.Fatalf("step %d: IsSet = %v, want %v", i, got, s.want)
		}
	}
}

func TestEventSetWakesEveryWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		const n = 5
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() { errs <- e.Wait(t.Context()) })
		}
		synctest.Wait()
		if len(errs) != 0 {
			t.Fatal("a waiter returned before Set")
		}
		e.Set()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Wait = %v", err)
			}
		}
		if err := e.Wait(t.Context()); err != nil {
			t.Fatalf("Wait on a set event = %v", err)
		}
	})
}

func TestEventWaitTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		if err := e.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, want DeadlineExceeded", err)
		}
	})
}

// TestEventWaitersSeeSetFollowedByClear mirrors CPython's
// test_set_and_clear: waiters woken by Set return true even though the
// event is cleared right after.
func TestEventWaitersSeeSetFollowedByClear(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var e Event
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Go(func() { errs <- e.Wait(t.Context()) })
		}
		synctest.Wait()
		e.Set()
		e.Clear()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Wait = %v, want nil", err)
			}
		}
		if e.IsSet() {
			t.Fatal("event set after Clear")
		}
	})
}

func TestEventDoneChannel(t *testing.T) {
	var e Event
	before := e.Done()
	select {
	case <-before:
		t.Fatal("Done closed before Set")
	default:
	}
	e.Set()
	<-before
	<-e.Done()
	e.Clear()
	after := e.Done()
	select {
	case <-after:
		t.Fatal("Done after Clear is closed")
	default:
	}
	e.Set()
	<-after
}

//go:build linux

package shm

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/skein-go/skein/proc"
)

// newEvent makes an event at offset 0 of a fresh segment.
func newEvent(t *testing.T) *Event {
	t.Helper()
	e, err := EventAt(newSyncSegment(t, 64), 0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitForEventSleeper waits until some Wait has marked e as having a
// sleeper, which it does only after reading the generation it waits past.
func waitForEventSleeper(e *Event) {
	for e.w.Load()&eventWaiters == 0 {
		runtime.Gosched()
	}
}

func TestEventAtRejectsBadOffsets(t *testing.T) {
	seg := newSyncSegment(t, 64)
	tests := []struct {
		name string
		off  int
		want error
	}{
		{"misaligned", 2, ErrAlign},
		{"past the end", 64, ErrRange},
		{"negative", -4, ErrRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := EventAt(seg, tt.off); !errors.Is(err, tt.want) {
				t.Fatalf("EventAt(%d) = %v, want %v", tt.off, err, tt.want)
			}
		})
	}
	if _, err := EventAt(seg, 64-EventSize); err != nil {
		t.Fatalf("EventAt at the last offset that fits = %v", err)
	}
}

// Sequences of Set and Clear leave the flag where Python's Event would,
// and Wait with a done ctx returns nil exactly when it is set.
func TestEventSetClearSequences(t *testing.T) {
	tests := []struct {
		name string
		ops  string // s = Set, c = Clear
		want bool
	}{
		{"fresh", "", false},
		{"set", "s", true},
		{"set twice", "ss", true},
		{"set, clear", "sc", false},
		{"clear fresh", "c", false},
		{"set, clear, set", "scs", true},
		{"clear twice after set", "scc", false},
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEvent(t)
			for _, op := range tt.ops {
				if op == 's' {
					e.Set()
				} else {
					e.Clear()
				}
			}
			if got := e.IsSet(); got != tt.want {
				t.Fatalf("IsSet = %v, want %v", got, tt.want)
			}
			err := e.Wait(done)
			if tt.want && err != nil {
				t.Fatalf("Wait on a set event with ctx done = %v, want nil", err)
			}
			if !tt.want && !errors.Is(err, context.Canceled) {
				t.Fatalf("Wait on a clear event with ctx done = %v, want context.Canceled", err)
			}
		})
	}
}

// CPython's test_event: waits on a clear event time out, waits on a set
// one return at once, and a Set from another process releases a waiter.
func TestEventCPythonPort(t *testing.T) {
	a := newEventArgs(t, 0)
	e := a.Event
	if e.IsSet() {
		t.Fatal("fresh event is set")
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	if err := e.Wait(expired); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait(0.0) = %v, want DeadlineExceeded", err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel2()
	if err := e.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait(TIMEOUT1) = %v, want DeadlineExceeded", err)
	}
	e.Set()
	if !e.IsSet() {
		t.Fatal("IsSet after Set = false")
	}
	if err := e.Wait(context.Background()); err != nil {
		t.Fatalf("wait() on a set event = %v", err)
	}
	if err := e.Wait(expired); err != nil {
		t.Fatalf("wait(0.0) on a set event = %v", err)
	}
	e.Clear()
	if e.IsSet() {
		t.Fatal("IsSet after Clear = true")
	}
	ctx := context.Background()
	p, err := proc.Start(ctx, eventSetter, a)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Wait(ctx); err != nil {
		t.Fatalf("wait() for the worker's Set = %v", err)
	}
	if _, err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

// A Wait asleep on a clear event returns ctx's error when ctx is
// cancelled.
func TestEventBlockedWaitReturnsContextError(t *testing.T) {
	e := newEvent(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- e.Wait(ctx) }()
	waitForEventSleeper(e)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Wait = %v, want context.Canceled", err)
	}
	if e.IsSet() {
		t.Fatal("cancelled Wait set the event")
	}
}

// One Set wakes every sleeping Wait.
func TestEventSetWakesEveryWaiter(t *testing.T) {
	e := newEvent(t)
	const waiters = 4
	done := make(chan error, waiters)
	for range waiters {
		go func() { done <- e.Wait(context.Background()) }()
	}
	waitForEventSleeper(e) // the others may be asleep too, or find it set
	e.Set()
	for range waiters {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// A sleeping Wait returns nil even when the event is cleared again before
// it looks: the Set happened while it waited (threading.Event's rule).
func TestEventSetThenClearStillReleasesSleepingWaiter(t *testing.T) {
	e := newEvent(t)
	done := make(chan error)
	go func() { done <- e.Wait(context.Background()) }()
	waitForEventSleeper(e) // it has read the generation it waits past
	e.Set()
	e.Clear()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if e.IsSet() {
		t.Fatal("event set after Clear")
	}
}

// A Wait that began after a Set and Clear waits for the next Set.
func TestEventWaitAfterClearWaitsForNextSet(t *testing.T) {
	e := newEvent(t)
	e.Set()
	e.Clear()
	done := make(chan error)
	go func() { done <- e.Wait(context.Background()) }()
	waitForEventSleeper(e)
	select {
	case err := <-done:
		t.Fatalf("Wait returned %v before the next Set", err)
	default:
	}
	e.Set()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// eventArgs is what the event workers receive.
type eventArgs struct {
	Event  *Event
	Passed *Value[int64] // workers whose Wait returned
	N      int
}

var (
	// eventWaiter says it is about to wait, waits for the event, and
	// counts itself through.
	eventWaiter = proc.Register("shm.test.event-waiter", func(ctx context.Context, a eventArgs) (int, error) {
		fmt.Println("waiting")
		if err := a.Event.Wait(ctx); err != nil {
			return 0, err
		}
		a.Passed.Add(1)
		return 0, nil
	})
	// eventSetter sets the event (CPython's _test_event).
	eventSetter = proc.Register("shm.test.event-setter", func(ctx context.Context, a eventArgs) (int, error) {
		a.Event.Set()
		return 0, nil
	})
)

// newEventArgs makes a segment holding eventArgs' views.
func newEventArgs(t *testing.T, n int) eventArgs {
	t.Helper()
	seg := newSyncSegment(t, 64)
	a := eventArgs{N: n}
	var e1, e2 error
	a.Event, e1 = EventAt(seg, 0)
	a.Passed, e2 = ValueAt[int64](seg, 8)
	if err := errors.Join(e1, e2); err != nil {
		t.Fatal(err)
	}
	return a
}

// An Event set by the parent releases every worker process waiting on it,
// and none passes before.
func TestEventSetByParentReleasesWaitingWorkers(t *testing.T) {
	const workers = 3
	a := newEventArgs(t, 0)
	ctx := context.Background()
	var ps []*proc.Process[int]
	for range workers {
		waiting := newSignalWriter()
		p, err := proc.Start(ctx, eventWaiter, a, proc.WithStdout(waiting))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		<-waiting.seen
	}
	waitForEventSleeper(a.Event)
	if got := a.Passed.Load(); got != 0 {
		t.Fatalf("%d workers passed Wait before the event was set", got)
	}
	a.Event.Set()
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Passed.Load(); got != workers {
		t.Fatalf("%d workers passed Wait, want %d", got, workers)
	}
}

// Semaphore and Event handles decode only as their own kind, and a
// semaphore handle over memory holding no semaphore is refused.
func TestSyncHandleWrongKindIsClearError(t *testing.T) {
	seg := newSyncSegment(t, 64)
	sem, err1 := SemaphoreAt(seg, 0, 1, 0)
	ev, err2 := EventAt(seg, 16)
	mu, err3 := MutexAt(seg, 20)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	sb, _ := sem.MarshalBinary()
	eb, _ := ev.MarshalBinary()
	mb, _ := mu.MarshalBinary()
	h, err := parseHandle(eb, kindEvent, "Event")
	if err != nil {
		t.Fatal(err)
	}
	h.kind, h.off = kindSem, 32 // zeroed memory: no semaphore set up there
	unset := appendHandle(nil, h)
	tests := []struct {
		name   string
		decode func() error
		got    string // HandleError.Got; "" for a Reason
	}{
		{"semaphore as mutex", func() error { return new(Mutex).UnmarshalBinary(sb) }, "Semaphore"},
		{"semaphore as event", func() error { return new(Event).UnmarshalBinary(sb) }, "Semaphore"},
		{"event as semaphore", func() error { return new(Semaphore).UnmarshalBinary(eb) }, "Event"},
		{"event as value", func() error { return new(Value[uint32]).UnmarshalBinary(eb) }, "Event"},
		{"mutex as event", func() error { return new(Event).UnmarshalBinary(mb) }, "Mutex"},
		{"mutex as semaphore", func() error { return new(Semaphore).UnmarshalBinary(mb) }, "Mutex"},
		{"semaphore not set up", func() error { return new(Semaphore).UnmarshalBinary(unset) }, ""},
		{"truncated", func() error { return new(Semaphore).UnmarshalBinary(sb[:len(sb)-1]) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode()
			var he *HandleError
			if !errors.As(err, &he) || !errors.Is(err, ErrHandle) || he.Got != tt.got {
				t.Fatalf("decode = %v, want a *HandleError holding %q", err, tt.got)
			}
		})
	}
	var e2 Event
	if err := e2.UnmarshalBinary(eb); err != nil {
		t.Fatal(err)
	}
	e2.Set()
	if !ev.IsSet() {
		t.Fatal("Set through a decoded Event handle not seen by the original")
	}
	seg.Close()
	if _, err := sem.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Semaphore.MarshalBinary after Close = %v, want ErrClosed", err)
	}
	if _, err := ev.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Event.MarshalBinary after Close = %v, want ErrClosed", err)
	}
}

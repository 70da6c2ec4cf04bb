package lock

import (
	"context"
	"sync"
)

// Event is a flag that goroutines can wait for (Python's threading.Event):
// Set raises it and wakes every waiter, Clear lowers it again, and Wait
// returns once it is raised.
//
// The zero value is a cleared event ready to use. An Event must not be
// copied after first use.
type Event struct {
	mu  sync.Mutex    // guards set and ch
	set bool          // the flag
	ch  chan struct{} // closed while set; nil until someone waits on a cleared event
}

// closedCh stands for the channel of an event set before anyone waited.
var closedCh = func() chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}()

// Set raises the flag and wakes every goroutine waiting for it. Setting a
// set event does nothing.
func (e *Event) Set() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set {
		return
	}
	e.set = true
	if e.ch == nil {
		e.ch = closedCh
		return
	}
	close(e.ch)
}

// Clear lowers the flag: later waiters wait for the next Set. Goroutines
// already woken by a Set still return nil from Wait, even if Clear follows
// at once.
func (e *Event) Clear() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.set {
		e.set = false
		e.ch = nil
	}
}

// IsSet reports whether the flag is raised.
func (e *Event) IsSet() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.set
}

// Wait returns nil when the flag is raised, at once if it already is, or
// ctx.Err() if ctx ends first. (Python's wait(timeout) returning False is
// Wait with a context that has a deadline returning an error.)
func (e *Event) Wait(ctx context.Context) error {
	ch := e.Done()
	select {
	case <-ch:
		return nil
	default:
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel that is closed when the flag is raised, for use
// in a select. A channel returned while the event is cleared stays open
// until the next Set, even if Clear and Set follow; call Done again after
// Clear to wait for a later Set.
func (e *Event) Done() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

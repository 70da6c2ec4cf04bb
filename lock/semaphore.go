package lock

import (
	"context"
	"fmt"
	"sync"
)

// Semaphore is a weighted counting semaphore: it has a fixed number of
// permits, and each Acquire takes one or more of them until Release gives
// them back (the seed's connection-limiting Semaphore is Acquire(ctx, 1)).
// Waiters are served first come, first served: a large request at the head
// of the queue holds back smaller ones behind it, so it cannot starve.
//
// Releasing permits that are not held is refused with [ErrOverRelease], as
// Python's BoundedSemaphore refuses it. Use [NewSemaphore]; the zero value
// has no permits and is not usable.
type Semaphore struct {
	size int64

	mu   sync.Mutex // guards held, head and tail
	held int64      // permits taken
	head *semWaiter // longest waiter, next to be served
	tail *semWaiter
}

// NewSemaphore returns a semaphore with n permits, all available. It
// returns an error wrapping [ErrInvalid] if n < 1.
func NewSemaphore(n int64) (*Semaphore, error) {
	if n < 1 {
		return nil, fmt.Errorf("lock: new semaphore of %d permits: %w", n, ErrInvalid)
	}
	return &Semaphore{size: n}, nil
}

// Acquire takes n permits, waiting until they are available or ctx ends.
// It returns nil once the permits are held, or ctx.Err() if ctx ended
// first, in which case none are held. Free permits are taken even if ctx
// has already ended, as long as nobody waits before this call. It returns
// an error wrapping [ErrInvalid] if n < 1 or n exceeds the semaphore's size
// (a request that could never be met).
func (s *Semaphore) Acquire(ctx context.Context, n int64) error {
	if n < 1 || n > s.size {
		return fmt.Errorf("lock: acquire %d permits of a semaphore of %d: %w", n, s.size, ErrInvalid)
	}
	s.mu.Lock()
	if s.head == nil && s.size-s.held >= n {
		s.held += n
		s.mu.Unlock()
		return nil
	}
	if err := ctx.Err(); err != nil {
		s.mu.Unlock()
		return err
	}
	w := &semWaiter{n: n, ready: make(chan struct{}, 1)}
	s.push(w)
	s.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if w.queued {
		s.remove(w)
		// Leaving the head of the queue may let those behind proceed.
		s.grant()
		s.mu.Unlock()
		return ctx.Err()
	}
	s.mu.Unlock()
	// The permits were granted while ctx was ending: they are ours.
	<-w.ready
	return nil
}

// TryAcquire takes n permits if they are available now and nobody waits
// before it, and reports whether it did. It never waits; it returns false
// for an n that Acquire would reject.
func (s *Semaphore) TryAcquire(n int64) bool {
	if n < 1 || n > s.size {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.head != nil || s.size-s.held < n {
		return false
	}
	s.held += n
	return true
}

// Release gives back n permits and wakes the waiters they satisfy, in
// arrival order. Any goroutine may release permits another acquired. It
// returns an error wrapping [ErrInvalid] if n < 1, and [ErrOverRelease] if
// fewer than n permits are held; the semaphore is then unchanged.
func (s *Semaphore) Release(n int64) error {
	if n < 1 {
		return fmt.Errorf("lock: release %d permits: %w", n, ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.held {
		return fmt.Errorf("lock: release %d permits with %d held: %w", n, s.held, ErrOverRelease)
	}
	s.held -= n
	s.grant()
	return nil
}

// Size returns the number of permits the semaphore was created with.
func (s *Semaphore) Size() int64 { return s.size }

// Available returns the number of permits not held at the moment of the
// call; by the time the caller looks, it may have changed.
func (s *Semaphore) Available() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size - s.held
}

// grant serves waiters from the head of the queue while their requests
// fit; s.mu must be held.
func (s *Semaphore) grant() {
	for w := s.head; w != nil && s.size-s.held >= w.n; w = s.head {
		s.held += w.n
		s.remove(w)
		w.ready <- struct{}{}
	}
}

// push appends w to the queue; s.mu must be held.
func (s *Semaphore) push(w *semWaiter) {
	w.queued = true
	w.prev, w.next = s.tail, nil
	if s.tail == nil {
		s.head = w
	} else {
		s.tail.next = w
	}
	s.tail = w
}

// remove unlinks w from the queue; s.mu must be held.
func (s *Semaphore) remove(w *semWaiter) {
	if w.prev == nil {
		s.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		s.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
}

// semWaiter is one goroutine parked in Acquire.
type semWaiter struct {
	n      int64         // permits wanted
	ready  chan struct{} // receives the grant; buffered, so grant never blocks
	prev   *semWaiter    // guarded by Semaphore.mu
	next   *semWaiter    // guarded by Semaphore.mu
	queued bool          // guarded by Semaphore.mu
}

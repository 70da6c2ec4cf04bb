package lock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Barrier makes a fixed number of goroutines, its parties, wait for each
// other (Python's threading.Barrier). Each party calls Wait; the last to
// arrive runs the optional action and releases them all, and the barrier is
// at once ready for the next round.
//
// A barrier breaks when Abort is called, when a waiter's context ends, or
// when the action fails; every goroutine waiting then, and every Wait until
// Reset, returns an error wrapping [ErrBroken] (Python's
// BrokenBarrierError). Breaking on a waiter's context is deliberate: the
// other parties would otherwise wait for a goroutine that has left.
//
// Use [NewBarrier]; the zero value is not usable.
type Barrier struct {
	parties int
	action  func() error
	timeout time.Duration

	mu     sync.Mutex // guards round and broken
	round  *round     // the round now filling
	broken bool       // Wait fails at once until Reset
}

// round is one use of a barrier: the goroutines that wait together.
type round struct {
	arrived int           // guarded by Barrier.mu
	broken  bool          // guarded by Barrier.mu; set before done closes
	done    chan struct{} // closed when the round is released or broken
}

func newRound() *round { return &round{done: make(chan struct{})} }

// BarrierOption configures a [Barrier].
type BarrierOption func(*Barrier) error

// WithAction sets a function that the last goroutine to arrive runs before
// any party is released, once per round. If it returns an error or panics,
// the barrier breaks: that goroutine's Wait returns an error wrapping both
// [ErrBroken] and the action's error, the others get ErrBroken. The action
// runs while the barrier's internal lock is held, so it must not call the
// barrier's methods. The default is no action; a nil f is an error.
func WithAction(f func() error) BarrierOption {
	return func(b *Barrier) error {
		if f == nil {
			return fmt.Errorf("lock: new barrier: nil action: %w", ErrInvalid)
		}
		b.action = f
		return nil
	}
}

// WithTimeout bounds every Wait by d, as if each caller's context had that
// timeout (Python's Barrier(timeout=...)); a Wait that times out breaks the
// barrier. The default is no bound; d <= 0 is an error.
func WithTimeout(d time.Duration) BarrierOption {
	return func(b *Barrier) error {
		if d <= 0 {
			return fmt.Errorf("lock: new barrier: timeout %v: %w", d, ErrInvalid)
		}
		b.timeout = d
		return nil
	}
}

// NewBarrier returns a barrier for parties goroutines configured by opts.
// It returns an error wrapping [ErrInvalid] if parties < 1 or an option is
// invalid.
func NewBarrier(parties int, opts ...BarrierOption) (*Barrier, error) {
	if parties < 1 {
		return nil, fmt.Errorf("lock: new barrier of %d parties: %w", parties, ErrInvalid)
	}
	b := &Barrier{parties: parties, round: newRound()}
	for _, o := range opts {
		if err := o(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Wait waits until all parties have called Wait, then returns this
// goroutine's arrival index: 0 for the first to arrive, Parties()-1 for the
// last, each index once per round. On failure it returns -1 and an error
// wrapping [ErrBroken]; when this goroutine's own ctx ended (and so broke
// the barrier), the error also wraps ctx.Err().
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	b.mu.Lock()
	if b.broken {
		b.mu.Unlock()
		return -1, fmt.Errorf("lock: barrier wait: %w", ErrBroken)
	}
	r := b.round
	index := r.arrived
	r.arrived++
	if r.arrived == b.parties {
		err := b.release(r)
		b.mu.Unlock()
		if err != nil {
			return -1, err
		}
		return index, nil
	}
	b.mu.Unlock()

	select {
	case <-r.done:
	case <-ctx.Done():
		return b.leave(ctx, r, index)
	}
	return b.outcome(r, index)
}

// release ends round r, run by its last arrival with b.mu held: the action
// runs, then the parties go and a new round begins.
func (b *Barrier) release(r *round) error {
	if b.action != nil {
		if err := runAction(b.action); err != nil {
			b.breakLocked()
			return fmt.Errorf("lock: barrier action: %w: %w", ErrBroken, err)
		}
	}
	close(r.done)
	b.round = newRound()
	return nil
}

// leave handles a waiter whose ctx ended: unless round r was released or
// broken meanwhile, the waiter breaks the barrier.
func (b *Barrier) leave(ctx context.Context, r *round, index int) (int, error) {
	b.mu.Lock()
	select {
	case <-r.done:
		b.mu.Unlock()
		return b.outcome(r, index)
	default:
	}
	b.breakLocked()
	b.mu.Unlock()
	return -1, fmt.Errorf("lock: barrier wait: %w: %w", ErrBroken, ctx.Err())
}

// outcome is the result of a released or broken round for a waiter.
func (b *Barrier) outcome(r *round, index int) (int, error) {
	b.mu.Lock()
	broken := r.broken
	b.mu.Unlock()
	if broken {
		return -1, fmt.Errorf("lock: barrier wait: %w", ErrBroken)
	}
	return index, nil
}

// Abort breaks the barrier: every goroutine waiting now, and every later
// Wait until Reset, returns an error wrapping [ErrBroken].
func (b *Barrier) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.breakLocked()
}

// Reset returns the barrier to its empty, unbroken state. Goroutines
// waiting at the time return an error wrapping [ErrBroken].
func (b *Barrier) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.round.arrived > 0 {
		b.failRound()
	}
	b.broken = false
}

// Parties returns the number of goroutines the barrier waits for.
func (b *Barrier) Parties() int { return b.parties }

// Waiting returns the number of goroutines waiting in the current round.
func (b *Barrier) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.round.arrived
}

// Broken reports whether the barrier is broken.
func (b *Barrier) Broken() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.broken
}

// breakLocked marks the barrier broken and fails the round's waiters; b.mu
// must be held.
func (b *Barrier) breakLocked() {
	b.broken = true
	b.failRound()
}

// failRound wakes the current round's waiters with ErrBroken and starts a
// new round; b.mu must be held.
func (b *Barrier) failRound() {
	b.round.broken = true
	close(b.round.done)
	b.round = newRound()
}

// runAction runs f, turning a panic into an error.
func runAction(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return f()
}

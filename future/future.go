// Package future provides Future[T], the typed result of work that runs
// elsewhere, and the helpers that wait on many futures at once.
//
// It is Go's counterpart of Python's concurrent.futures.Future: every skein
// executor (goroutine pools, process pools, and later remote workers)
// returns a *Future[T]. A future is waited on with a context
// ([Future.Wait]), watched through a channel ([Future.Done]), cancelled
// ([Future.Cancel]) and observed with callbacks ([Future.OnDone]). The
// helpers [All], [First], [FailFast] and [AsCompleted] cover Python's
// wait(ALL_COMPLETED), wait(FIRST_COMPLETED), wait(FIRST_EXCEPTION) and
// as_completed.
//
// Executors resolve futures through their write side, [Promise]; [Go] runs
// one function in its own goroutine and returns its future. A panic in a
// function run by [Go] (or by any skein executor) becomes a *[PanicError]
// carrying the panic value and stack.
package future

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// State is the life-cycle stage of a future. A future moves from Pending to
// Running to one of the three final states, or from Pending straight to
// Cancelled; it never leaves a final state.
type State uint32

// The states of a future.
const (
	// Pending: accepted, not started (queued in an executor).
	Pending State = iota
	// Running: the function is executing.
	Running
	// Succeeded: finished with a nil error.
	Succeeded
	// Failed: finished with a non-nil error, including a panic.
	Failed
	// Cancelled: cancelled before it started, or it stopped with an error
	// matching context.Canceled after its context was cancelled.
	Cancelled
)

// String returns the state's name in lower case.
func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Running:
		return "running"
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Cancelled:
		return "cancelled"
	}
	return fmt.Sprintf("State(%d)", uint32(s))
}

// Done reports whether s is a final state (Succeeded, Failed or Cancelled).
func (s State) Done() bool { return s >= Succeeded }

// ErrCancelled is the error of a future cancelled before its function ran.
// It matches context.Canceled with errors.Is.
var ErrCancelled error = cancelledError{}

type cancelledError struct{}

func (cancelledError) Error() string        { return "future: cancelled" }
func (cancelledError) Is(target error) bool { return target == context.Canceled }

// closed is a channel that is always closed; Done returns it for futures
// that resolved before anyone asked for a channel.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Future is the eventual result of a function: a value of type T or an
// error. All its methods are safe for concurrent use.
//
// Futures are made by executors (pool.Submit, proc.Submit, ...), by [Go],
// or through a [Promise]. The zero Future is a pending future that only a
// Promise converted from it can resolve; a Future must not be copied after
// first use.
type Future[T any] struct {
	c   core
	val T     // written once under c.mu before the final state is stored
	err error // as val
	// cbs holds the callbacks registered before resolution; guarded by c.mu.
	cbs []func(T, error)
}

// core is the part of a future that does not depend on T; it also serves
// as the task's context (see taskContext).
type core struct {
	state     atomic.Uint32
	cancelReq atomic.Bool // Cancel was called while running

	mu      sync.Mutex         // guards the fields below
	done    chan struct{}      // made on demand; closed on resolution
	parent  context.Context    // the task context's parent, set by Promise.Context
	tctx    context.Context    // the task context, made on demand (see taskContext.Done)
	tcancel context.CancelFunc // cancels tctx
}

// Wait blocks until the future resolves or ctx ends. It returns the value
// and error of the function, ErrCancelled if the future was cancelled
// before it ran, or ctx.Err() if ctx ended first (the future is not
// affected by that: cancel it explicitly to stop the work).
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	if State(f.c.state.Load()).Done() {
		return f.val, f.err
	}
	done := f.Done()
	if ctx.Done() == nil {
		<-done
		return f.val, f.err
	}
	select {
	case <-done:
		return f.val, f.err
	case <-ctx.Done():
		// Prefer the result when both are ready, so a caller never sees a
		// context error for work that had already finished.
		if State(f.c.state.Load()).Done() {
			return f.val, f.err
		}
		var zero T
		return zero, ctx.Err()
	}
}

// Result returns the value and error without blocking; ok is false while
// the future has not resolved.
func (f *Future[T]) Result() (v T, err error, ok bool) {
	if !State(f.c.state.Load()).Done() {
		return v, nil, false
	}
	return f.val, f.err, true
}

// Done returns a channel that is closed when the future resolves.
func (f *Future[T]) Done() <-chan struct{} {
	if State(f.c.state.Load()).Done() {
		return closed
	}
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.c.done == nil {
		if State(f.c.state.Load()).Done() {
			return closed
		}
		f.c.done = make(chan struct{})
	}
	return f.c.done
}

// State returns the current state.
func (f *Future[T]) State() State { return State(f.c.state.Load()) }

// Cancel asks for the work to stop, with Python's semantics extended by
// contexts:
//
//   - pending: the future becomes Cancelled with ErrCancelled at once, the
//     function will never run, and Cancel returns true;
//   - running: the task's context is cancelled and Cancel returns false;
//     the future resolves when the function returns (as Cancelled if it
//     returns an error matching context.Canceled);
//   - already Cancelled: returns true; Succeeded or Failed: returns false.
func (f *Future[T]) Cancel() bool {
	f.c.mu.Lock()
	switch State(f.c.state.Load()) {
	case Pending:
		f.err = ErrCancelled
		if f.c.state.CompareAndSwap(uint32(Pending), uint32(Cancelled)) {
			cbs := f.finishLocked()
			f.c.mu.Unlock()
			f.runCallbacks(cbs)
			return true
		}
		// Start won the race: the function is running now.
		f.err = nil
		return f.cancelRunningLocked()
	case Running:
		return f.cancelRunningLocked()
	case Cancelled:
		f.c.mu.Unlock()
		return true
	default:
		f.c.mu.Unlock()
		return false
	}
}

// cancelRunningLocked cancels the task context of a running future and
// unlocks f.c.mu.
func (f *Future[T]) cancelRunningLocked() bool {
	f.c.cancelReq.Store(true)
	cancel := f.c.tcancel
	f.c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return false
}

// OnDone arranges for fn to be called with the result once the future
// resolves; if it has already resolved, fn runs at once in the calling
// goroutine. Otherwise fn runs in the goroutine that resolves the future
// (an executor's worker), so it must be quick and must not block; a panic
// in fn is not recovered. Callbacks run in the order they were added.
func (f *Future[T]) OnDone(fn func(v T, err error)) {
	if fn == nil {
		return
	}
	f.c.mu.Lock()
	if !State(f.c.state.Load()).Done() {
		f.cbs = append(f.cbs, fn)
		f.c.mu.Unlock()
		return
	}
	f.c.mu.Unlock()
	fn(f.val, f.err)
}

// String describes the future's state, like Python's repr of a Future.
func (f *Future[T]) String() string {
	s := f.State()
	if s == Failed {
		return fmt.Sprintf("future(failed: %v)", f.err)
	}
	return "future(" + s.String() + ")"
}

// resolve records the outcome and wakes waiters; the first call wins.
func (f *Future[T]) resolve(v T, err error) bool {
	f.c.mu.Lock()
	st := State(f.c.state.Load())
	if st.Done() {
		f.c.mu.Unlock()
		return false
	}
	final := Succeeded
	if err != nil {
		final = Failed
		if errors.Is(err, context.Canceled) && (f.c.cancelReq.Load() || (f.c.parent != nil && f.c.parent.Err() != nil)) {
			final = Cancelled
		}
	}
	f.val, f.err = v, err
	f.c.state.Store(uint32(final))
	cbs := f.finishLocked()
	cancel := f.c.tcancel
	f.c.mu.Unlock()
	if cancel != nil {
		cancel() // the task is over: release its context
	}
	f.runCallbacks(cbs)
	return true
}

// finishLocked closes the done channel after a final state was stored and
// hands back the callbacks to run once the lock is released.
func (f *Future[T]) finishLocked() []func(T, error) {
	if f.c.done != nil {
		close(f.c.done)
	}
	cbs := f.cbs
	f.cbs = nil
	return cbs
}

func (f *Future[T]) runCallbacks(cbs []func(T, error)) {
	for _, fn := range cbs {
		fn(f.val, f.err)
	}
}

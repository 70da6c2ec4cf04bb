package future

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// Promise is the write side of a [Future], for executors: it starts the
// future, gives the task its context and resolves it.
//
// The zero Promise is ready to use and holds a pending future; a Promise
// must not be copied after first use. Executors embed one per task so that
// a submission costs a single allocation.
type Promise[T any] struct {
	f Future[T]
}

// NewPromise returns a Promise holding a new pending future.
func NewPromise[T any]() *Promise[T] { return new(Promise[T]) }

// Future returns the read side handed to the caller.
func (p *Promise[T]) Future() *Future[T] { return &p.f }

// Start moves the future from Pending to Running. It returns false when the
// future was cancelled (or already started or resolved); the executor must
// then not run the function.
func (p *Promise[T]) Start() bool {
	return p.f.c.state.CompareAndSwap(uint32(Pending), uint32(Running))
}

// Resolve records the function's result. The first call wins and returns
// true; later calls, and calls after a cancellation, return false and
// change nothing. A non-nil err makes the future Failed, or Cancelled when
// err matches context.Canceled and the task's context had been cancelled.
func (p *Promise[T]) Resolve(v T, err error) bool { return p.f.resolve(v, err) }

// Abort resolves a future whose function never started as Cancelled with
// err (ErrCancelled if err is nil), for executors that drop queued work, as
// on an immediate shutdown. It returns false, changing nothing, if the
// future has started or resolved.
func (p *Promise[T]) Abort(err error) bool {
	if err == nil {
		err = ErrCancelled
	}
	f := &p.f
	f.c.mu.Lock()
	if State(f.c.state.Load()) != Pending {
		f.c.mu.Unlock()
		return false
	}
	f.err = err // before the state flips, so readers of the final state see it
	if !f.c.state.CompareAndSwap(uint32(Pending), uint32(Cancelled)) {
		f.err = nil // Start won the race
		f.c.mu.Unlock()
		return false
	}
	cbs := f.finishLocked()
	f.c.mu.Unlock()
	f.runCallbacks(cbs)
	return true
}

// Context returns the context to run the task with: it carries parent's
// values and deadline, and is done when parent is done, when the future is
// cancelled, or once the future has resolved. Call it once, before Start.
//
// It costs no allocation unless the task calls Done (or derives a context
// from it), which is what keeps tiny tasks cheap.
func (p *Promise[T]) Context(parent context.Context) context.Context {
	if parent == nil {
		parent = context.Background()
	}
	p.f.c.mu.Lock()
	p.f.c.parent = parent
	p.f.c.mu.Unlock()
	return (*taskContext)(&p.f.c)
}

// OnCancel arranges for fn to be called when Cancel is called on the
// future while it runs (after Start, before it resolves), for executors
// whose task runs out of reach of the task context (in another process)
// and must forward the request. fn runs in the goroutine that called
// Cancel, without locks held; it may run more than once if Cancel is
// called again, so it must be idempotent and quick. It is not called when
// a pending future is cancelled (Start then returns false), when the
// parent context ends, or on resolution.
//
// Call it at most once, before Start. Unlike registering on the task
// context with context.AfterFunc, it makes no context and costs one small
// allocation.
func (p *Promise[T]) OnCancel(fn func()) {
	if fn == nil {
		return
	}
	c := &p.f.c
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.tcancel
	// Cancel and resolve both call tcancel: only a Cancel of a running
	// future (cancelReq set, not yet resolved) is passed on.
	c.tcancel = func() {
		if prev != nil {
			prev()
		}
		if c.cancelReq.Load() && !State(c.state.Load()).Done() {
			fn()
		}
	}
}

// taskContext is a future's core seen as the context of its task. Err is
// answered from flags; a real context (and its channel) is made only when
// Done or AfterFunc is first called.
type taskContext core

// Deadline returns the parent's deadline.
func (c *taskContext) Deadline() (time.Time, bool) { return c.getParent().Deadline() }

// Value returns the parent's value for key.
func (c *taskContext) Value(key any) any { return c.getParent().Value(key) }

// Err returns context.Canceled once the future was cancelled or has
// resolved, else the parent's error.
func (c *taskContext) Err() error {
	if c.cancelReq.Load() || State(c.state.Load()).Done() {
		return context.Canceled
	}
	return c.getParent().Err()
}

// Done returns a channel closed when the context is done.
func (c *taskContext) Done() <-chan struct{} { return c.materialize().Done() }

// AfterFunc lets context.WithCancel and context.AfterFunc on a task
// context register without starting a goroutine (see context.AfterFunc).
func (c *taskContext) AfterFunc(fn func()) (stop func() bool) {
	return context.AfterFunc(c.materialize(), fn)
}

// String names the context for debugging output.
func (c *taskContext) String() string { return "future.taskContext" }

// getParent reads parent without the lock: it is written once, by
// Promise.Context, before the context value is handed to anyone.
func (c *taskContext) getParent() context.Context {
	p := c.parent
	if p == nil {
		return context.Background()
	}
	return p
}

// materialize makes the real context that backs Done, cancelled already if
// the future was cancelled or resolved before anyone asked.
func (c *taskContext) materialize() context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tctx == nil {
		parent := c.parent
		if parent == nil {
			parent = context.Background()
		}
		var cancel context.CancelFunc
		c.tctx, cancel = context.WithCancel(parent)
		if hook := c.tcancel; hook != nil { // set by OnCancel: keep it
			c.tcancel = func() { cancel(); hook() }
		} else {
			c.tcancel = cancel
		}
		if c.cancelReq.Load() || State(c.state.Load()).Done() {
			cancel()
		}
	}
	return c.tctx
}

// PanicError is the error of a task that panicked: the panic value and the
// stack of the goroutine (or process) where it happened. Executors put it
// on the task's future; the program goes on.
type PanicError struct {
	// Value is the value passed to panic. For a panic in another process
	// it is the panic message as a string.
	Value any
	// Stack is the formatted stack trace at the point of the panic.
	Stack []byte
}

// Error returns "task panicked: " and the panic value; format the error
// with %+v to add the stack.
func (e *PanicError) Error() string { return fmt.Sprintf("task panicked: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so errors.Is and
// errors.As see through a panic(err).
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// Format implements fmt.Formatter: %+v prints the message and the stack.
func (e *PanicError) Format(s fmt.State, verb rune) {
	if verb == 'v' && s.Flag('+') {
		fmt.Fprintf(s, "%s\n\n%s", e.Error(), e.Stack)
		return
	}
	fmt.Fprint(s, e.Error())
}

// Go runs fn in a new goroutine and returns its future. The function's
// context is ctx, also cancelled when the future is cancelled. A panic in
// fn becomes a *PanicError; a nil fn gives a failed future.
func Go[T any](ctx context.Context, fn func(context.Context) (T, error)) *Future[T] {
	if fn == nil {
		return Fail[T](errNilFunc)
	}
	p := NewPromise[T]()
	tctx := p.Context(ctx)
	p.Start()
	go func() {
		v, err := Call(tctx, fn)
		p.Resolve(v, err)
	}()
	return &p.f
}

var errNilFunc = fmt.Errorf("future: nil function")

// Call runs fn(ctx) in the calling goroutine and returns its result,
// turning a panic into a *PanicError. If fn calls runtime.Goexit the
// goroutine still exits; executors that must survive that detect it
// themselves.
func Call[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn(ctx)
}

// Fail returns a future already resolved with err, for executors that
// reject work before it starts (closed pool, bad input). A nil err is
// replaced by an error saying so, since a failed future must carry one.
func Fail[T any](err error) *Future[T] {
	if err == nil {
		err = fmt.Errorf("future: Fail called with a nil error")
	}
	p := NewPromise[T]()
	p.Start()
	var zero T
	p.Resolve(zero, err)
	return &p.f
}

// Ready returns a future already resolved with v.
func Ready[T any](v T) *Future[T] {
	p := NewPromise[T]()
	p.Start()
	p.Resolve(v, nil)
	return &p.f
}

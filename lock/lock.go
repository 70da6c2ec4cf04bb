// Package lock adds what Go's sync package lacks for the locking patterns
// of Python's threading module, built the Go way.
//
//   - [Mutex] and [Semaphore]: Lock and Acquire honour a context, so a wait
//     can be cancelled or bounded by a deadline.
//   - [All]: take several mutexes at once in one global order, whatever
//     order the caller names them in, so two goroutines that lock the same
//     accounts in opposite orders cannot deadlock (the seed's transfer).
//   - [Reentrant]: a lock that its owner may take again (Python's RLock).
//     Go has no goroutine identity, so ownership travels in the
//     [context.Context] that Lock returns.
//   - [Event] and [Barrier]: Python's Event and reusable Barrier, with the
//     barrier's broken state.
//   - [Checker]: a lock-order checker in the spirit of Linux's lockdep. It
//     records, per lock class, which locks were held while another was
//     taken, and reports an order cycle (a potential deadlock) with the
//     stacks that created it, before any goroutine actually hangs.
//
// # Lock-order checking
//
// The checker is off unless asked for, and then costs nothing: an
// unchecked [Mutex] runs exactly the instructions it would run if the
// checker did not exist. Switch it on in one of two ways:
//
//   - per lock, with an option: c, _ := lock.NewChecker() and
//     lock.NewMutex(lock.WithChecker(c)); reports go to the function set
//     with [WithReport] (tests can fail on them), or to the log;
//   - for the whole program, with a build tag: go test -tags skeinlockcheck
//     ./... makes every Mutex and Reentrant, zero values included, report
//     to [DefaultChecker], which logs.
//
// A checked lock costs a few times an unchecked one (a stack is captured
// only when a new order edge appears), where a checker that records a
// stack on every Lock costs tens of times more; a whole test suite can run
// with it on.
//
// # Why idiomatic Go avoids reentrant locks
//
// A mutex protects an invariant: while it is held, the invariant may be
// broken; when it is released, the invariant holds again. A function that
// re-locks a mutex its caller already holds would see the data in the middle
// of its caller's change, so Go's sync.Mutex is deliberately not reentrant.
// The usual shape is an exported method that locks and an unexported
// "...Locked" helper that assumes the lock is held; code that needs several
// steps under one lock calls the helpers (see examples/bank.go). Use
// [Reentrant] when porting code whose structure depends on re-entry, and
// prefer the helper shape for new code.
package lock

import "errors"

// ErrInvalid reports an argument that makes no sense, such as a semaphore
// of size 0, a negative weight, a nil lock or a barrier of no parties. It is
// returned wrapped, with the value at fault; test with errors.Is.
var ErrInvalid = errors.New("lock: invalid argument")

// ErrNotOwner is returned by [Reentrant.Unlock] when the context does not
// carry ownership of the lock: it was not returned by Lock, or the lock has
// since been released.
var ErrNotOwner = errors.New("lock: unlock by a context that does not own the lock")

// ErrOverRelease is returned by [Semaphore.Release] when more permits are
// released than are held; the semaphore is left unchanged.
var ErrOverRelease = errors.New("lock: release of more permits than are held")

// ErrBroken is returned by [Barrier.Wait] when the barrier is broken:
// aborted, reset while goroutines waited, left by a waiter whose context
// ended, or failed by its action (Python's BrokenBarrierError).
var ErrBroken = errors.New("lock: barrier is broken")

// Option configures a [Mutex] or a [Reentrant] lock at construction.
type Option func(*lockConfig)

// lockConfig holds what the options of NewMutex and NewReentrant set.
type lockConfig struct {
	checker    *Checker
	checkerSet bool
	name       string
}

// newLockConfig applies opts to a default configuration.
func newLockConfig(opts []Option) lockConfig {
	var cfg lockConfig
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// chosenChecker is the checker the options chose, the program-wide one when
// none was named and the build is checked, or nil.
func (cfg lockConfig) chosenChecker() *Checker {
	if !cfg.checkerSet && checkBuild {
		return defaultChecker
	}
	return cfg.checker
}

// WithChecker makes c watch the lock's order against the other locks c
// watches. The default is no checker, or the program-wide [DefaultChecker]
// when built with -tags skeinlockcheck; a nil c leaves the lock unchecked
// even then.
func WithChecker(c *Checker) Option {
	return func(cfg *lockConfig) {
		cfg.checker = c
		cfg.checkerSet = true
	}
}

// WithName names the lock's class in checker reports. The default is the
// file and line where the lock was created.
func WithName(name string) Option {
	return func(cfg *lockConfig) { cfg.name = name }
}

// Package resource provides Pool[T], a pool of real resources — network
// connections, clients, file handles — that goroutines borrow and give back:
// the finished version of the seed's semaphore-guarded ConnectionPool.
//
// A pool creates resources lazily with the constructor given to [New], up
// to a maximum size, and destroys them with the destructor when they break,
// expire or the pool closes. [Pool.Acquire] lends a resource as a
// [Resource] handle; the borrower gives it back with [Resource.Release], or
// with [Resource.Destroy] when it is broken. Options add a minimum of idle
// resources kept ready ([WithMinIdle]), an idle timeout ([WithIdleTimeout]),
// a maximum lifetime ([WithMaxLifetime]), a health check run before a used
// resource is lent again ([WithHealthCheck]) and a bound on how long one
// construction may take ([WithConstructTimeout]).
//
// Waiting borrowers are served first come, first served: while anyone
// waits, a released or newly built resource goes straight to the longest
// waiter, and newcomers join the end of the line. A borrower whose
// context ends while the pool builds a resource for it leaks nothing: the
// construction finishes under the pool's own lifetime and the resource goes
// to the next waiter or to the idle set.
//
// [Pool.Stats] reports sizes and counters as a plain struct; [Pool.Close]
// stops lending, destroys what is idle and waits for borrowed resources to
// come back.
package resource

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Errors returned by the pool. Compare with errors.Is.
var (
	// ErrClosed is returned by Acquire on a closed pool, including to
	// borrowers that were waiting when Close was called.
	ErrClosed = errors.New("resource: pool closed")
	// ErrReleased is returned by Release and Destroy on a handle that was
	// already released or destroyed, or on a zero Resource: each Acquire
	// allows exactly one of them.
	ErrReleased = errors.New("resource: resource already released or destroyed")
	// ErrInvalidOption is wrapped by New's errors for an argument or option
	// that makes no sense.
	ErrInvalidOption = errors.New("resource: invalid option")
)

// DefaultConstructTimeout bounds one call of the constructor unless
// WithConstructTimeout says otherwise.
const DefaultConstructTimeout = 30 * time.Second

// Option configures a Pool in New.
type Option func(*config)

type config struct {
	minIdle          int
	idleTimeout      time.Duration
	maxLifetime      time.Duration
	constructTimeout time.Duration
	healthCheck      any // func(context.Context, T) error, checked by New
	err              error
}

// invalid records the first invalid option.
func (c *config) invalid(format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalidOption}, args...)...)
	}
}

// WithMinIdle keeps at least n idle resources ready, as long as the pool is
// below its maximum size: the pool builds them in the background when it
// starts and whenever lending or destroying leaves fewer than n idle. The
// idle timeout never shrinks the idle set below n. n must be between 0 and
// the maximum size. Default: 0 (every resource is built on demand).
func WithMinIdle(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.invalid("min idle %d, want at least 0", n)
			return
		}
		c.minIdle = n
	}
}

// WithIdleTimeout destroys a resource that has sat idle for d, checked when
// it is about to be lent and by a background sweep. d must not be negative;
// 0 turns the timeout off. Default: 0 (idle resources are kept).
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalid("idle timeout %v, want at least 0", d)
			return
		}
		c.idleTimeout = d
	}
}

// WithMaxLifetime destroys a resource once it is d old: when it is
// released, before it is lent, and by a background sweep while idle. A
// borrowed resource is never taken away from its borrower. d must not be
// negative; 0 turns the limit off. Default: 0 (resources live until they
// fail or the pool closes).
func WithMaxLifetime(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.invalid("max lifetime %v, want at least 0", d)
			return
		}
		c.maxLifetime = d
	}
}

// WithConstructTimeout bounds each call of the constructor: its context is
// cancelled after d (and when the pool closes). d must be positive.
// Default: DefaultConstructTimeout.
func WithConstructTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.invalid("construct timeout %v, want more than 0", d)
			return
		}
		c.constructTimeout = d
	}
}

// WithHealthCheck runs check before each loan of a resource that has been
// lent before (a freshly built one is not checked), on the borrower's
// goroutine and with its context. A resource that fails the check is
// destroyed and Acquire carries on with another one. check must not be nil
// and its T must be the pool's. Default: no check.
func WithHealthCheck[T any](check func(ctx context.Context, v T) error) Option {
	return func(c *config) {
		if check == nil {
			c.invalid("nil health check")
			return
		}
		c.healthCheck = check
	}
}

// Pool lends resources of type T to any number of goroutines. Create it
// with New; the zero value is not usable.
//
// While nobody waits, lending an idle resource and giving it back take no
// lock: idle resources are bits in a bitmap that borrowers claim with
// compare-and-swap, so a borrower is not parked on a lock while it holds a
// resource (which would make everyone else wait in line behind it). The
// mutex orders only the slow paths: waiting in line, handing over to a
// waiter, construction, retirement and Close.
type Pool[T any] struct {
	// Read on every loan, written without mu.
	idleBits []atomic.Uint64            // bit i set: slot i holds an idle resource
	slots    []atomic.Pointer[entry[T]] // live resources by slot; nil: free
	nwait    atomic.Int32               // waiters.n, for the lock-free paths
	closed   atomic.Bool                // set once, under mu

	mu sync.Mutex
	// Guarded by mu.
	waiters      waitList[T]
	freeSlots    []int // slots without a live resource
	total        int   // live resources: idle, lent, being built or destroyed
	constructing int
	running      int           // goroutines the pool owns: reaper and constructions
	done         chan struct{} // closed when closed, total == 0 and running == 0
	counts       Stats         // the cumulative counters of Stats
	pastLoans    int64         // loans of resources already retired
	voidLoans    int64         // loans that never reached a borrower
	doomed       []*entry[T]   // claimed under mu, retired once mu is released

	// Updated by waiters and the reaper outside mu.
	waitNanos atomic.Int64
	cancelled atomic.Int64
	reapAt    atomic.Int64 // when the reaper wakes next, on p's clock; 0: not scheduled

	// Set by New, read-only afterwards.
	construct   func(context.Context) (T, error)
	destroy     func(T)
	healthCheck func(context.Context, T) error
	maxSize     int
	cfg         config
	epoch       time.Time       // origin of p.clock
	life        context.Context // bounds constructions; ended by Close
	endLife     context.CancelFunc
	kick        chan struct{} // wakes the reaper early; buffered(1); nil without one
	waiterPool  sync.Pool     // recycles waiters: no allocation per wait
}

// entry is one live resource.
type entry[T any] struct {
	pool    *Pool[T]
	value   T
	slot    int
	created time.Time
	born    int64        // created, on the pool's clock
	idle    atomic.Int64 // last release, on the pool's clock (idle timeout only)
	// loans<<1 | 1 while lent: each loan has its own value, so a stale
	// handle can never end a later loan.
	state atomic.Uint64
	// fate is why a doomed entry is retired. Guarded by pool.mu.
	fate fate
}

// fate is why a resource is retired; it picks the counter in Stats.
type fate uint8

const (
	keep fate = iota
	discarded
	idleExpired
	lifetimeExpired
	unhealthy
)

// New returns a pool of at most maxSize resources built by construct and
// destroyed by destroy. Nothing is built until it is needed, unless
// WithMinIdle asks for ready resources.
//
// construct receives a context that ends after the construct timeout or
// when the pool closes, and should give up then. It runs on a goroutine of
// the pool, never on the borrower's, so that a borrower that stops waiting
// does not abandon a half-built resource; a panic in it becomes its error.
// destroy is called exactly once for every resource construct returned
// without error, from the goroutine that retires it.
//
// New returns an error wrapping ErrInvalidOption when maxSize is below 1,
// construct or destroy is nil, or an option is invalid.
func New[T any](maxSize int, construct func(ctx context.Context) (T, error), destroy func(T), opts ...Option) (*Pool[T], error) {
	cfg := config{constructTimeout: DefaultConstructTimeout}
	for _, opt := range opts {
		if opt == nil {
			cfg.invalid("nil option")
			break
		}
		opt(&cfg)
	}
	switch {
	case cfg.err != nil:
		return nil, cfg.err
	case maxSize < 1:
		return nil, fmt.Errorf("%w: max size %d, want at least 1", ErrInvalidOption, maxSize)
	case construct == nil:
		return nil, fmt.Errorf("%w: nil constructor", ErrInvalidOption)
	case destroy == nil:
		return nil, fmt.Errorf("%w: nil destructor (pass func(T) {} if there is nothing to free)", ErrInvalidOption)
	case cfg.minIdle > maxSize:
		return nil, fmt.Errorf("%w: min idle %d above max size %d", ErrInvalidOption, cfg.minIdle, maxSize)
	}
	p := &Pool[T]{
		idleBits:  make([]atomic.Uint64, (maxSize+63)/64),
		slots:     make([]atomic.Pointer[entry[T]], maxSize),
		freeSlots: make([]int, maxSize),
		done:      make(chan struct{}),
		construct: construct,
		destroy:   destroy,
		maxSize:   maxSize,
		cfg:       cfg,
		epoch:     time.Now(),
	}
	for i := range p.freeSlots {
		p.freeSlots[i] = maxSize - 1 - i // lowest slot first
	}
	if cfg.healthCheck != nil {
		check, ok := cfg.healthCheck.(func(context.Context, T) error)
		if !ok {
			return nil, fmt.Errorf("%w: health check takes %v, pool holds %v", ErrInvalidOption,
				reflect.TypeOf(cfg.healthCheck).In(1), reflect.TypeFor[T]())
		}
		p.healthCheck = check
	}
	p.life, p.endLife = context.WithCancel(context.Background())
	p.mu.Lock()
	defer p.mu.Unlock()
	if cfg.idleTimeout > 0 || cfg.maxLifetime > 0 {
		p.kick = make(chan struct{}, 1)
		p.running++
		go p.reap()
	}
	p.fill()
	return p, nil
}

// Acquire lends a resource: an idle one if there is one and nobody is
// waiting, a new one if the pool is below its maximum size, or else the
// next one released, waiting in line behind earlier callers. A resource
// lent before passes the health check first, if there is one.
//
// It returns ctx.Err() if ctx is done first (checked before anything
// else), ErrClosed if the pool is or becomes closed, and the constructor's
// error, wrapped, if building the resource meant for this caller fails. The
// caller must end the loan exactly once, with Release or Destroy.
func (p *Pool[T]) Acquire(ctx context.Context) (Resource[T], error) {
	if err := ctx.Err(); err != nil {
		p.cancelled.Add(1)
		return Resource[T]{}, err
	}
	for {
		r, err := p.take(ctx)
		if err != nil || p.healthCheck == nil || r.state>>1 == 1 {
			return r, err
		}
		if healthy, err := p.check(ctx, r); healthy || err != nil {
			return r, err
		}
	}
}

// take lends an idle resource at once if nobody is waiting (so that no
// caller overtakes those in line), or else waits in line.
func (p *Pool[T]) take(ctx context.Context) (Resource[T], error) {
	for p.nwait.Load() == 0 {
		if p.closed.Load() {
			return Resource[T]{}, ErrClosed
		}
		e := p.claimIdle()
		if e == nil {
			break
		}
		if f := p.expiry(e); f != keep {
			p.retire(e, f)
			continue
		}
		if p.cfg.minIdle > 0 && p.idleCount() < p.cfg.minIdle {
			p.mu.Lock()
			p.fill()
			p.mu.Unlock()
		}
		return e.lend(), nil
	}
	return p.waitInLine(ctx)
}

// waitInLine queues the caller behind earlier waiters, starts a
// construction if the pool has room, and waits.
func (p *Pool[T]) waitInLine(ctx context.Context) (Resource[T], error) {
	p.mu.Lock()
	if p.closed.Load() {
		p.mu.Unlock()
		return Resource[T]{}, ErrClosed
	}
	w := p.newWaiter()
	p.waiters.pushBack(w)
	p.nwait.Add(1)
	p.counts.Waits++
	p.dispatch() // a resource released before we were in line
	p.fill()
	p.unlockAndRetire()
	return p.wait(ctx, w)
}

// wait parks an Acquire until a resource or an error is handed to w, or
// ctx ends. A resource handed over just as ctx ended goes back to the pool.
func (p *Pool[T]) wait(ctx context.Context, w *waiter[T]) (Resource[T], error) {
	start := p.clock()
	defer func() { p.waitNanos.Add(p.clock() - start) }()
	select {
	case <-w.ready:
	case <-ctx.Done():
		p.mu.Lock()
		if w.outcome == waiting {
			p.waiters.remove(w)
			p.nwait.Add(-1)
			p.mu.Unlock()
			p.freeWaiter(w)
			p.cancelled.Add(1)
			return Resource[T]{}, ctx.Err()
		}
		p.mu.Unlock()
		<-w.ready // sent under the lock before outcome was visible to us
		if w.outcome == served {
			p.void(w.r)
			_ = w.r.Release()
		}
		p.freeWaiter(w)
		p.cancelled.Add(1)
		return Resource[T]{}, ctx.Err()
	}
	r, err, out := w.r, w.err, w.outcome
	p.freeWaiter(w)
	switch out {
	case served:
		return r, nil
	case failed:
		return Resource[T]{}, err
	}
	return Resource[T]{}, ErrClosed
}

// check runs the health check on r, just lent. It reports whether r is
// healthy; if not, r is destroyed, unless ctx ended, in which case r goes
// back to the pool and ctx.Err() is returned.
func (p *Pool[T]) check(ctx context.Context, r Resource[T]) (bool, error) {
	err := p.healthCheck(ctx, r.e.value)
	if err == nil {
		return true, nil
	}
	p.void(r)
	if ctxErr := ctx.Err(); ctxErr != nil {
		_ = r.Release() // the check failed because we gave up, not the resource
		p.cancelled.Add(1)
		return false, ctxErr
	}
	r.e.state.Store(r.state &^ 1) // end the loan; nobody else holds it
	p.retire(r.e, unhealthy)
	return false, nil
}

// void records that loan r never reached a borrower.
func (p *Pool[T]) void(Resource[T]) {
	p.mu.Lock()
	p.voidLoans++
	p.mu.Unlock()
}

// Close stops the pool: later Acquire calls and those waiting fail with
// ErrClosed, constructions in progress are cancelled (what they still
// return is destroyed), idle resources are destroyed at once, and borrowed
// resources are destroyed as they are released. Close then waits until
// every resource is destroyed and the pool's goroutines have stopped, and
// returns nil; or returns ctx.Err() if ctx ends first, leaving the rest to
// finish in the background. Close may be called any number of times, from
// any goroutine; each call waits in the same way.
func (p *Pool[T]) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed.Load() {
		p.closed.Store(true)
		p.endLife()
		p.waiters.wakeAll(closedOut)
		p.nwait.Store(0)
		p.dispatch() // dooms every idle resource
		p.checkDone()
	}
	done := p.done
	p.unlockAndRetire()
	select {
	case <-done:
		return nil
	default:
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// dispatch hands idle resources to the waiters, longest waiter first,
// until one or the other runs out; on a closed pool it dooms every idle
// resource instead. p.mu must be held; call unlockAndRetire afterwards.
func (p *Pool[T]) dispatch() {
	for p.closed.Load() || p.waiters.n > 0 {
		e := p.claimIdle()
		if e == nil {
			return
		}
		if p.closed.Load() {
			p.doom(e, discarded)
			continue
		}
		if f := p.expiry(e); f != keep {
			p.doom(e, f)
			continue
		}
		w := p.waiters.popFront()
		p.nwait.Add(-1)
		w.r = e.lend()
		w.wake(served)
	}
}

// doom marks e, claimed from the idle set, for retirement when p.mu is
// released. p.mu must be held.
func (p *Pool[T]) doom(e *entry[T], f fate) {
	e.fate = f
	p.doomed = append(p.doomed, e)
}

// unlockAndRetire releases p.mu and then retires the doomed resources.
func (p *Pool[T]) unlockAndRetire() {
	doomed := p.doomed
	p.doomed = nil
	p.mu.Unlock()
	for _, e := range doomed {
		p.retire(e, e.fate)
	}
}

// retire destroys e, which is neither idle nor lent, and forgets it, even
// if the destructor panics (the panic goes on to the caller). p.mu must not
// be held.
func (p *Pool[T]) retire(e *entry[T], f fate) {
	defer p.forget(e, f)
	p.destroy(e.value)
}

// forget removes the destroyed e from the pool's books. p.mu must not be
// held.
func (p *Pool[T]) forget(e *entry[T], f fate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch f {
	case idleExpired:
		p.counts.IdleExpired++
	case lifetimeExpired:
		p.counts.LifetimeExpired++
	case unhealthy:
		p.counts.HealthCheckFailed++
	}
	p.counts.Destroyed++
	p.pastLoans += int64(e.state.Load() >> 1)
	p.slots[e.slot].Store(nil)
	p.freeSlots = append(p.freeSlots, e.slot)
	p.total--
	p.fill()
	p.checkDone()
}

// fill starts constructions while waiters and the minimum of idle
// resources outnumber the constructions in progress, within the maximum
// size. p.mu must be held.
func (p *Pool[T]) fill() { p.fillUpTo(p.cfg.minIdle) }

// fillUpTo starts constructions for the waiters plus minIdle idle
// resources. p.mu must be held.
func (p *Pool[T]) fillUpTo(minIdle int) {
	for !p.closed.Load() && p.total < p.maxSize &&
		p.waiters.n+minIdle > p.idleCount()+p.constructing {
		p.total++
		p.constructing++
		p.running++
		go p.build()
	}
}

// build runs the constructor on a goroutine of the pool and hands the
// result to the longest waiter or the idle set; an error goes to a waiter
// left without a construction.
func (p *Pool[T]) build() {
	v, err := p.callConstruct()
	p.mu.Lock()
	defer p.unlockAndRetire()
	defer p.checkDone()
	p.running--
	p.constructing--
	switch {
	case err != nil:
		p.total--
		p.counts.ConstructErrors++
		// A failure leaves a waiter unserved only if waiters now outnumber
		// the constructions still running; that waiter gets the error.
		if p.waiters.n > p.constructing {
			w := p.waiters.popFront()
			p.nwait.Add(-1)
			w.err = err
			w.wake(failed)
		}
		// Waiters still unserved get a construction of their own; the
		// minimum of idle resources waits for later activity, so that a
		// failing constructor is not retried in a loop.
		p.fillUpTo(0)
	default:
		p.counts.Constructed++
		now := time.Now()
		e := &entry[T]{pool: p, value: v, created: now, born: int64(now.Sub(p.epoch))}
		e.idle.Store(e.born)
		last := len(p.freeSlots) - 1
		e.slot = p.freeSlots[last]
		p.freeSlots = p.freeSlots[:last]
		p.slots[e.slot].Store(e)
		p.markIdle(e)
		p.dispatch() // to the longest waiter; dooms it if the pool closed
	}
}

// callConstruct calls the constructor under the construct timeout and
// turns its panic into an error.
func (p *Pool[T]) callConstruct() (v T, err error) {
	ctx, cancel := context.WithTimeout(p.life, p.cfg.constructTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("resource: construct panicked: %v", r)
		}
	}()
	v, err = p.construct(ctx)
	if err != nil {
		return v, fmt.Errorf("resource: construct: %w", err)
	}
	return v, nil
}

// checkDone closes p.done once a closed pool has nothing left. p.mu must be
// held.
func (p *Pool[T]) checkDone() {
	if !p.closed.Load() || p.total > 0 || p.running > 0 {
		return
	}
	select {
	case <-p.done:
	default:
		close(p.done)
	}
}

// expiry tells whether e, just claimed from the idle set, must be retired
// rather than lent, and why. The idle timeout spares the last minIdle idle
// resources.
func (p *Pool[T]) expiry(e *entry[T]) fate {
	if p.cfg.maxLifetime == 0 && p.cfg.idleTimeout == 0 {
		return keep
	}
	now := p.clock()
	if p.cfg.maxLifetime > 0 && now-e.born >= int64(p.cfg.maxLifetime) {
		return lifetimeExpired
	}
	if p.cfg.idleTimeout > 0 && now-e.idle.Load() >= int64(p.cfg.idleTimeout) && p.idleCount() >= p.cfg.minIdle {
		return idleExpired
	}
	return keep
}

// clock returns the time since the pool was created, in nanoseconds: a
// monotonic reading cheaper than time.Now.
func (p *Pool[T]) clock() int64 { return int64(time.Since(p.epoch)) }

// claimIdle takes a resource out of the idle set, lowest slot first (so
// that the highest slots stay idle long enough to expire), or returns nil
// if none is idle.
func (p *Pool[T]) claimIdle() *entry[T] {
	for i := range p.idleBits {
		word := &p.idleBits[i]
		for w := word.Load(); w != 0; w = word.Load() {
			b := bits.TrailingZeros64(w)
			if word.CompareAndSwap(w, w&^(1<<b)) {
				return p.slots[i*64+b].Load()
			}
		}
	}
	return nil
}

// claim takes e out of the idle set if it is still there.
func (p *Pool[T]) claim(e *entry[T]) bool {
	word, bit := &p.idleBits[e.slot/64], uint64(1)<<(e.slot%64)
	for w := word.Load(); w&bit != 0; w = word.Load() {
		if word.CompareAndSwap(w, w&^bit) {
			return true
		}
	}
	return false
}

// markIdle puts e, which nobody holds, in the idle set.
func (p *Pool[T]) markIdle(e *entry[T]) {
	p.idleBits[e.slot/64].Or(1 << (e.slot % 64))
}

// isIdle reports whether slot holds an idle resource.
func (p *Pool[T]) isIdle(slot int) bool {
	return p.idleBits[slot/64].Load()&(1<<(slot%64)) != 0
}

// idleCount returns the number of idle resources.
func (p *Pool[T]) idleCount() int {
	n := 0
	for i := range p.idleBits {
		n += bits.OnesCount64(p.idleBits[i].Load())
	}
	return n
}

// lend starts a new loan of e, which the caller has claimed.
func (e *entry[T]) lend() Resource[T] {
	return Resource[T]{e, e.state.Add(3)} // loans+1, lent bit set
}

// Resource is a loan from a Pool: one resource, borrowed by one holder
// until it calls Release or Destroy. It is a small value; copies refer to
// the same loan, and only the first Release or Destroy of that loan counts.
type Resource[T any] struct {
	e     *entry[T]
	state uint64
}

// Value returns the borrowed resource. It must not be used after Release or
// Destroy. The zero Resource returns the zero T.
func (r Resource[T]) Value() T {
	if r.e == nil {
		var zero T
		return zero
	}
	return r.e.value
}

// CreatedAt returns when the resource was built.
func (r Resource[T]) CreatedAt() time.Time {
	if r.e == nil {
		return time.Time{}
	}
	return r.e.created
}

// Release gives the resource back: to the longest waiting Acquire, or to
// the idle set. On a closed pool, or past its maximum lifetime, the
// resource is destroyed instead (in this call). It returns ErrReleased if
// this loan was already released or destroyed.
func (r Resource[T]) Release() error {
	e := r.e
	if e == nil || !e.state.CompareAndSwap(r.state, r.state&^1) {
		return ErrReleased
	}
	p := e.pool
	switch {
	case p.closed.Load():
		p.retire(e, discarded)
		return nil
	case p.cfg.maxLifetime > 0 && time.Since(e.created) >= p.cfg.maxLifetime:
		p.retire(e, lifetimeExpired)
		return nil
	}
	var deadline int64
	if p.kick != nil { // a timeout is set
		e.idle.Store(p.clock())
		deadline = p.deadline(e, p.idleCount()+1)
	}
	p.markIdle(e)
	// Whoever is second, this release or a waiter getting in line (or
	// Close), sees the other's write: the atomics are sequentially
	// consistent. So a waiter is never left behind an idle resource.
	if p.nwait.Load() > 0 || p.closed.Load() {
		p.mu.Lock()
		p.dispatch()
		p.unlockAndRetire()
	}
	if deadline != 0 {
		p.scheduleReap(deadline)
	}
	return nil
}

// Destroy ends the loan and destroys the resource, in this call, instead
// of giving it back: for a resource the holder found broken. A waiting
// Acquire then gets a new one. It returns ErrReleased if this loan was
// already released or destroyed.
func (r Resource[T]) Destroy() error {
	e := r.e
	if e == nil || !e.state.CompareAndSwap(r.state, r.state&^1) {
		return ErrReleased
	}
	e.pool.retire(e, discarded)
	return nil
}

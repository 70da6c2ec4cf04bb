package lock

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// Mutex is a mutual exclusion lock whose Lock honours a context. Waiters
// queue in arrival order. As with sync.Mutex, a goroutine that arrives just
// as the lock is released may take it before the longest waiter, which keeps
// throughput high under contention; but a waiter is beaten at most once:
// after that, Unlock hands the lock to it directly, so no waiter starves.
//
// The zero value is an unlocked mutex ready to use; [NewMutex] is needed
// only to give the lock a checker or a name. A Mutex must not be copied
// after first use. As with sync.Mutex, a Mutex is not tied to a goroutine:
// one goroutine may lock it and another unlock it.
type Mutex struct {
	state atomic.Int32          // bits mutexLocked, mutexWaiters, mutexChecked, mutexOptOut
	seq   atomic.Uint64         // global order key for All; 0 until first needed
	check atomic.Pointer[track] // checker bookkeeping; nil when unchecked

	wmu  sync.Mutex // guards head, tail and every queued waiter's links
	head *waiter    // longest waiter, next to be woken
	tail *waiter
}

// Bits of Mutex.state. mutexChecked is set once and never cleared: it
// diverts Lock and Unlock from their fast paths, which compare the whole
// state with 0 and mutexLocked, so an unchecked mutex pays nothing for it.
const (
	mutexLocked  = 1 << iota // held
	mutexWaiters             // the waiter queue is not empty
	mutexChecked             // a Checker watches this mutex
	mutexOptOut              // WithChecker(nil) in a checked build: never watch
)

// orderSeq hands out the global order of mutexes used by All.
var orderSeq atomic.Uint64

// NewMutex returns an unlocked mutex configured by opts. Its lock class for
// the checker is the place NewMutex was called from, unless [WithName]
// names it.
func NewMutex(opts ...Option) *Mutex {
	m := &Mutex{}
	m.seq.Store(orderSeq.Add(1))
	cfg := newLockConfig(opts)
	if c := cfg.chosenChecker(); c != nil {
		m.watch(c, cfg.name, callerPC(2))
	} else if checkBuild {
		m.state.Or(mutexOptOut)
	}
	return m
}

// watch attaches checker c; name and pc (where the lock was created) give
// the lock's class.
func (m *Mutex) watch(c *Checker, name string, pc uintptr) {
	m.check.Store(c.newTrack(name, pc))
	m.state.Or(mutexChecked)
}

// Lock locks m, waiting until it is free or ctx ends. It returns nil once m
// is held, or ctx.Err() if ctx ended first, in which case m is not held by
// this call. A free mutex is taken even if ctx has already ended, as a
// non-blocking acquire would. Locking a mutex that the same goroutine
// already holds waits forever (or until ctx ends): Mutex is not reentrant.
func (m *Mutex) Lock(ctx context.Context) error {
	if checkBuild {
		return m.lockChecked(ctx)
	}
	if m.state.Load() == 0 && m.state.CompareAndSwap(0, mutexLocked) {
		return nil
	}
	return m.lockSlow(ctx)
}

// TryLock locks m if it is free and reports whether it did. It never waits.
func (m *Mutex) TryLock() bool {
	if !checkBuild && m.state.CompareAndSwap(0, mutexLocked) {
		return true
	}
	for {
		s := m.state.Load()
		if s&mutexLocked != 0 {
			return false
		}
		if m.state.CompareAndSwap(s, s|mutexLocked) {
			break
		}
	}
	if t := m.tracker(); t != nil {
		t.checker.acquired(t.checker.goroutine(currentGoroutine()), t)
	}
	return true
}

// Unlock unlocks m, handing it to the longest waiter if there is one.
// Unlocking a mutex that is not locked is a programming error, as with
// sync.Mutex: Unlock panics with a message that says so.
func (m *Mutex) Unlock() {
	if !checkBuild && m.state.Load() == mutexLocked && m.state.CompareAndSwap(mutexLocked, 0) {
		return
	}
	m.unlockSlow()
}

// lockSlow is Lock when the fast path failed: the mutex is held, has
// waiters or is checked.
func (m *Mutex) lockSlow(ctx context.Context) error {
	if m.state.Load()&mutexChecked != 0 {
		return m.lockChecked(ctx)
	}
	return m.acquire(ctx)
}

// lockChecked is Lock for a mutex a Checker watches: the order check runs
// before waiting, so a potential deadlock is reported even when this
// particular run would hang.
func (m *Mutex) lockChecked(ctx context.Context) error {
	t := m.tracker()
	if t == nil {
		return m.acquire(ctx)
	}
	h := t.checker.goroutine(currentGoroutine())
	t.checker.before(h, t)
	if err := m.acquire(ctx); err != nil {
		return err
	}
	t.checker.acquired(h, t)
	return nil
}

// tracker returns m's checker bookkeeping, creating it on first use when the
// whole program is checked (a zero-value Mutex has none yet). It returns nil
// for an unchecked mutex.
func (m *Mutex) tracker() *track {
	if t := m.check.Load(); t != nil || !checkBuild || m.state.Load()&mutexOptOut != 0 {
		return t
	}
	t := defaultChecker.newTrack("", 0)
	if m.check.CompareAndSwap(nil, t) {
		m.state.Or(mutexChecked)
		return t
	}
	return m.check.Load()
}

// acquire takes the lock, queueing when it is held.
//
// Like sync.Mutex, a running goroutine may take a lock that was just
// released even if others are queued: handing the lock to a parked waiter
// means keeping it idle until the scheduler runs that waiter, which under
// contention costs several times more than the critical section. A waiter
// that is woken and loses that race goes back to the head of the queue, and
// the next Unlock hands the lock to it directly, so no waiter loses twice.
func (m *Mutex) acquire(ctx context.Context) error {
	if m.tryAcquire() {
		return nil
	}
	var w *waiter
	for {
		if m.spin() {
			return nil
		}
		m.wmu.Lock()
		if acquired, err := m.markWaiting(ctx); acquired || err != nil {
			m.wmu.Unlock()
			return err
		}
		if w == nil {
			w = newWaiter()
			m.push(w)
		} else {
			// Woken, but another goroutine took the lock first.
			w.lost = true
			m.pushFront(w)
		}
		m.wmu.Unlock()

		select {
		case handedOff := <-w.ready:
			if handedOff {
				return nil
			}
			continue // woken: compete for the lock again
		case <-ctx.Done():
		}
		return m.abandon(ctx, w)
	}
}

// markWaiting, called with wmu held, either takes the lock if it is free
// (acquired), or sets mutexWaiters on the held lock, so that the holder's
// Unlock takes the slow path and wakes the queue's head. The flag is set
// only while the lock is seen held: set on a lock released meanwhile, it
// would queue a waiter that nobody wakes. It returns ctx.Err() if ctx ended
// while the lock was held.
func (m *Mutex) markWaiting(ctx context.Context) (acquired bool, err error) {
	for {
		s := m.state.Load()
		if s&mutexLocked == 0 {
			if m.state.CompareAndSwap(s, s|mutexLocked) {
				return true, nil
			}
			continue
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if s&mutexWaiters != 0 || m.state.CompareAndSwap(s, s|mutexWaiters) {
			return false, nil
		}
	}
}

// tryAcquire takes the lock if it is free.
func (m *Mutex) tryAcquire() bool {
	s := m.state.Load()
	return s&mutexLocked == 0 && m.state.CompareAndSwap(s, s|mutexLocked)
}

// spin retries a few times, yielding in between: most critical sections
// are short, and a lock released meanwhile is taken without parking.
func (m *Mutex) spin() bool {
	for range 4 {
		if m.tryAcquire() {
			return true
		}
		runtime.Gosched()
	}
	return false
}

// abandon handles a waiter whose ctx ended: it leaves the queue, or, if
// Unlock signalled it meanwhile, takes the lock it was handed or passes the
// wake-up on to the next waiter.
func (m *Mutex) abandon(ctx context.Context, w *waiter) error {
	m.wmu.Lock()
	if w.queued {
		m.remove(w)
		m.wmu.Unlock()
		return ctx.Err()
	}
	m.wmu.Unlock()
	if <-w.ready {
		// Handed the lock while ctx was ending: it is ours, and reporting
		// success is simpler and as correct as passing it on.
		return nil
	}
	m.wmu.Lock()
	m.wakeLocked()
	m.wmu.Unlock()
	return ctx.Err()
}

// unlockSlow is Unlock when the fast path failed: the mutex has waiters, is
// checked, or is not locked at all.
func (m *Mutex) unlockSlow() {
	if s := m.state.Load(); s&mutexLocked == 0 {
		panic("lock: Unlock of an unlocked Mutex")
	}
	if t := m.tracker(); t != nil {
		t.checker.released(t, currentGoroutine())
	}
	m.release()
}

// release unlocks m without telling its checker, and wakes the longest
// waiter if there is one.
func (m *Mutex) release() {
	if s := m.state.Load(); s&(mutexLocked|mutexWaiters) == mutexLocked && m.state.CompareAndSwap(s, s&^mutexLocked) {
		return // nobody to wake: a checked mutex's fast path
	}
	m.wmu.Lock()
	defer m.wmu.Unlock()
	if m.state.Load()&mutexLocked == 0 {
		panic("lock: Unlock of an unlocked Mutex")
	}
	if w := m.head; w != nil && w.lost {
		// This waiter already lost a race for the lock: give it the lock
		// without releasing it, so nobody can take it first.
		m.remove(w)
		w.ready <- true
		return
	}
	m.state.And(^int32(mutexLocked))
	m.wakeLocked()
}

// wakeLocked wakes the longest waiter, if any, to compete for the lock;
// wmu must be held.
func (m *Mutex) wakeLocked() {
	if w := m.head; w != nil {
		m.remove(w)
		w.ready <- false
	}
}

// pushFront puts w at the head of the waiter queue; wmu must be held.
func (m *Mutex) pushFront(w *waiter) {
	w.queued = true
	w.prev = nil
	w.next = m.head
	if m.head == nil {
		m.tail = w
	} else {
		m.head.prev = w
	}
	m.head = w
}

// push appends w to the waiter queue; wmu must be held.
func (m *Mutex) push(w *waiter) {
	w.queued = true
	w.prev = m.tail
	w.next = nil
	if m.tail == nil {
		m.head = w
	} else {
		m.tail.next = w
	}
	m.tail = w
}

// remove unlinks w from the waiter queue and clears mutexWaiters when the
// queue empties; wmu must be held.
func (m *Mutex) remove(w *waiter) {
	if w.prev == nil {
		m.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		m.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next, w.queued = nil, nil, false
	if m.head == nil {
		m.state.And(^int32(mutexWaiters))
	}
}

// order returns m's position in the global lock order, assigning one on
// first use so that the zero value works with All.
func (m *Mutex) order() uint64 {
	if s := m.seq.Load(); s != 0 {
		return s
	}
	m.seq.CompareAndSwap(0, orderSeq.Add(1))
	return m.seq.Load()
}

// waiter is one goroutine parked in Mutex.acquire.
type waiter struct {
	// ready receives true when Unlock hands the lock over, false when it
	// only wakes the waiter to compete; buffered, so Unlock never blocks.
	ready  chan bool
	prev   *waiter // guarded by the mutex's wmu
	next   *waiter // guarded by the mutex's wmu
	queued bool    // guarded by the mutex's wmu
	lost   bool    // guarded by the mutex's wmu: woken once and beaten to the lock
}

// newWaiter makes a waiter. Waiters are not pooled: a channel made inside
// a testing/synctest bubble must not be used outside it, and parking costs
// far more than the allocation anyway.
func newWaiter() *waiter { return &waiter{ready: make(chan bool, 1)} }

// callerPC returns the program counter skip frames above its caller, or 0.
func callerPC(skip int) uintptr {
	var pcs [1]uintptr
	if runtime.Callers(skip+1, pcs[:]) == 0 {
		return 0
	}
	return pcs[0]
}

package shm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"
)

// SemaphoreSize is the number of bytes a Semaphore occupies in a segment
// (three 32-bit words); its offset must be a multiple of 4.
const SemaphoreSize = 12

// SemaphoreMaxValue is the largest count a Semaphore can hold, and so the
// largest initial and max a SemaphoreAt accepts: Python's SEM_VALUE_MAX
// on Linux.
const SemaphoreMaxValue = math.MaxInt32

var (
	// ErrOverRelease is returned by Release when the count is already at
	// the semaphore's bound (its max, or SemaphoreMaxValue when unbounded):
	// the ValueError of Python's BoundedSemaphore.release.
	ErrOverRelease = errors.New("shm: semaphore released too many times")
	// ErrInvalidCount is returned by SemaphoreAt for an initial or max
	// count that is negative, above SemaphoreMaxValue, or an initial count
	// above a non-zero max.
	ErrInvalidCount = errors.New("shm: invalid semaphore count")
	// ErrBoundMismatch is returned by SemaphoreAt when the semaphore at
	// the offset was already set up, by this or another process, with
	// another max.
	ErrBoundMismatch = errors.New("shm: semaphore already set up with another max")
)

// Semaphore is a counting semaphore that lives in a segment and works
// across processes: Python's multiprocessing.Semaphore, or its
// BoundedSemaphore when made with a max. Acquire takes one unit, waiting
// while the count is 0; Release gives one back and wakes one waiter. Any
// goroutine of any process may release, whether or not it acquired.
// Like Mutex it is not fair: a unit released while a process is asleep may
// be taken by one that just arrived. Get one with SemaphoreAt; the zero
// Semaphore is not usable.
//
// A semaphore has no owner, in Go as in Python: a process that dies while
// holding units does not give them back, and the count stays that much
// lower for good. Nobody hangs forever because of it (every Acquire is
// bounded by its ctx), but if workers may be killed, prefer a Mutex
// (which recovers from a dead owner) or have a supervisor Release the
// units of the workers it knows died.
//
// Release orders memory like sync.Mutex's Unlock before a Lock: what the
// releasing goroutine wrote before Release is visible to the goroutine
// whose Acquire took that unit (the race detector knows this within one
// process).
type Semaphore struct {
	w       *atomic.Uint32 // readyBit | count
	waiters *atomic.Uint32 // processes that may be asleep on w
	limit   uint32         // Release fails at this count
	max     int            // as set up: 0 for unbounded
	m       *mapping       // keeps the memory mapped while s is reachable
	race    *raceToken     // nil outside race builds
	seg     *Segment       // for MarshalBinary
	off     int
}

// Semaphore layout, three 32-bit words from the offset:
//
//	+0 state:   semReady once set up, plus the count in the low 31 bits
//	+4 bound:   semReady once set up, plus max (0: unbounded)
//	+8 waiters: how many Acquires, of any process, are in the sleeping loop
//
// Zeroed memory is a semaphore not yet set up; the state word's ready bit
// is what lets a second SemaphoreAt tell "count 0" from "never set up".
// A process killed in that loop leaves waiters one too high for good:
// every Release then makes a futex wake call it may not need, nothing
// worse.
const (
	semReady = 1 << 31
	semCount = semReady - 1
)

// SemaphoreAt returns the Semaphore at byte offset off of s. The first
// call for an offset (in any process) sets the semaphore up with count
// initial and bound max; later calls, from this process or another mapping
// the segment, share that semaphore and ignore initial, as long as they
// pass the same max (ErrBoundMismatch otherwise). max 0 means unbounded,
// Python's plain Semaphore: Release only fails past SemaphoreMaxValue.
// max > 0 is Python's BoundedSemaphore(max) when initial == max.
//
// Errors: ErrInvalidCount for initial or max below 0 or above
// SemaphoreMaxValue, or initial > max > 0; ErrAlign unless off is a
// multiple of 4; ErrRange unless the SemaphoreSize bytes lie inside s.
// The memory must be zero or hold a Semaphore: placing one over other
// data is a layout error SemaphoreAt cannot detect.
func SemaphoreAt(s *Segment, off, initial, max int) (*Semaphore, error) {
	if initial < 0 || max < 0 || initial > SemaphoreMaxValue || max > SemaphoreMaxValue || (max > 0 && initial > max) {
		return nil, fmt.Errorf("shm: semaphore at %d with initial %d, max %d: %w", off, initial, max, ErrInvalidCount)
	}
	sem, err := semaphoreView(s, off)
	if err != nil {
		return nil, err
	}
	bound := sem.boundWord()
	want := semReady | uint32(max)
	// The bound is published before the count, so whoever sees a set-up
	// count also sees its bound.
	if !bound.CompareAndSwap(0, want) {
		if got := bound.Load(); got != want {
			return nil, fmt.Errorf("shm: semaphore at %d has max %d, asked for %d: %w", off, got&semCount, max, ErrBoundMismatch)
		}
	}
	sem.w.CompareAndSwap(0, semReady|uint32(initial))
	sem.setBound(bound.Load())
	return sem, nil
}

// semaphoreView maps the semaphore words at off of s without setting
// them up.
func semaphoreView(s *Segment, off int) (*Semaphore, error) {
	p, err := s.view(off, SemaphoreSize, 4)
	if err != nil {
		return nil, fmt.Errorf("shm: semaphore at %d: %w", off, err)
	}
	return &Semaphore{
		w:       (*atomic.Uint32)(p),
		waiters: (*atomic.Uint32)(unsafe.Add(p, 8)),
		m:       s.m,
		race:    raceTokenFor(p),
		seg:     s,
		off:     off,
	}, nil
}

// setBound records the bound word's max in sem.
func (sem *Semaphore) setBound(bound uint32) {
	sem.max = int(bound & semCount)
	sem.limit = uint32(sem.max)
	if sem.max == 0 {
		sem.limit = SemaphoreMaxValue
	}
}

// Acquire takes one unit, waiting while the count is 0. It returns nil
// with the unit taken, or ctx.Err() without it when ctx ends first. If a
// unit is free, Acquire takes it even if ctx is already done. While it
// sleeps, a waiting goroutine occupies an OS thread (as in a system call).
func (sem *Semaphore) Acquire(ctx context.Context) error {
	if !sem.tryTake() {
		if err := sem.acquireSlow(ctx); err != nil {
			return err
		}
	}
	sem.race.acquire()
	return nil
}

// TryAcquire takes one unit if the count is above 0, without waiting, and
// reports whether it did: Python's acquire(False).
func (sem *Semaphore) TryAcquire() bool {
	if !sem.tryTake() {
		return false
	}
	sem.race.acquire()
	return true
}

// Release gives back one unit and wakes one waiting Acquire, if any. At
// the bound (max, or SemaphoreMaxValue for an unbounded semaphore) it
// changes nothing and returns an error matching ErrOverRelease.
func (sem *Semaphore) Release() error {
	for {
		v := sem.w.Load()
		if v&semCount >= sem.limit {
			return fmt.Errorf("shm: release of a semaphore already at its bound %d: %w", sem.limit, ErrOverRelease)
		}
		sem.race.release()
		if sem.w.CompareAndSwap(v, v+1) {
			// Ordered after the count's store: a waiter that registered
			// too late to be counted here sees the new count before it
			// sleeps (the futex compares the word).
			if sem.waiters.Load() != 0 {
				futexWakeN(sem.addr(), 1)
			}
			return nil
		}
	}
}

// Value returns the current count, Python's get_value(): a snapshot that
// other processes may change at once.
func (sem *Semaphore) Value() int { return int(sem.w.Load() & semCount) }

// tryTake takes a unit if there is one.
func (sem *Semaphore) tryTake() bool {
	for {
		v := sem.w.Load()
		if v&semCount == 0 {
			return false
		}
		if sem.w.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// acquireSlow sleeps on the state word, in slices that re-check ctx,
// until it takes a unit or ctx ends.
func (sem *Semaphore) acquireSlow(ctx context.Context) error {
	if ctx.Done() != nil {
		// Cancellation wakes every sleeper on the word; the others find
		// the count still 0 and sleep again.
		stop := context.AfterFunc(ctx, func() { futexWakeN(sem.addr(), math.MaxInt32) })
		defer stop()
	}
	sem.waiters.Add(1)
	defer sem.waiters.Add(^uint32(0))
	for {
		if sem.tryTake() {
			return nil
		}
		d, err := sliceFor(ctx)
		if err != nil {
			// The wake of a Release may have been spent on this waiter:
			// pass it on.
			if sem.Value() > 0 {
				futexWakeN(sem.addr(), 1)
			}
			return err
		}
		// Sleeps only while the count is still 0; the slice bounds the
		// cost of a wake lost with a process that died holding it.
		futexWaitFor(sem.addr(), semReady, d)
	}
}

// boundWord returns the bound word, which only SemaphoreAt and decoding
// read (the bound never changes once set up).
func (sem *Semaphore) boundWord() *atomic.Uint32 {
	return (*atomic.Uint32)(unsafe.Add(unsafe.Pointer(sem.w), 4))
}

// addr returns the address of the state word for futex calls.
func (sem *Semaphore) addr() *uint32 { return (*uint32)(unsafe.Pointer(sem.w)) }

package shm

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"unsafe"
)

// EventSize is the number of bytes an Event occupies in a segment; its
// offset must be a multiple of 4.
const EventSize = 4

// Event is a flag that lives in a segment and works across processes:
// Python's multiprocessing.Event. Set raises it and wakes every waiter,
// Clear lowers it, Wait waits for it to be raised. Any goroutine of any
// process may call any method. Get one with EventAt; the zero Event is not
// usable.
//
// Set orders memory like a channel close: what a goroutine wrote before
// Set is visible to a goroutine once its Wait returns nil or IsSet
// reports true (the race detector knows this within one process).
type Event struct {
	w    *atomic.Uint32 // eventSet | eventWaiters | generation
	m    *mapping       // keeps the memory mapped while e is reachable
	race *raceToken     // nil outside race builds
	seg  *Segment       // for MarshalBinary
	off  int
}

// Event word: bit 0 is the flag; bit 1 is set while some process may be
// asleep on the word (so Set must wake them); the bits above count the
// Sets, so that a waiter woken by a Set that was cleared again before it
// looked still knows the event was set.
const (
	eventSet     = 1
	eventWaiters = 2
	eventGenOne  = 4 // one Set, in the generation bits
	eventGenMask = ^uint32(eventSet | eventWaiters)
)

// EventAt returns the Event at byte offset off of s. off must be a
// multiple of 4 (ErrAlign) and the EventSize bytes must lie inside s
// (ErrRange). Zeroed memory is a cleared event, so a fresh segment needs
// no set-up; every process calling EventAt at the same offset shares one
// event.
func EventAt(s *Segment, off int) (*Event, error) {
	p, err := s.view(off, EventSize, 4)
	if err != nil {
		return nil, fmt.Errorf("shm: event at %d: %w", off, err)
	}
	return &Event{w: (*atomic.Uint32)(p), m: s.m, race: raceTokenFor(p), seg: s, off: off}, nil
}

// Set raises the flag and wakes every process and goroutine waiting in
// Wait. Setting a set event does nothing.
func (e *Event) Set() {
	for {
		v := e.w.Load()
		if v&eventSet != 0 {
			return
		}
		e.race.release()
		if e.w.CompareAndSwap(v, (v&eventGenMask)+eventGenOne|eventSet) {
			if v&eventWaiters != 0 {
				futexWakeN(e.addr(), math.MaxInt32)
			}
			return
		}
	}
}

// Clear lowers the flag, so that later Waits wait for the next Set.
// Clearing a cleared event does nothing.
func (e *Event) Clear() {
	for {
		v := e.w.Load()
		if v&eventSet == 0 || e.w.CompareAndSwap(v, v&^eventSet) {
			return
		}
	}
}

// IsSet reports whether the flag is raised, Python's is_set().
func (e *Event) IsSet() bool {
	if e.w.Load()&eventSet == 0 {
		return false
	}
	e.race.acquire()
	return true
}

// Wait waits until the flag is raised. It returns nil once the event is
// set, or has been set at any moment since Wait began (even if cleared
// again before this waiter looked); or ctx.Err() when ctx ends first. A
// set event returns nil at once, even if ctx is already done. While it
// sleeps, a waiting goroutine occupies an OS thread (as in a system call).
func (e *Event) Wait(ctx context.Context) error {
	v := e.w.Load()
	if v&eventSet == 0 {
		if err := e.waitSlow(ctx, v&eventGenMask); err != nil {
			return err
		}
	}
	e.race.acquire()
	return nil
}

// waitSlow sleeps on the word, in slices that re-check ctx, until the
// flag is raised or the generation moves on from gen.
func (e *Event) waitSlow(ctx context.Context, gen uint32) error {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { futexWakeN(e.addr(), math.MaxInt32) })
		defer stop()
	}
	for {
		v := e.w.Load()
		if v&eventSet != 0 || v&eventGenMask != gen {
			return nil
		}
		if v&eventWaiters == 0 {
			if !e.w.CompareAndSwap(v, v|eventWaiters) {
				continue
			}
			v |= eventWaiters
		}
		d, err := sliceFor(ctx)
		if err != nil {
			return err
		}
		futexWaitFor(e.addr(), v, d)
	}
}

// addr returns the address of the event word for futex calls.
func (e *Event) addr() *uint32 { return (*uint32)(unsafe.Pointer(e.w)) }

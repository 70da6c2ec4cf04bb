package shm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"sync/atomic"
	"time"
	"unsafe"
)

// MutexSize is the number of bytes a Mutex occupies in a segment; its
// offset must be a multiple of 4.
const MutexSize = 4

var (
	// ErrOwnerDead is matched (errors.Is) by the error Lock and TryLock
	// return when the process that held the mutex died holding it. The
	// mutex is then held by the caller, who should repair the state it
	// guards and Unlock as usual. The error is an *OwnerDeadError.
	ErrOwnerDead = errors.New("shm: previous mutex owner died holding it")
	// ErrBusy is returned by TryLock when a live process holds the mutex.
	ErrBusy = errors.New("shm: mutex is locked")
	// ErrNotOwner is returned by Unlock when the calling process does not
	// hold the mutex (another process does, or nobody does).
	ErrNotOwner = errors.New("shm: unlock of a mutex this process does not hold")
)

// OwnerDeadError reports that the mutex's previous owner, process PID,
// exited (or was killed) while holding it, so whatever it guards may be
// half updated. The mutex is held by the caller that received the error.
type OwnerDeadError struct {
	PID int // the dead owner's process id
}

// Error names the dead owner's pid.
func (e *OwnerDeadError) Error() string {
	return fmt.Sprintf("shm: mutex owner (pid %d) died holding it; the lock is now held by the caller", e.PID)
}

// Is makes errors.Is(err, ErrOwnerDead) match.
func (e *OwnerDeadError) Is(target error) bool { return target == ErrOwnerDead }

// Mutex is a mutual exclusion lock that lives in a segment and works across
// processes: Python's get_lock(), plus what Python lacks, recovery when the
// holder dies. It is held by a process, not a goroutine: goroutines of one
// process exclude each other as with sync.Mutex, and any goroutine of the
// owning process may Unlock it. It is not reentrant: locking it again from
// the process (or goroutine) that holds it waits for its own Unlock, until
// ctx ends. Like sync.Mutex it is not fair: a process that unlocks and
// locks again at once usually keeps the mutex, which is what makes short
// critical sections fast. Get one with MutexAt; the zero Mutex is not
// usable.
//
// # Dead owners
//
// The mutex's 32-bit word holds the owner's process id. A waiter sleeps on
// the word (a futex) in slices of about 10 ms, and each time a slice runs
// out it asks the kernel whether the owner is still alive (through a
// pidfd, so an exited owner counts as dead even before its parent reaps
// it). If the owner is gone, the waiter takes the mutex and gets an
// *OwnerDeadError, like a robust pthread mutex's EOWNERDEAD. A dead holder
// therefore delays the next Lock by about one slice, never forever.
//
// Limits, stated plainly: process ids are compared as this process sees
// them, so every process using a mutex must share one pid namespace (not
// so for processes in different containers). The kernel reuses the ids of
// dead processes (after /proc/sys/kernel/pid_max others, 32768 on some
// systems): if a dead owner's id is given to a new process before a waiter
// looks, the waiter takes the new process for the owner and waits, up to
// its ctx. It never takes a mutex from a live owner.
type Mutex struct {
	w    *atomic.Uint32
	m    *mapping   // keeps the memory mapped while mu is reachable
	race *raceToken // nil outside race builds
	seg  *Segment   // for MarshalBinary
	off  int
}

// Mutex word: 0 when unlocked, otherwise the owner's pid, with waitersBit
// set while some process may be asleep on the word (so Unlock must wake
// one). Process ids fit in 22 bits (PID_MAX_LIMIT), so bit 31 is free.
const (
	waitersBit = 1 << 31
	pidMask    = waitersBit - 1
)

// waitSlice bounds one futex sleep: how often a waiter checks whether the
// owner is still alive.
const waitSlice = 10 * time.Millisecond

// spinTries is how many times Lock retries before sleeping. A critical
// section under a shared mutex is usually a few stores, shorter than the
// futex round trip a sleep costs.
const spinTries = 200

// self is this process's id, as stored in the words of the mutexes it holds.
var self = uint32(os.Getpid())

// MutexAt returns the Mutex at byte offset off of s. off must be a multiple
// of 4 (ErrAlign) and the MutexSize bytes must lie inside s (ErrRange).
// Zeroed memory is an unlocked mutex, so a fresh segment needs no set-up;
// every process calling MutexAt at the same offset shares one mutex.
func MutexAt(s *Segment, off int) (*Mutex, error) {
	p, err := s.view(off, MutexSize, MutexSize)
	if err != nil {
		return nil, fmt.Errorf("shm: mutex at %d: %w", off, err)
	}
	return &Mutex{w: (*atomic.Uint32)(p), m: s.m, race: raceTokenFor(p), seg: s, off: off}, nil
}

// Lock locks mu, waiting while another process (or another goroutine of
// this one) holds it. It returns nil with the lock held; an error matching
// ErrOwnerDead, also with the lock held, when the previous owner died
// holding it; or ctx.Err() without the lock when ctx ends first. If the
// mutex is free, Lock takes it even if ctx is already done. While it
// sleeps, a waiting goroutine occupies an OS thread (as in a system call).
func (mu *Mutex) Lock(ctx context.Context) error {
	if mu.w.CompareAndSwap(0, self) {
		mu.race.acquire()
		return nil
	}
	err := mu.lockSlow(ctx)
	if err == nil || errors.Is(err, ErrOwnerDead) {
		mu.race.acquire()
	}
	return err
}

// TryLock locks mu if it can do so without waiting. It returns nil with the
// lock held; an error matching ErrOwnerDead, with the lock held, if the
// holder had died; or ErrBusy if a live process holds it.
func (mu *Mutex) TryLock() error {
	for {
		v := mu.w.Load()
		if v == 0 {
			if mu.w.CompareAndSwap(0, self) {
				mu.race.acquire()
				return nil
			}
			continue
		}
		owner := v & pidMask
		if processAlive(int(owner)) {
			return ErrBusy
		}
		if mu.w.CompareAndSwap(v, self|v&waitersBit) {
			mu.race.acquire()
			return &OwnerDeadError{PID: int(owner)}
		}
	}
}

// Unlock unlocks mu and wakes one waiting process, if any. Only the owning
// process may unlock; otherwise Unlock changes nothing and returns an error
// matching ErrNotOwner.
func (mu *Mutex) Unlock() error {
	for {
		v := mu.w.Load()
		if v&pidMask != self {
			if v == 0 {
				return fmt.Errorf("shm: unlock of an unlocked mutex: %w", ErrNotOwner)
			}
			return fmt.Errorf("shm: unlock by pid %d of a mutex held by pid %d: %w", self, v&pidMask, ErrNotOwner)
		}
		mu.race.release()
		if mu.w.CompareAndSwap(v, 0) {
			if v&waitersBit != 0 {
				futexWakeN(mu.addr(), 1)
			}
			return nil
		}
	}
}

// lockSlow spins briefly, then sleeps on the word in slices until the
// mutex is free, its owner is found dead, or ctx ends.
func (mu *Mutex) lockSlow(ctx context.Context) error {
	for range spinTries {
		if v := mu.w.Load(); v == 0 && mu.w.CompareAndSwap(0, self) {
			return nil
		}
	}
	if ctx.Done() != nil {
		// Cancellation wakes every sleeper on the word; the others see the
		// word unchanged and sleep again.
		stop := context.AfterFunc(ctx, func() { futexWakeN(mu.addr(), math.MaxInt32) })
		defer stop()
	}
	checked := time.Now() // when the owner's liveness was last checked, or the wait began
	for {
		v := mu.w.Load()
		if v == 0 {
			// Having slept, take it marked contended: there may be other
			// sleepers that our Unlock must wake.
			if mu.w.CompareAndSwap(0, self|waitersBit) {
				return nil
			}
			continue
		}
		if v&waitersBit == 0 {
			if !mu.w.CompareAndSwap(v, v|waitersBit) {
				continue
			}
			v |= waitersBit
		}
		d, err := sliceFor(ctx)
		if err != nil {
			// A wake meant for us may have been spent on this waiter:
			// pass it on.
			futexWakeN(mu.addr(), 1)
			return err
		}
		// Signals can cut sleeps short again and again, so the owner
		// check goes by the clock, not only by timeouts.
		if !futexWaitFor(mu.addr(), v, d) && time.Since(checked) < waitSlice {
			continue
		}
		checked = time.Now()
		owner := v & pidMask
		if !processAlive(int(owner)) && mu.w.CompareAndSwap(v, self|waitersBit) {
			return &OwnerDeadError{PID: int(owner)}
		}
	}
}

// sliceFor returns how long to sleep next: waitSlice, or less if ctx's
// deadline is nearer; or the reason to stop waiting.
func sliceFor(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return waitSlice, nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return 0, context.DeadlineExceeded
	}
	return min(d, waitSlice), nil
}

// addr returns the address of the mutex word for futex calls.
func (mu *Mutex) addr() *uint32 { return (*uint32)(unsafe.Pointer(mu.w)) }

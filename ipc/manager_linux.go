//go:build linux

package ipc

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mgrFutexWait sleeps while *word == val, until a wake-up (or a signal,
// or a changed word: the caller re-checks either way). The words live in
// shared memory, so the futex is not private to this process.
func mgrFutexWait(word *atomic.Uint32, val uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), 0 /* FUTEX_WAIT */, uintptr(val), 0, 0, 0)
}

// mgrFutexWake wakes up to n sleepers on word, in any process. It never
// blocks, so it is a raw system call: the runtime's monitor thread is not
// woken for it.
func mgrFutexWake(word *atomic.Uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), 1 /* FUTEX_WAKE */, uintptr(n), 0, 0, 0)
}

// mgrYield gives the CPU to another runnable thread, of any process (a
// raw system call, like mgrFutexWake).
func mgrYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

//go:build linux

package ipc

import (
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations (linux/futex.h), without FUTEX_PRIVATE_FLAG: the words
// live in memory shared between processes, so the kernel must key sleepers
// by the page, not by this process's address space. (shm keeps the same
// two wrappers for its Mutex, unexported.)
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

// futexWait sleeps while *word == val, for at most d. A wake-up, a changed
// word, a signal or the timeout all return; the caller re-checks.
func futexWait(word *atomic.Uint32, val uint32, d time.Duration) {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWaitOp, uintptr(val),
		uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWakeAll wakes every process and thread sleeping on word.
func futexWakeAll(word *atomic.Uint32) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWakeOp, math.MaxInt32, 0, 0, 0)
}

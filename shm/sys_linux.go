//go:build linux

package shm

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// namedDir is where named segments live: the tmpfs that glibc's shm_open
// uses, so a C or Python process (shared_memory.SharedMemory) can attach to
// a segment by the same name.
const namedDir = "/dev/shm"

// Futex operations (linux/futex.h). Deliberately without FUTEX_PRIVATE_FLAG:
// the word is shared between processes, so the kernel must key waiters by
// the backing page, not by this process's address space.
const (
	futexWait = 0
	futexWake = 1
)

// newAnonymous creates a sealed memfd of size bytes. The seals stop any
// process holding the descriptor from shrinking the file under another
// process's mapping, which would turn that process's next access into a
// SIGBUS.
func newAnonymous(size int) (*os.File, error) {
	fd, err := unix.MemfdCreate("skein-shm", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("shm: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "skein-shm")
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: size memfd to %d bytes: %w", size, err)
	}
	seals := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: seal memfd: %w", err)
	}
	return f, nil
}

// fileSize returns the size of the file behind f.
func fileSize(f *os.File) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

// mapFile maps size bytes of f shared and read-write. The mapping outlives
// f: closing the descriptor does not unmap it.
func mapFile(f *os.File, size int) (unsafe.Pointer, error) {
	return unix.MmapPtr(int(f.Fd()), 0, nil, uintptr(size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// unmap releases a mapping made by mapFile.
func unmap(base unsafe.Pointer, size int) {
	_ = unix.MunmapPtr(base, uintptr(size))
}

// createNamed creates the named file at path with size bytes and mode
// perm, failing with fs.ErrExist if the name is taken. The file is sized
// before its name appears (O_TMPFILE, then linkat), so a process attaching
// by name never sees it at size 0.
func createNamed(path string, size int, perm fs.FileMode) (*os.File, error) {
	fd, err := unix.Open(namedDir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, uint32(perm))
	if err != nil {
		// tmpfs without O_TMPFILE (rare): create in place; an attacher may
		// then briefly see size 0 and get a *SizeError.
		return createNamedInPlace(path, size, perm)
	}
	f := os.NewFile(uintptr(fd), path)
	if err := prepareNamed(f, size, perm); err != nil {
		f.Close()
		return nil, err
	}
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "link", Path: path, Err: err}
	}
	return f, nil
}

// createNamedInPlace is createNamed without O_TMPFILE.
func createNamedInPlace(path string, size int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, err
	}
	if err := prepareNamed(f, size, perm); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

// openNamed opens the existing named file at path for reading and writing.
func openNamed(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR, 0)
}

// removeNamed removes the name path; processes that have the segment open
// or mapped keep it until they close it.
func removeNamed(path string) error { return os.Remove(path) }

// prepareNamed sizes a new named file and sets its mode exactly (the
// umask applied at creation may have narrowed it).
func prepareNamed(f *os.File, size int, perm fs.FileMode) error {
	if err := f.Truncate(int64(size)); err != nil {
		return err
	}
	return f.Chmod(perm)
}

// sameFile reports whether path still names the file open as f, so that a
// creator's Close never removes a segment that someone else created under
// the same name after this one was unlinked.
func sameFile(f *os.File, path string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Stat(path, &b) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// futexWaitFor sleeps while *addr == val, for at most d. It reports
// whether the wait ended by timing out; a wake, a changed word or a signal
// all return false, and the caller re-reads the word either way.
func futexWaitFor(addr *uint32, val uint32, d time.Duration) bool {
	ts := unix.NsecToTimespec(d.Nanoseconds())
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)),
		futexWait, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
	return errno == unix.ETIMEDOUT
}

// futexWakeN wakes up to n processes or threads sleeping on addr.
func futexWakeN(addr *uint32, n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
}

// processAlive reports whether process pid is running. A process that has
// exited counts as dead even while it is a zombie that its parent has not
// reaped yet. When in doubt it answers true: a false "dead" would hand a
// live owner's lock to someone else.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false // kill(0) and kill(-n) name process groups, never an owner
	}
	if pid == os.Getpid() {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return false
	}
	if err != nil {
		// No pidfd (kernel before 5.3, seccomp filter, a thread id).
		return signalAlive(pid)
	}
	defer unix.Close(fd)
	// A pidfd polls readable once the process has exited, zombie or not.
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err != nil || n == 0
}

// signalAlive is processAlive through kill(pid, 0), which succeeds for a
// zombie too, hence the look at the process state in /proc.
func signalAlive(pid int) bool {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	// The state follows the command name, which is in parentheses and may
	// itself contain ") ".
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	state := stat[i+2]
	return state != 'Z' && state != 'X'
}

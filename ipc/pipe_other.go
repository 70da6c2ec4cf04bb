//go:build unix && !linux

package ipc

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Without SOCK_CLOEXEC, the flag is set right after; syscall.ForkLock
// keeps a concurrent fork from inheriting the descriptors in between.
func socketpairCloexec() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return fds, nil
}

func dupCloexec(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

// waker interrupts a poll: a pipe that wake makes readable.
type waker struct{ rfd, wfd int }

func newWaker() (*waker, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return nil, err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		unix.SetNonblock(fd, true)
	}
	return &waker{rfd: p[0], wfd: p[1]}, nil
}

func (w *waker) wake() { unix.Write(w.wfd, []byte{1}) }

func (w *waker) drain() {
	var b [64]byte
	unix.Read(w.rfd, b[:])
}

func (w *waker) close() {
	unix.Close(w.rfd)
	unix.Close(w.wfd)
}

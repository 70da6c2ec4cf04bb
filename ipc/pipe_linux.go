//go:build linux

package ipc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

func socketpairCloexec() ([2]int, error) {
	return unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
}

func dupCloexec(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }

// waker interrupts a poll: an eventfd that wake makes readable.
type waker struct{ rfd int }

func newWaker() (*waker, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &waker{rfd: fd}, nil
}

func (w *waker) wake() {
	unix.Write(w.rfd, binary.NativeEndian.AppendUint64(nil, 1))
}

func (w *waker) drain() {
	var b [8]byte
	unix.Read(w.rfd, b[:])
}

func (w *waker) close() { unix.Close(w.rfd) }

//go:build unix

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// sock is a connected Unix stream socket driven with non-blocking system
// calls, waiting in poll(2) when it must. A blocked Recv or Send is a
// thread asleep in the kernel that the peer's write wakes directly, which
// costs less than a round through the runtime's network poller, the
// difference that matters for round trips between processes.
type sock struct {
	fd int // closed by close, once no read, write or wait is running

	mu           sync.Mutex // guards rwake and wwake
	rwake, wwake *waker     // made on the first wait that a context may cut short
}

// sendBufSize is the socket send buffer asked for (the system caps it,
// at net.core.wmem_max on Linux): room for several big messages in flight,
// so that a sender of big messages rarely waits for the receiver.
const sendBufSize = 1 << 20

// errAgain reports that a read or write would block.
var errAgain = errors.New("ipc: would block")

// socketPair returns the two ends of a new Unix stream socket pair, both
// close-on-exec, so that only the processes an end is handed to get it.
func socketPair() (a, b *os.File, err error) {
	fds, err := socketpairCloexec()
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: pipe: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "ipc-pipe"), os.NewFile(uintptr(fds[1]), "ipc-pipe"), nil
}

// newSock takes f, a connected Unix stream socket, over.
func newSock(f *os.File) (*sock, error) {
	defer f.Close()
	fd, err := dupCloexec(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, sendBufSize)
	return &sock{fd: fd}, nil
}

// read reads into p: n > 0 bytes, or io.EOF-like errors (see isPeerGone),
// or errAgain when nothing is there yet.
func (s *sock) read(p []byte) (int, error) {
	n, err := unix.Read(s.fd, p)
	switch {
	case err == unix.EAGAIN:
		return 0, errAgain
	case err == unix.EINTR:
		return 0, nil
	case err != nil:
		return 0, err
	case n == 0:
		return 0, errEOF
	}
	return n, nil
}

// write writes what fits of p now, or returns errAgain.
func (s *sock) write(p []byte) (int, error) {
	n, err := unix.Write(s.fd, p)
	switch {
	case err == unix.EAGAIN:
		return 0, errAgain
	case err == unix.EINTR:
		return 0, nil
	case err != nil:
		return 0, err
	}
	return n, nil
}

// wait sleeps until the socket is readable (or writable, for write),
// closed or shut down, or ctx ends (then it returns ctx.Err()). It may
// return early: the caller tries again.
func (s *sock) wait(ctx context.Context, write bool) error {
	events := int16(unix.POLLIN)
	if write {
		events = unix.POLLOUT
	}
	if ctx.Done() == nil {
		fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}}
		_, err := unix.Poll(fds, -1)
		if err != nil && err != unix.EINTR {
			return err
		}
		return nil
	}
	w, err := s.waker(write)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, w.wake)
	defer stop()
	if err := ctx.Err(); err != nil {
		return err
	}
	fds := []unix.PollFd{{Fd: int32(s.fd), Events: events}, {Fd: int32(w.rfd), Events: unix.POLLIN}}
	if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
		return err
	}
	if fds[1].Revents != 0 {
		// Ours, or left by an earlier call's context that ended just as
		// that call returned: either way the caller checks its own.
		w.drain()
	}
	return ctx.Err()
}

// waker returns the reader's or the writer's waker, making it on first use.
func (s *sock) waker(write bool) (*waker, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := &s.rwake
	if write {
		p = &s.wwake
	}
	if *p == nil {
		w, err := newWaker()
		if err != nil {
			return nil, fmt.Errorf("ipc: pipe: %w", err)
		}
		*p = w
	}
	return *p, nil
}

// shutdown ends the connection both ways, waking every call blocked on it.
// The peer sees the end of the stream.
func (s *sock) shutdown() { _ = unix.Shutdown(s.fd, unix.SHUT_RDWR) }

// shutdownWrite ends the stream towards the peer.
func (s *sock) shutdownWrite() { _ = unix.Shutdown(s.fd, unix.SHUT_WR) }

// dup returns a close-on-exec duplicate of the socket.
func (s *sock) dup() (*os.File, error) {
	fd, err := dupCloexec(s.fd)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), "ipc-pipe"), nil
}

// close closes the socket and the wakers. No other call may be running.
func (s *sock) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range []*waker{s.rwake, s.wwake} {
		if w != nil {
			w.close()
		}
	}
	return unix.Close(s.fd)
}

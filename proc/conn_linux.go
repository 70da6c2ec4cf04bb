package proc

import (
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// quietConn is a socket whose reads and writes are raw system calls on
// its non-blocking descriptor, waiting in the runtime's poller when the
// socket is not ready, instead of the syscall package's calls.
//
// Why: when every P of a process is idle, the runtime's monitor thread
// (sysmon) sleeps; the next ordinary system call wakes it, and it then
// polls every 20 µs for about a millisecond before backing off. A worker
// goes idle between tasks, and a parent between results, so every
// dispatch woke two or three monitors, each of which then took slices of
// the CPUs the tasks were running on: on a 2-vCPU VM two 4 ms tasks on
// two workers took 6–8 ms instead of 4. Raw calls on a non-blocking
// socket never block, so they need not tell the scheduler, and the
// monitors stay asleep.
type quietConn struct {
	*net.UnixConn // Close, CloseWrite, deadlines, addresses
	raw           syscall.RawConn

	rmu    sync.Mutex // one Read at a time; guards rd
	rd     rawOp
	readFn func(fd uintptr) bool // c.read, bound once (a closure per call would allocate)

	wmu     sync.Mutex // one Write at a time; guards wr
	wr      rawOp
	writeFn func(fd uintptr) bool // c.write, bound once
}

// rawOp is the state of the Read or Write in progress.
type rawOp struct {
	p     []byte
	n     int
	errno syscall.Errno
}

// quiet wraps c, a Unix socket from net.FileConn; anything else is
// returned as it is.
func quiet(c net.Conn) net.Conn {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return c
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quietConn{UnixConn: uc, raw: raw}
	q.readFn, q.writeFn = q.read, q.write
	return q
}

// Read implements io.Reader; it returns io.EOF at the end of the stream.
func (c *quietConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.rd = rawOp{p: p}
	err := c.raw.Read(c.readFn)
	n, errno := c.rd.n, c.rd.errno
	c.rd = rawOp{}
	switch {
	case err != nil:
		return 0, &net.OpError{Op: "read", Net: "unix", Err: err}
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "unix", Err: os.NewSyscallError("read", errno)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// read is the raw read: false asks the poller to wait for data.
func (c *quietConn) read(fd uintptr) bool {
	p := c.rd.p
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.rd.n, c.rd.errno = int(r), e
		return true
	}
}

// Write implements io.Writer: it writes all of p or fails.
func (c *quietConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wr = rawOp{p: p}
	err := c.raw.Write(c.writeFn)
	n, errno := c.wr.n, c.wr.errno
	c.wr = rawOp{}
	switch {
	case err != nil:
		return n, &net.OpError{Op: "write", Net: "unix", Err: err}
	case errno != 0:
		return n, &net.OpError{Op: "write", Net: "unix", Err: os.NewSyscallError("write", errno)}
	}
	return n, nil
}

// write is the raw write: false asks the poller to wait for room.
func (c *quietConn) write(fd uintptr) bool {
	p := c.wr.p
	for c.wr.n < len(p) {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[c.wr.n])), uintptr(len(p)-c.wr.n))
		switch e {
		case 0:
			c.wr.n += int(r)
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			c.wr.errno = e
			return true
		}
	}
	return true
}

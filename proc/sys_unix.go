//go:build unix

package proc

import (
	"net"
	"os"
	"syscall"
)

// supported reports whether this system can run worker processes.
const supported = true

// socketPair returns the two ends of a connected stream socket pair, both
// close-on-exec (exec.Cmd.ExtraFiles hands the child its end explicitly).
func socketPair() (parent, child *os.File, err error) {
	// ForkLock keeps a concurrent fork from inheriting the fds between
	// socketpair and CloseOnExec (SOCK_CLOEXEC is not portable).
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "skein-worker"), os.NewFile(uintptr(fds[1]), "skein-parent"), nil
}

// fileConn turns f into a net.Conn served by the runtime's poller, and
// closes f (the conn holds its own duplicate). On Linux the conn reads
// and writes without waking the runtime's monitor thread (see quietConn).
func fileConn(f *os.File) (net.Conn, error) {
	defer f.Close()
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	return quiet(c), nil
}

// exitInfo extracts the exit status and the fatal signal, if any.
func exitInfo(st *os.ProcessState) (code int, sig os.Signal) {
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal()
	}
	return st.ExitCode(), nil
}

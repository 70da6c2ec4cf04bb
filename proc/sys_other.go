//go:build !unix

package proc

import (
	"net"
	"os"
	"syscall"
)

// supported reports whether this system can run worker processes.
const supported = false

func socketPair() (parent, child *os.File, err error) { return nil, nil, ErrUnsupported }

func fileConn(f *os.File) (net.Conn, error) { return nil, ErrUnsupported }

func exitInfo(st *os.ProcessState) (code int, sig os.Signal) { return st.ExitCode(), nil }

func executable() (string, error) { return os.Executable() }

func sysProcAttr() *syscall.SysProcAttr { return nil }

func residentBytes() uint64 { return 0 }

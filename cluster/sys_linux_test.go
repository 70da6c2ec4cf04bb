package cluster

import "syscall"

// childAttr makes a test's child process die with the test (Pdeathsig).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build !linux

package cluster

import "syscall"

// childAttr has no Pdeathsig to offer here: children are stopped by the
// tests' cleanups.
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

package proc

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// executable is the program workers run. /proc/self/exe names the very
// file this process runs, even if the path it was started from has since
// been replaced (a deploy) or removed.
func executable() (string, error) { return "/proc/self/exe", nil }

// sysProcAttr makes the kernel kill a worker when the thread that started
// it exits (see spawner), so workers never outlive their parent.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// residentBytes returns the process's resident set size, read from
// /proc/self/statm (the second field, in pages).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := bytes.Fields(b)
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

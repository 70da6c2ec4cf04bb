//go:build unix && !linux

package proc

import (
	"os"
	"runtime"
	"syscall"
)

// executable is the program workers run.
func executable() (string, error) { return os.Executable() }

// sysProcAttr returns nil: without Pdeathsig, a worker learns of its
// parent's death from EOF on its socket, and exits.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// residentBytes returns the peak resident set size, the closest portable
// measure (it never decreases, so a worker over the limit is replaced
// once).
func residentBytes() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return uint64(ru.Maxrss) // bytes
	}
	return uint64(ru.Maxrss) * 1024 // kilobytes elsewhere
}

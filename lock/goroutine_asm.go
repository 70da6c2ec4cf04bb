//go:build (amd64 || arm64) && gc

package lock

// getg returns the address of the calling goroutine's runtime descriptor;
// it is implemented in goroutine_GOARCH.s.
func getg() uintptr

func goroutineID() uint64 { return uint64(getg()) }

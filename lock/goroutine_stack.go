//go:build !((amd64 || arm64) && gc)

package lock

func goroutineID() uint64 { return stackGoroutineID() }

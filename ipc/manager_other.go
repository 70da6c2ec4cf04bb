//go:build !linux

package ipc

import (
	"runtime"
	"sync/atomic"
)

// Without futexes a Map is not shared with workers (shm.New fails, so
// MarshalBinary does), and these are never reached; they yield so that a
// loop around them cannot starve the process.
func mgrFutexWait(*atomic.Uint32, uint32) { runtime.Gosched() }
func mgrFutexWake(*atomic.Uint32, int)    {}

func mgrYield() { runtime.Gosched() }

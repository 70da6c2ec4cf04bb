//go:build !linux

package ipc

import (
	"sync/atomic"
	"time"
)

// Queues need shared memory, which shm supports on Linux only: NewQueue
// fails before any of these could be reached.

func futexWait(*atomic.Uint32, uint32, time.Duration) {}
func futexWakeAll(*atomic.Uint32)                     {}

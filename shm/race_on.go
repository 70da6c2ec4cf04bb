//go:build race

package shm

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// raceToken tells the race detector that a Mutex orders memory between the
// goroutines of this process. The detector does not track atomics on
// memory outside the Go heap (the segment), so without this, data that
// goroutines guard with a shm.Mutex would be reported as racing. An atomic
// on a heap word per mutex address carries the happens-before edge.
type raceToken struct{ v atomic.Uint64 }

// raceTokens maps a mutex word's address to its token. Entries are never
// removed; race builds are for tests.
var raceTokens sync.Map // uintptr → *raceToken

func raceTokenFor(p unsafe.Pointer) *raceToken {
	t, _ := raceTokens.LoadOrStore(uintptr(p), new(raceToken))
	return t.(*raceToken)
}

func (t *raceToken) acquire() { t.v.Load() }
func (t *raceToken) release() { t.v.Add(1) }

//go:build race

package lock

import "sync"

// raceGuard serialises a goroutine's held-lock stack in race builds only.
// The stack is touched by one goroutine at a time, but the runtime reuses
// a finished goroutine's descriptor for a new one, and the race detector
// does not see the ordering the scheduler provides between the two; the
// mutex makes it visible.
type raceGuard struct{ mu sync.Mutex }

func (r *raceGuard) lock()   { r.mu.Lock() }
func (r *raceGuard) unlock() { r.mu.Unlock() }

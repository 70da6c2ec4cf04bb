package resource

import "time"

// Stats is a snapshot of a pool's sizes and cumulative counters.
type Stats struct {
	// MaxSize is the most resources the pool will hold at once.
	MaxSize int
	// Total is every live resource: Idle + InUse + Constructing, plus any
	// being destroyed at the moment.
	Total int
	// Idle resources are ready to lend.
	Idle int
	// InUse resources are lent to borrowers.
	InUse int
	// Constructing is the number of constructor calls in progress.
	Constructing int

	// Acquires counts successful Acquire calls.
	Acquires int64
	// Waits counts Acquire calls that found nothing idle and had to wait
	// for a release or a construction.
	Waits int64
	// WaitDuration is the total time those calls waited.
	WaitDuration time.Duration
	// CancelledAcquires counts Acquire calls that returned their
	// context's error.
	CancelledAcquires int64
	// Constructed counts resources built; ConstructErrors counts
	// constructor calls that failed (or panicked).
	Constructed, ConstructErrors int64
	// Destroyed counts resources destroyed, for any reason.
	Destroyed int64
	// IdleExpired, LifetimeExpired and HealthCheckFailed count the
	// resources destroyed for each of these reasons.
	IdleExpired, LifetimeExpired, HealthCheckFailed int64
}

// Stats returns a snapshot of the pool's sizes and counters.
func (p *Pool[T]) Stats() Stats {
	p.mu.Lock()
	s := p.counts
	s.MaxSize = p.maxSize
	s.Total = p.total
	s.Constructing = p.constructing
	// Loans are counted per resource, where they cost no shared write.
	s.Acquires = p.pastLoans - p.voidLoans
	for i := range p.slots {
		if e := p.slots[i].Load(); e != nil {
			state := e.state.Load()
			s.Acquires += int64(state >> 1)
			s.InUse += int(state & 1)
		}
	}
	p.mu.Unlock()
	s.Idle = p.idleCount()
	s.WaitDuration = time.Duration(p.waitNanos.Load())
	s.CancelledAcquires = p.cancelled.Load()
	return s
}

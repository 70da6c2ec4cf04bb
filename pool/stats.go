package pool

// Stats is a snapshot of a pool's activity, returned by value by
// Pool.Stats. The counts are taken under one lock, so they are consistent
// with each other: at every moment
//
//	Submitted == Queued + Running + Completed + Failed + Cancelled
//
// A task is counted as finished just after its future resolves, so right
// after a Wait on a future it may still show as Running; after Pool.Wait
// returns, the counts include every task that was accepted before it.
type Stats struct {
	// Workers is the number of live worker goroutines (Running tasks plus
	// Idle workers, give or take a worker being handed a task).
	Workers int
	// Idle is the number of parked workers waiting for a task.
	Idle int
	// Running is the number of tasks handed to a worker and not finished.
	Running int
	// Queued is the number of accepted tasks waiting for a worker.
	Queued int
	// Blocked is the number of submitters waiting for room in a full
	// queue; their tasks are not accepted yet.
	Blocked int

	// Submitted counts accepted tasks.
	Submitted uint64
	// Completed counts tasks that returned a nil error.
	Completed uint64
	// Failed counts tasks that returned an error or panicked.
	Failed uint64
	// Panicked counts the Failed tasks that panicked.
	Panicked uint64
	// Cancelled counts tasks that never ran (cancelled while queued, or
	// dropped by Close) or that returned context.Canceled after their
	// context was cancelled.
	Cancelled uint64
	// Rejected counts submissions that were not accepted: ErrFull,
	// ErrClosed, or a context that ended while blocked.
	Rejected uint64
}

// Stats returns a consistent snapshot of the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{
		Workers:   p.workers,
		Idle:      len(p.idle),
		Running:   p.running,
		Queued:    p.queue.len(),
		Blocked:   len(p.putters),
		Submitted: p.stats.submitted,
		Completed: p.stats.completed,
		Failed:    p.stats.failed,
		Panicked:  p.stats.panicked,
		Cancelled: p.stats.cancelled,
		Rejected:  p.stats.rejected,
	}
}

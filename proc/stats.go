package proc

// Stats is a snapshot of a pool's activity, returned by value by
// Pool.Stats. Task counts are per input: a Map chunk of 100 inputs counts
// 100. They are taken under one lock, so at every moment
//
//	Submitted == Queued + InFlight + Completed + Failed + Cancelled
//
// A task is counted by the time its future resolves. A worker is counted in
// WorkersCrashed, WorkersKilled or WorkersRecycled once it has been
// reaped, which can be a moment after the futures of its tasks resolved;
// after Shutdown returns, every worker is counted.
type Stats struct {
	// Workers is the number of worker processes taking work.
	Workers int
	// Starting is the number of worker processes being started
	// (replacements, or recycled workers' successors).
	Starting int
	// Retiring is the number of recycled workers finishing their last
	// tasks (WithMaxTasks, WithMaxRSS).
	Retiring int
	// Busy is the number of workers with tasks in flight.
	Busy int
	// Queued is the number of tasks waiting for a worker.
	Queued int
	// InFlight is the number of tasks sent to a worker and not finished.
	InFlight int

	// Submitted counts accepted tasks.
	Submitted uint64
	// Completed counts tasks that returned a nil error.
	Completed uint64
	// Failed counts tasks that failed: an error, a panic, a timeout, a
	// dead worker, a result that could not be decoded.
	Failed uint64
	// Panicked counts the Failed tasks that panicked.
	Panicked uint64
	// TimedOut counts the Failed tasks that ran past WithTimeout.
	TimedOut uint64
	// Cancelled counts tasks whose context ended before they finished, and
	// tasks dropped or stopped by Close.
	Cancelled uint64
	// Retried counts tasks sent again after their worker died while
	// running them (WithRetries).
	Retried uint64

	// WorkersStarted counts worker processes started, replacements
	// included.
	WorkersStarted uint64
	// WorkersCrashed counts workers that died on their own: a crash,
	// os.Exit, a signal from outside.
	WorkersCrashed uint64
	// WorkersKilled counts workers that the pool killed or that ended
	// themselves because a task would not stop (timeout, cancel), and
	// workers that sent a corrupt frame.
	WorkersKilled uint64
	// WorkersRecycled counts workers retired by WithMaxTasks or WithMaxRSS.
	WorkersRecycled uint64
}

// Stats returns a consistent snapshot of the pool's counters.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Workers = len(p.serving)
	s.Starting = p.starting
	s.Retiring = len(p.all) - len(p.serving)
	s.Queued = p.queued
	s.InFlight = p.inflight
	for w := range p.all {
		if len(w.inflight) > 0 {
			s.Busy++
		}
	}
	return s
}

// merge adds a job's outcome tally to the counters.
func (s *Stats) merge(t tally) {
	s.Completed += t.completed
	s.Failed += t.failed
	s.Panicked += t.panicked
	s.TimedOut += t.timedOut
	s.Cancelled += t.cancelled
}

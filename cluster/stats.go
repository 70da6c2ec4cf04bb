package cluster

// Stats is a snapshot of an executor's activity, returned by value by
// Executor.Stats. Task counts are per input: a Map chunk of 100 inputs
// counts 100. They are taken under one lock, so at every moment
//
//	Submitted == Pending + Completed + Failed + Cancelled
type Stats struct {
	// Pending is the number of tasks submitted and without a result.
	Pending int
	// Submitted counts accepted tasks.
	Submitted uint64
	// Completed counts tasks that returned a nil error.
	Completed uint64
	// Failed counts tasks that failed: an error, a panic, a timeout, a
	// result that could not be decoded, a dead letter.
	Failed uint64
	// Panicked counts the Failed tasks that panicked.
	Panicked uint64
	// TimedOut counts the Failed tasks that ran past WithTimeout.
	TimedOut uint64
	// DeadLettered counts the Failed tasks given up after too many
	// deliveries (*DeadLetterError).
	DeadLettered uint64
	// Cancelled counts tasks whose context ended or whose future was
	// cancelled before their result came, and tasks failed by Close.
	Cancelled uint64
	// Duplicates counts results that came for tasks already resolved: a
	// task that ran twice (its worker was presumed dead), or finished
	// after it was cancelled. Their futures were not touched.
	Duplicates uint64
	// Republished counts task messages sent again because the server did
	// not acknowledge them (it was restarting, or the connection broke).
	Republished uint64
}

// Stats returns a consistent snapshot of the executor's counters.
func (e *Executor) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	s.Pending = e.items
	return s
}

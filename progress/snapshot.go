package progress

import (
	"math"
	"time"
)

// UnknownETA is the ETA of work whose end cannot be estimated: its total is
// not known, or nothing has been processed lately (the rate is zero).
const UnknownETA time.Duration = -1

// TaskSnapshot is one task as [Tracker.Snapshot] saw it.
type TaskSnapshot struct {
	// Name is the task's name.
	Name string
	// State is Running, Done or Failed.
	State State
	// Done is the number of items finished successfully.
	Done int64
	// Failed is the number of items finished with an error.
	Failed int64
	// Total is the number of items expected; 0 means unknown.
	Total int64
	// Err is the error of a Failed task, nil otherwise.
	Err error
	// Elapsed is the time since the task was created, up to the moment it
	// finished once it has.
	Elapsed time.Duration
	// Rate is the number of items processed (done or failed) per second:
	// a moving average over the tracker's rate window while the task runs
	// (see [WithRateWindow]), the average over its whole life once it has
	// finished.
	Rate float64
	// ETA is the estimated time until Done+Failed reaches Total: 0 once
	// the task has finished or reached its total, [UnknownETA] when it
	// cannot be estimated.
	ETA time.Duration
}

// Snapshot is the state of a whole tracker at one moment: every task and
// the totals over all of them. Each task's counts are read atomically, but
// tasks updated during the snapshot may be seen at slightly different
// moments; once every worker has finished, a snapshot is exact.
type Snapshot struct {
	// Tasks lists the tasks in the order they were created.
	Tasks []TaskSnapshot
	// Done and Failed are the sums over all tasks.
	Done, Failed int64
	// Total is the number of items expected over all tasks: the sum of
	// their totals, where a finished task of unknown total counts the
	// items it processed. It is 0 (unknown) while a running task's total
	// is unknown.
	Total int64
	// TasksRunning, TasksDone and TasksFailed count the tasks in each state.
	TasksRunning, TasksDone, TasksFailed int
	// Elapsed is the time since the first task was created, up to the
	// moment the last one finished when none is running.
	Elapsed time.Duration
	// Rate is the number of items processed per second over all tasks:
	// a moving average while any task runs, the average over Elapsed when
	// none does.
	Rate float64
	// ETA is the estimated time until every running task reaches its
	// total: 0 when no task is running, [UnknownETA] when a running task's
	// total is unknown or nothing has been processed lately.
	ETA time.Duration
}

// Snapshot returns the current state of every task and the totals over
// them. Calling it also advances the smoothed rates, which are sampled at
// each snapshot; how often it is called does not bias them.
func (t *Tracker) Snapshot() Snapshot {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	s := Snapshot{Tasks: make([]TaskSnapshot, 0, len(t.tasks)), ETA: UnknownETA}
	if len(t.tasks) == 0 {
		return s
	}
	var remaining int64 // items still expected from running tasks
	totalsKnown := true // whether every running task has a total
	var lastEnd time.Time
	for _, task := range t.tasks {
		ts, end := task.snapshot(now, t.window)
		s.Tasks = append(s.Tasks, ts)
		s.Done += ts.Done
		s.Failed += ts.Failed
		switch {
		case ts.State == Running:
			s.TasksRunning++
			remaining += max(ts.Total-ts.Done-ts.Failed, 0)
			totalsKnown = totalsKnown && ts.Total > 0
		case ts.State == Done:
			s.TasksDone++
		default:
			s.TasksFailed++
		}
		s.Total += ts.Total
		if ts.Total == 0 && ts.State.Finished() {
			s.Total += ts.Done + ts.Failed // it will not process more
		}
		if end.After(lastEnd) {
			lastEnd = end
		}
	}
	if !totalsKnown {
		s.Total = 0
	}
	processed := s.Done + s.Failed
	if s.TasksRunning == 0 {
		s.Elapsed = lastEnd.Sub(t.start)
		s.Rate = average(processed, s.Elapsed)
		s.ETA = 0
		return s
	}
	s.Elapsed = now.Sub(t.start)
	s.Rate = t.overall.sample(now, processed, t.window)
	if totalsKnown {
		s.ETA = eta(remaining, s.Rate)
	}
	return s
}

// snapshot returns the task's state at now and the time it finished (zero
// while it runs). The tracker's mu must be held: it guards the meter.
func (t *Task) snapshot(now time.Time, window time.Duration) (TaskSnapshot, time.Time) {
	state, end, err := t.outcome()
	ts := TaskSnapshot{
		Name:   t.name,
		State:  state,
		Done:   t.done.Load(),
		Failed: t.failed.Load(),
		Total:  t.total.Load(),
		Err:    err,
	}
	processed := ts.Done + ts.Failed
	if state.Finished() {
		ts.Elapsed = end.Sub(t.start)
		ts.Rate = average(processed, ts.Elapsed)
		return ts, end
	}
	ts.Elapsed = now.Sub(t.start)
	ts.Rate = t.meter.sample(now, processed, window)
	ts.ETA = UnknownETA
	if ts.Total > 0 {
		ts.ETA = eta(ts.Total-processed, ts.Rate)
	}
	return ts, end
}

// meter estimates a rate of items per second as an exponentially weighted
// moving average whose weights decay with time, not with the number of
// samples, so that sampling at irregular moments does not bias it. The
// average is corrected for its start at zero (dividing by the weight
// accumulated since origin), so a young meter reports the plain average
// instead of creeping up from zero.
type meter struct {
	origin time.Time // the moment the count was 0
	last   time.Time // the previous sample
	lastN  int64     // the count at the previous sample
	raw    float64   // the uncorrected average
	rate   float64   // the corrected average at the previous sample
}

// sample records count n at now and returns the smoothed rate.
func (m *meter) sample(now time.Time, n int64, window time.Duration) float64 {
	dt := now.Sub(m.last)
	if dt <= 0 {
		return m.rate
	}
	instant := float64(n-m.lastN) / dt.Seconds()
	keep := math.Exp(-float64(dt) / float64(window))
	m.raw = m.raw*keep + (1-keep)*instant
	m.last, m.lastN = now, n
	weight := 1 - math.Exp(-float64(now.Sub(m.origin))/float64(window))
	m.rate = m.raw / weight
	return m.rate
}

// average returns n items over d as items per second, 0 for no time.
func average(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// eta returns the time to process remaining items at rate items per second.
func eta(remaining int64, rate float64) time.Duration {
	if remaining <= 0 {
		return 0
	}
	if rate <= 0 {
		return UnknownETA
	}
	secs := float64(remaining) / rate
	if secs >= float64(math.MaxInt64)/float64(time.Second) {
		return UnknownETA
	}
	return time.Duration(secs * float64(time.Second))
}

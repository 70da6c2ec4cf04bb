// Package progress tracks the progress of work that many goroutines do at
// once, and shows it: live bars in a terminal, plain periodic lines in logs
// and CI, or nothing at all.
//
// It is Go's counterpart of the ProgressTracker that Python programs build
// on multiprocessing.Manager().dict(): a [Tracker] holds named tasks, each
// with a count of items done, items failed and items expected (its total).
// Goroutines update a task through its handle, a *[Task], with atomic
// operations only, so reporting an item costs a few nanoseconds and never
// allocates. [Tracker.Snapshot] returns a plain struct with every task and
// the overall totals, a smoothed rate (items per second) and an estimated
// time to completion, for programs; a [Renderer] draws the same snapshots
// for people.
//
// Executors report into the small [Reporter] interface, which *Task
// implements: they count items submitted ([Reporter.AddTotal]) and finished
// ([Reporter.Add], [Reporter.AddFailed]). Progress made in another process
// or on another machine arrives as an [Update], plain data that a worker
// produces with [Task.Update] and the tracker that watches everything takes
// in with [Tracker.Apply].
//
// Times come from the time package; tests of rates, ETAs and periodic
// output run under testing/synctest, whose fake clock drives them.
package progress

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// State is the life-cycle stage of a task: Running until it is marked Done
// or Failed; a finished task never changes state again.
type State uint8

// The states of a task.
const (
	// Running: created and not finished yet (the zero State).
	Running State = iota
	// Done: marked finished by [Task.Done] or an [Update].
	Done
	// Failed: marked failed by [Task.Fail] or an [Update].
	Failed
)

// String returns the state's name in lower case.
func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Done:
		return "done"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Finished reports whether s is a final state (Done or Failed).
func (s State) Finished() bool { return s == Done || s == Failed }

// ErrInvalid is matched (errors.Is) by every error about a bad argument: an
// empty task name, a negative count, an unknown state, an option out of
// range.
var ErrInvalid = errors.New("progress: invalid argument")

// ErrFailed is the error a task records when it is failed without a cause
// ([Task.Fail] with nil, or an [Update] in state Failed with no message).
var ErrFailed = errors.New("progress: task failed")

// Reporter is the interface an executor reports its work into, so that an
// executor can offer progress without knowing about trackers: it calls
// AddTotal(1) for each task it accepts, then Add(1) or AddFailed(1) when
// that task finishes. *Task implements it; so can a program's own type.
// Implementations must be safe for concurrent use and should be cheap,
// since executors call them on every task.
type Reporter interface {
	// AddTotal adds n items to the number expected.
	AddTotal(n int64)
	// Add counts n items finished successfully.
	Add(n int64)
	// AddFailed counts n items finished with an error.
	AddFailed(n int64)
}

var _ Reporter = (*Task)(nil)

// Update is the whole state of one task as plain data (strings and
// integers), so that it can cross a process or machine boundary in any
// encoding. A worker produces it with [Task.Update]; the tracker that
// aggregates everything applies it with [Tracker.Apply]. Counts are
// absolute, not increments, so applying the same update twice is harmless
// and the latest update carries everything a lost one did.
type Update struct {
	// Task names the task; tasks with the same name are the same task.
	Task string
	// Done is the number of items finished successfully.
	Done int64
	// Failed is the number of items finished with an error.
	Failed int64
	// Total is the number of items expected; 0 means unknown.
	Total int64
	// State is the task's state.
	State State
	// Err is the failure's message when State is Failed ("" if none).
	Err string
}

// Option configures a Tracker in [New].
type Option func(*Tracker) error

// WithRateWindow sets the time over which rates are smoothed: each rate is
// an exponentially weighted moving average of the items finished per
// second, in which progress made d ago weighs 1/e as much as progress made
// now. A short window follows changes quickly; a long one gives a steadier
// ETA. The default is 5 seconds; d must be positive.
func WithRateWindow(d time.Duration) Option {
	return func(t *Tracker) error {
		if d <= 0 {
			return fmt.Errorf("%w: rate window %v is not positive", ErrInvalid, d)
		}
		t.window = d
		return nil
	}
}

// defaultRateWindow is WithRateWindow's default.
const defaultRateWindow = 5 * time.Second

// Tracker holds the tasks of a piece of work and aggregates their progress.
// All its methods and those of its tasks are safe for concurrent use. The
// zero Tracker is not usable; create one with [New].
type Tracker struct {
	window time.Duration // set by New, read-only afterwards

	// mu guards everything below. Task updates do not take it; task
	// creation, Apply and Snapshot do.
	mu      sync.Mutex
	tasks   []*Task          // in creation order
	byName  map[string]*Task // the same tasks, by name
	start   time.Time        // creation of the first task
	overall meter            // smooths the rate of all tasks together
}

// New returns an empty tracker configured by opts. It returns an error
// matching [ErrInvalid] if an option is out of range.
func New(opts ...Option) (*Tracker, error) {
	t := &Tracker{window: defaultRateWindow, byName: map[string]*Task{}}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalid)
		}
		if err := opt(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Task returns the task called name, creating it with total items expected
// (0: not known yet) if there is none. When the task exists it is returned
// unchanged and total is not applied, so that several goroutines can share
// a task by naming it; change the total with [Task.SetTotal] or
// [Task.AddTotal]. Task returns an error matching [ErrInvalid] when name is
// empty or total is negative.
func (t *Tracker) Task(name string, total int64) (*Task, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty task name", ErrInvalid)
	}
	if total < 0 {
		return nil, fmt.Errorf("%w: task %q: negative total %d", ErrInvalid, name, total)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	task, _ := t.taskLocked(name, total)
	return task, nil
}

// taskLocked returns the task called name, creating it with total if there
// is none, and reports whether it created it. t.mu must be held.
func (t *Tracker) taskLocked(name string, total int64) (*Task, bool) {
	if task, ok := t.byName[name]; ok {
		return task, false
	}
	now := time.Now()
	if len(t.tasks) == 0 {
		t.start = now
		t.overall = meter{origin: now, last: now}
	}
	task := &Task{name: name, start: now, meter: meter{origin: now, last: now}}
	task.total.Store(total)
	t.tasks = append(t.tasks, task)
	t.byName[name] = task
	return task, true
}

// Apply brings the task named by u.Task (creating it if needed) to the
// counts and total in u, and finishes it if u.State is Done or Failed
// (a task already finished keeps its first outcome). It returns an error
// matching [ErrInvalid], and changes nothing, when u has no task name, a
// negative count or an unknown state.
//
// Apply is how progress from other processes or machines joins a tracker:
// a task fed by updates should not also be updated through its handle,
// since each update overwrites its counts. Times are this tracker's own: a
// task's elapsed time and rate run from the first update it received.
func (t *Tracker) Apply(u Update) error {
	switch {
	case u.Task == "":
		return fmt.Errorf("%w: update without a task name", ErrInvalid)
	case u.Done < 0 || u.Failed < 0 || u.Total < 0:
		return fmt.Errorf("%w: update of task %q: negative count (done %d, failed %d, total %d)",
			ErrInvalid, u.Task, u.Done, u.Failed, u.Total)
	case u.State > Failed:
		return fmt.Errorf("%w: update of task %q: unknown state %d", ErrInvalid, u.Task, u.State)
	}
	t.mu.Lock()
	task, _ := t.taskLocked(u.Task, u.Total)
	t.mu.Unlock()
	task.done.Store(u.Done)
	task.failed.Store(u.Failed)
	task.total.Store(u.Total)
	switch u.State {
	case Done:
		task.finish(Done, nil)
	case Failed:
		err := ErrFailed
		if u.Err != "" {
			err = errors.New(u.Err)
		}
		task.finish(Failed, err)
	}
	return nil
}

// Task is a handle on one task of a [Tracker]: a named count of items done
// and failed against an expected total. Any number of goroutines may update
// it at once; the counting methods are single atomic operations.
//
// Counting goes on after a task is finished (a late Add still counts), but
// the state never leaves Done or Failed.
type Task struct {
	// The counters come first, away from the rarely written fields, so
	// that the hot path touches one cache line.
	done   atomic.Int64
	failed atomic.Int64
	total  atomic.Int64

	name  string    // immutable
	start time.Time // immutable: creation time

	// mu guards state, err and end: the outcome, written once.
	mu    sync.Mutex
	state State
	err   error
	end   time.Time // when the task finished; zero while running

	meter meter // guarded by the tracker's mu (only Snapshot uses it)
}

// Name returns the task's name.
func (t *Task) Name() string { return t.name }

// Add counts n more items finished successfully. A negative n takes items
// back (for work that will be redone).
func (t *Task) Add(n int64) { t.done.Add(n) }

// AddFailed counts n more items finished with an error. Failed items count
// as processed for the rate and the ETA, but the task goes on running:
// use [Task.Fail] when the whole task has failed.
func (t *Task) AddFailed(n int64) { t.failed.Add(n) }

// AddTotal adds n items to the total expected; executors call it as work
// is submitted. A negative n withdraws items that will not run.
func (t *Task) AddTotal(n int64) { t.total.Add(n) }

// SetDone sets the count of items finished successfully to n, for workers
// that know their position rather than their increments. It returns an
// error matching [ErrInvalid], and changes nothing, if n is negative.
func (t *Task) SetDone(n int64) error {
	if n < 0 {
		return fmt.Errorf("%w: task %q: negative done count %d", ErrInvalid, t.name, n)
	}
	t.done.Store(n)
	return nil
}

// SetTotal sets the number of items expected to n (0: unknown). It returns
// an error matching [ErrInvalid], and changes nothing, if n is negative.
func (t *Task) SetTotal(n int64) error {
	if n < 0 {
		return fmt.Errorf("%w: task %q: negative total %d", ErrInvalid, t.name, n)
	}
	t.total.Store(n)
	return nil
}

// Done marks the task finished successfully. If its total was unknown (0)
// it becomes the number of items processed, so the task reads as complete.
// Done does nothing on a task that is already finished.
func (t *Task) Done() {
	t.total.CompareAndSwap(0, t.done.Load()+t.failed.Load())
	t.finish(Done, nil)
}

// Fail marks the task failed with err (nil records [ErrFailed]). Fail does
// nothing on a task that is already finished: the first outcome stays.
func (t *Task) Fail(err error) {
	if err == nil {
		err = ErrFailed
	}
	t.finish(Failed, err)
}

// finish moves a running task to state s with err; the first call wins.
func (t *Task) finish(s State, err error) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state.Finished() {
		return
	}
	t.state, t.err, t.end = s, err, now
}

// outcome returns the task's state, end time and error.
func (t *Task) outcome() (State, time.Time, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.end, t.err
}

// Update returns the task's current state as an [Update], ready to be sent
// to the tracker of another process with [Tracker.Apply].
func (t *Task) Update() Update {
	state, _, err := t.outcome()
	u := Update{
		Task:   t.name,
		Done:   t.done.Load(),
		Failed: t.failed.Load(),
		Total:  t.total.Load(),
		State:  state,
	}
	if err != nil && err != ErrFailed {
		u.Err = err.Error()
	}
	return u
}

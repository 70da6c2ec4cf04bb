package progress

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// advance moves a synctest bubble's fake clock forward by d.
func advance(d time.Duration) { <-time.After(d) }

// fataler is what the helpers need of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func mustNew(t fataler, opts ...Option) *Tracker {
	t.Helper()
	tr, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return tr
}

func mustTask(t fataler, tr *Tracker, name string, total int64) *Task {
	t.Helper()
	task, err := tr.Task(name, total)
	if err != nil {
		t.Fatalf("Task(%q, %d): %v", name, total, err)
	}
	return task
}

// near reports whether a and b differ by less than one part in a million.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func TestCountsFromManyGoroutinesAreExact(t *testing.T) {
	const workers, items = 8, 2000
	tr := mustNew(t)
	shared := mustTask(t, tr, "shared", 0)
	var wg sync.WaitGroup
	for w := range workers {
		own := mustTask(t, tr, fmt.Sprintf("worker-%d", w), items)
		wg.Go(func() {
			for i := range items {
				shared.AddTotal(1)
				if i%10 == 0 {
					own.AddFailed(1)
					shared.AddFailed(1)
					continue
				}
				own.Add(1)
				shared.Add(1)
			}
			own.Done()
		})
	}
	wg.Wait()
	shared.Done()

	s := tr.Snapshot()
	const failedPerWorker = items / 10
	if got, want := len(s.Tasks), workers+1; got != want {
		t.Fatalf("len(Tasks) = %d, want %d", got, want)
	}
	sh := s.Tasks[0]
	if sh.Name != "shared" || sh.Done != workers*(items-failedPerWorker) || sh.Failed != workers*failedPerWorker || sh.Total != workers*items {
		t.Errorf("shared task = %+v", sh)
	}
	for _, ts := range s.Tasks[1:] {
		if ts.State != Done || ts.Done != items-failedPerWorker || ts.Failed != failedPerWorker || ts.Total != items {
			t.Errorf("task %s = %+v", ts.Name, ts)
		}
	}
	if s.Done != 2*workers*(items-failedPerWorker) || s.Failed != 2*workers*failedPerWorker || s.Total != 2*workers*items {
		t.Errorf("overall done/failed/total = %d/%d/%d", s.Done, s.Failed, s.Total)
	}
	if s.TasksRunning != 0 || s.TasksDone != workers+1 || s.TasksFailed != 0 || s.ETA != 0 {
		t.Errorf("overall tasks running/done/failed = %d/%d/%d, ETA %v", s.TasksRunning, s.TasksDone, s.TasksFailed, s.ETA)
	}
}

func TestTaskWithAnExistingNameReturnsThatTaskUnchanged(t *testing.T) {
	tr := mustNew(t)
	first := mustTask(t, tr, "download", 10)
	first.Add(3)
	second := mustTask(t, tr, "download", 99)
	if first != second {
		t.Fatal("Task returned a different handle for the same name")
	}
	s := tr.Snapshot()
	if len(s.Tasks) != 1 || s.Tasks[0].Total != 10 || s.Tasks[0].Done != 3 {
		t.Errorf("tasks = %+v, want one task 3/10", s.Tasks)
	}
	if first.Name() != "download" {
		t.Errorf("Name() = %q", first.Name())
	}
}

func TestInvalidArgumentsReturnErrInvalidAndChangeNothing(t *testing.T) {
	tr := mustNew(t)
	task := mustTask(t, tr, "t", 5)
	task.Add(2)
	cases := []struct {
		name string
		call func() error
	}{
		{"New with a zero rate window", func() error { _, err := New(WithRateWindow(0)); return err }},
		{"New with a negative rate window", func() error { _, err := New(WithRateWindow(-time.Second)); return err }},
		{"New with a nil option", func() error { _, err := New(nil); return err }},
		{"Task with an empty name", func() error { _, err := tr.Task("", 1); return err }},
		{"Task with a negative total", func() error { _, err := tr.Task("u", -1); return err }},
		{"SetTotal negative", func() error { return task.SetTotal(-1) }},
		{"SetDone negative", func() error { return task.SetDone(-1) }},
		{"Apply without a name", func() error { return tr.Apply(Update{Done: 1}) }},
		{"Apply a negative done", func() error { return tr.Apply(Update{Task: "t", Done: -1}) }},
		{"Apply a negative failed", func() error { return tr.Apply(Update{Task: "t", Failed: -1}) }},
		{"Apply a negative total", func() error { return tr.Apply(Update{Task: "t", Total: -1}) }},
		{"Apply an unknown state", func() error { return tr.Apply(Update{Task: "t", State: Failed + 1}) }},
		{"NewRenderer with a nil tracker", func() error { _, err := NewRenderer(nil, &safeBuffer{}); return err }},
		{"NewRenderer with a nil writer", func() error { _, err := NewRenderer(tr, nil); return err }},
		{"NewRenderer with a nil option", func() error { _, err := NewRenderer(tr, &safeBuffer{}, nil); return err }},
		{"WithInterval zero", func() error { _, err := NewRenderer(tr, &safeBuffer{}, WithInterval(0)); return err }},
		{"WithInterval negative", func() error { _, err := NewRenderer(tr, &safeBuffer{}, WithInterval(-time.Second)); return err }},
		{"WithMode unknown", func() error { _, err := NewRenderer(tr, &safeBuffer{}, WithMode(Quiet+1)); return err }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, ErrInvalid) {
				t.Errorf("error = %v, want ErrInvalid", err)
			}
		})
	}
	s := tr.Snapshot()
	if len(s.Tasks) != 1 || s.Tasks[0] != (TaskSnapshot{Name: "t", Done: 2, Total: 5, State: Running,
		Elapsed: s.Tasks[0].Elapsed, Rate: s.Tasks[0].Rate, ETA: s.Tasks[0].ETA}) {
		t.Errorf("tasks after invalid calls = %+v, want only t at 2/5", s.Tasks)
	}
}

func TestFirstOutcomeOfATaskWins(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name      string
		finish    func(*Task)
		wantState State
		wantErr   error
	}{
		{"done then failed", func(k *Task) { k.Done(); k.Fail(boom) }, Done, nil},
		{"failed then done", func(k *Task) { k.Fail(boom); k.Done() }, Failed, boom},
		{"failed twice", func(k *Task) { k.Fail(boom); k.Fail(errors.New("later")) }, Failed, boom},
		{"failed without a cause", func(k *Task) { k.Fail(nil) }, Failed, ErrFailed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := mustNew(t)
			c.finish(mustTask(t, tr, "x", 3))
			ts := tr.Snapshot().Tasks[0]
			if ts.State != c.wantState || !errors.Is(ts.Err, c.wantErr) || (c.wantErr == nil && ts.Err != nil) {
				t.Errorf("state %v, err %v; want %v, %v", ts.State, ts.Err, c.wantState, c.wantErr)
			}
		})
	}
}

func TestDoneGivesATaskOfUnknownTotalItsProcessedCount(t *testing.T) {
	tr := mustNew(t)
	task := mustTask(t, tr, "stream", 0)
	task.Add(7)
	task.AddFailed(2)
	if got := tr.Snapshot().Tasks[0].Total; got != 0 {
		t.Fatalf("total before Done = %d, want 0", got)
	}
	task.Done()
	if got := tr.Snapshot().Tasks[0].Total; got != 9 {
		t.Errorf("total after Done = %d, want 9", got)
	}
}

func TestCountingGoesOnAfterATaskFinishes(t *testing.T) {
	tr := mustNew(t)
	task := mustTask(t, tr, "x", 2)
	task.Add(2)
	task.Done()
	task.Add(1)
	ts := tr.Snapshot().Tasks[0]
	if ts.Done != 3 || ts.State != Done {
		t.Errorf("task = %+v, want done 3 in state done", ts)
	}
}

func TestSettersReplaceCounts(t *testing.T) {
	tr := mustNew(t)
	task := mustTask(t, tr, "x", 0)
	task.Add(5)
	if err := task.SetDone(2); err != nil {
		t.Fatal(err)
	}
	if err := task.SetTotal(8); err != nil {
		t.Fatal(err)
	}
	task.AddTotal(2)
	task.Add(-1)
	ts := tr.Snapshot().Tasks[0]
	if ts.Done != 1 || ts.Total != 10 {
		t.Errorf("done/total = %d/%d, want 1/10", ts.Done, ts.Total)
	}
}

func TestRateOfSteadyWorkIsItsItemsPerSecondAndETAFollows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t, WithRateWindow(time.Second))
		task := mustTask(t, tr, "steady", 1000)
		for range 20 { // 100 items/s for 2s, sampled every 100ms
			advance(100 * time.Millisecond)
			task.Add(10)
			tr.Snapshot()
		}
		s := tr.Snapshot()
		ts := s.Tasks[0]
		if !near(ts.Rate, 100) || !near(s.Rate, 100) {
			t.Errorf("rate = %v (task), %v (overall), want 100", ts.Rate, s.Rate)
		}
		want := 8 * time.Second // 800 items left at 100/s
		if d := ts.ETA - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("task ETA = %v, want %v", ts.ETA, want)
		}
		if d := s.ETA - want; d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("overall ETA = %v, want %v", s.ETA, want)
		}
		if ts.Elapsed != 2*time.Second || s.Elapsed != 2*time.Second {
			t.Errorf("elapsed = %v (task), %v (overall), want 2s", ts.Elapsed, s.Elapsed)
		}
	})
}

func TestRateDoesNotDependOnHowOftenItIsSampled(t *testing.T) {
	// 100 items/s for 5s, then nothing for 1s; the smoothed rate after
	// that is fixed by the window, whatever the sampling.
	const window = time.Second
	w := window.Seconds()
	want := 100 * (1 - math.Exp(-5/w)) * math.Exp(-1/w) / (1 - math.Exp(-6/w))
	for _, step := range []time.Duration{10 * time.Millisecond, 250 * time.Millisecond, time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := mustNew(t, WithRateWindow(window))
				task := mustTask(t, tr, "x", 0)
				per := int64(100 * step.Seconds())
				for elapsed := time.Duration(0); elapsed < 5*time.Second; elapsed += step {
					advance(step)
					task.Add(per)
					tr.Snapshot()
				}
				advance(time.Second)
				if got := tr.Snapshot().Tasks[0].Rate; !near(got, want) {
					t.Errorf("rate = %v, want %v", got, want)
				}
			})
		})
	}
}

func TestETAIsUnknownWithoutATotalOrARate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		noTotal := mustTask(t, tr, "no total", 0)
		idle := mustTask(t, tr, "idle", 10)
		noTotal.Add(5)
		advance(time.Second)
		s := tr.Snapshot()
		if s.Tasks[0].ETA != UnknownETA || s.Tasks[1].ETA != UnknownETA || s.ETA != UnknownETA {
			t.Errorf("ETAs = %v, %v, overall %v; want all unknown", s.Tasks[0].ETA, s.Tasks[1].ETA, s.ETA)
		}
		if s.Total != 0 {
			t.Errorf("overall total = %d while a running task has none, want 0", s.Total)
		}
		idle.Add(10)
		if eta := tr.Snapshot().Tasks[1].ETA; eta != 0 {
			t.Errorf("ETA of a task at its total = %v, want 0", eta)
		}
	})
}

func TestSnapshotOfFinishedWorkStopsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		if s := tr.Snapshot(); len(s.Tasks) != 0 || s.Elapsed != 0 || s.ETA != UnknownETA {
			t.Errorf("empty snapshot = %+v", s)
		}
		a := mustTask(t, tr, "a", 0)
		advance(time.Second)
		b := mustTask(t, tr, "b", 0)
		a.Add(30)
		advance(time.Second)
		a.Done()
		b.Add(30)
		advance(time.Second)
		b.Fail(errors.New("disk full"))
		advance(time.Hour)
		s := tr.Snapshot()
		if s.Elapsed != 3*time.Second || !near(s.Rate, 20) || s.ETA != 0 {
			t.Errorf("overall elapsed %v, rate %v, ETA %v; want 3s, 20/s, 0", s.Elapsed, s.Rate, s.ETA)
		}
		if s.Total != 60 {
			t.Errorf("overall total = %d, want the 60 processed by finished tasks of unknown total", s.Total)
		}
		if s.TasksDone != 1 || s.TasksFailed != 1 || s.TasksRunning != 0 {
			t.Errorf("tasks done/failed/running = %d/%d/%d", s.TasksDone, s.TasksFailed, s.TasksRunning)
		}
		ta, tb := s.Tasks[0], s.Tasks[1]
		if ta.Elapsed != 2*time.Second || !near(ta.Rate, 15) || tb.Elapsed != 2*time.Second || !near(tb.Rate, 15) {
			t.Errorf("tasks = %+v, %+v; want 2s at 15/s each", ta, tb)
		}
	})
}

func TestApplyMirrorsATaskOfAnotherTracker(t *testing.T) {
	worker, parent := mustNew(t), mustNew(t)
	ok := mustTask(t, worker, "ok", 10)
	ok.Add(8)
	ok.AddFailed(2)
	bad := mustTask(t, worker, "bad", 0)
	bad.Add(1)
	bad.Fail(errors.New("worker lost"))
	silent := mustTask(t, worker, "silent", 4)
	silent.Fail(nil)
	running := mustTask(t, worker, "running", 50)
	running.Add(20)
	ok.Done()

	for _, task := range []*Task{ok, bad, silent, running} {
		if err := parent.Apply(task.Update()); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if err := parent.Apply(task.Update()); err != nil { // idempotent
			t.Fatalf("Apply again: %v", err)
		}
	}
	got, want := parent.Snapshot().Tasks, worker.Snapshot().Tasks
	if len(got) != len(want) {
		t.Fatalf("parent has %d tasks, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.State != w.State || g.Done != w.Done || g.Failed != w.Failed || g.Total != w.Total {
			t.Errorf("parent task %+v, want %+v", g, w)
		}
		if (g.Err == nil) != (w.Err == nil) || (g.Err != nil && g.Err.Error() != w.Err.Error()) {
			t.Errorf("task %s: parent err %v, want %v", g.Name, g.Err, w.Err)
		}
	}
	if !errors.Is(got[2].Err, ErrFailed) {
		t.Errorf("a task failed without a cause has err %v on the parent, want ErrFailed", got[2].Err)
	}
}

func TestApplyKeepsTheFirstOutcomeAndLatestCounts(t *testing.T) {
	tr := mustNew(t)
	steps := []Update{
		{Task: "r", Done: 5, Total: 10},
		{Task: "r", Done: 10, Total: 10, State: Done},
		{Task: "r", Done: 11, Total: 12, State: Failed, Err: "late"},
		{Task: "r", Done: 12, Total: 12},
	}
	for _, u := range steps {
		if err := tr.Apply(u); err != nil {
			t.Fatal(err)
		}
	}
	ts := tr.Snapshot().Tasks[0]
	if ts.State != Done || ts.Err != nil || ts.Done != 12 || ts.Total != 12 {
		t.Errorf("task = %+v, want done with 12/12 and no error", ts)
	}
}

func TestStateAndModeNames(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{Running.String(), "running"}, {Done.String(), "done"}, {Failed.String(), "failed"},
		{State(9).String(), "State(9)"},
		{Auto.String(), "auto"}, {Bars.String(), "bars"}, {Lines.String(), "lines"},
		{Quiet.String(), "quiet"}, {Mode(9).String(), "Mode(9)"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	if Running.Finished() || !Done.Finished() || !Failed.Finished() {
		t.Error("Finished is wrong")
	}
}

// TestConcurrentUpdatesNeverLoseCounts checks, for random programs of
// updates run by several goroutines at once, that a snapshot taken after
// they finish equals the sums a sequential model computes.
func TestConcurrentUpdatesNeverLoseCounts(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		tr := mustNew(rt)
		names := []string{"a", "b", "c"}
		type op struct {
			kind, task int
			n          int64
		}
		opGen := rapid.Custom(func(rt *rapid.T) op {
			return op{
				kind: rapid.IntRange(0, 2).Draw(rt, "kind"),
				task: rapid.IntRange(0, len(names)-1).Draw(rt, "task"),
				n:    rapid.Int64Range(-3, 20).Draw(rt, "n"),
			}
		})
		programs := rapid.SliceOfN(rapid.SliceOf(opGen), 1, 6).Draw(rt, "programs")
		want := make([][3]int64, len(names)) // per task: done, failed, total
		for _, p := range programs {
			for _, o := range p {
				want[o.task][o.kind] += o.n
			}
		}
		tasks := make([]*Task, len(names))
		for i, name := range names {
			tasks[i] = mustTask(rt, tr, name, 0)
		}
		var wg sync.WaitGroup
		for _, p := range programs {
			wg.Go(func() {
				for _, o := range p {
					switch o.kind {
					case 0:
						tasks[o.task].Add(o.n)
					case 1:
						tasks[o.task].AddFailed(o.n)
					default:
						tasks[o.task].AddTotal(o.n)
					}
				}
			})
		}
		wg.Wait()
		s := tr.Snapshot()
		var done, failed int64
		for i, ts := range s.Tasks {
			if got := [3]int64{ts.Done, ts.Failed, ts.Total}; got != want[i] {
				rt.Fatalf("task %s: done/failed/total %v, want %v", ts.Name, got, want[i])
			}
			done += ts.Done
			failed += ts.Failed
		}
		if s.Done != done || s.Failed != failed {
			rt.Fatalf("overall done/failed %d/%d, want %d/%d", s.Done, s.Failed, done, failed)
		}
	})
}

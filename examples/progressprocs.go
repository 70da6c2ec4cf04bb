package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/progress"
)

func init() {
	register(Demo{
		Name:    "progress-procs",
		Summary: "the seed's ProgressTracker across processes: tasks in worker processes report through their context, the parent's tracker shows it live",
		Run:     progressProcsDemo,
	})
}

// The demo's workload: progressProcsWorkers worker processes each process
// progressProcsItems items of about progressProcsItemTime each (the seed's
// time.sleep(0.01)); every progressProcsBadEvery-th item is malformed and
// fails alone.
const (
	progressProcsWorkers  = 3
	progressProcsItems    = 40
	progressProcsItemTime = 5 * time.Millisecond
	progressProcsBadEvery = 15
)

// progressProcsJob is one task's work: what process_with_progress(task_id,
// data, tracker) receives, without the tracker, which the context carries.
type progressProcsJob struct {
	Task  int
	Items int
}

// progressProcsOutcome is what a task counted itself, for the check.
type progressProcsOutcome struct {
	Pid           int
	Done, Invalid int64
}

// progressProcsWork is process_with_progress: it works through the items
// and reports each one through progress.FromContext. The parent decides
// where the counts go (here: its tracker); the task does not know or care
// that it runs in another process.
var progressProcsWork = proc.Register("progress-procs.work", func(ctx context.Context, job progressProcsJob) (progressProcsOutcome, error) {
	rep := progress.FromContext(ctx)
	rep.AddTotal(int64(job.Items))
	out := progressProcsOutcome{Pid: os.Getpid()}
	tick := time.NewTicker(progressProcsItemTime)
	defer tick.Stop()
	for i := range job.Items {
		select {
		case <-tick.C: // the item's work
		case <-ctx.Done():
			return out, ctx.Err()
		}
		if (i+1)%progressProcsBadEvery == 0 {
			out.Invalid++
			rep.AddFailed(1)
			continue
		}
		out.Done++
		rep.Add(1)
	}
	return out, nil
})

// progressProcsArrivals wraps a tracker task and counts the reports that
// reach the parent, to show that they arrive while the task runs rather
// than all at the end.
type progressProcsArrivals struct {
	*progress.Task
	reports atomic.Int64
}

func (a *progressProcsArrivals) Add(n int64) { a.reports.Add(1); a.Task.Add(n) }

func progressProcsDemo(ctx context.Context, w io.Writer) (string, error) {
	tracker, err := progress.New()
	if err != nil {
		return "", err
	}
	mode := progress.Auto
	if w == io.Discard {
		mode = progress.Quiet
	}
	renderer, err := progress.NewRenderer(tracker, w, progress.WithMode(mode), progress.WithInterval(50*time.Millisecond))
	if err != nil {
		return "", err
	}
	p, err := proc.New(progressProcsWorkers, proc.WithInflight(1))
	if err != nil {
		return "", err
	}
	defer p.Close()

	fmt.Fprintf(w, "%d worker processes, %d items each; the parent's tracker shows them as %s:\n",
		progressProcsWorkers, progressProcsItems, renderer.Mode())
	if err := renderer.Start(ctx); err != nil {
		return "", err
	}
	arrivals := make([]*progressProcsArrivals, progressProcsWorkers)
	futures := make([]*future.Future[progressProcsOutcome], progressProcsWorkers)
	for i := range progressProcsWorkers {
		task, err := tracker.Task(fmt.Sprintf("task-%d", i), 0)
		if err != nil {
			return "", errors.Join(err, renderer.Close())
		}
		arrivals[i] = &progressProcsArrivals{Task: task}
		job := progressProcsJob{Task: i, Items: progressProcsItems}
		futures[i] = proc.Submit(progress.NewContext(ctx, arrivals[i]), p, progressProcsWork, job)
	}
	outcomes := make([]progressProcsOutcome, progressProcsWorkers)
	for i, f := range futures {
		out, err := f.Wait(ctx)
		if err != nil {
			arrivals[i].Fail(err)
			return "", errors.Join(err, renderer.Close())
		}
		// Every count the task reported is in: the last ones travel
		// before the result.
		arrivals[i].Done()
		outcomes[i] = out
	}
	if err := renderer.Close(); err != nil {
		return "", err
	}
	return progressProcsCheck(w, tracker.Snapshot(), outcomes, arrivals)
}

// progressProcsCheck compares the parent's snapshot with what each task
// counted in its own process.
func progressProcsCheck(w io.Writer, s progress.Snapshot, outcomes []progressProcsOutcome, arrivals []*progressProcsArrivals) (string, error) {
	fmt.Fprintln(w, "final snapshot (parent), against each worker's own count:")
	pids := map[int]bool{}
	minReports := int64(-1)
	for i, ts := range s.Tasks {
		o := outcomes[i]
		reports := arrivals[i].reports.Load()
		fmt.Fprintf(w, "  %s  pid %d  %d/%d done, %d invalid  (worker counted %d, %d; %d reports reached the parent)\n",
			ts.Name, o.Pid, ts.Done, ts.Total, ts.Failed, o.Done, o.Invalid, reports)
		switch {
		case o.Pid == os.Getpid():
			return "", fmt.Errorf("%s ran in the parent", ts.Name)
		case ts.Done != o.Done || ts.Failed != o.Invalid || ts.Total != progressProcsItems:
			return "", fmt.Errorf("%s: tracker says %d done, %d failed of %d; the worker counted %d, %d of %d",
				ts.Name, ts.Done, ts.Failed, ts.Total, o.Done, o.Invalid, progressProcsItems)
		case ts.State != progress.Done:
			return "", fmt.Errorf("%s: state %v, want done", ts.Name, ts.State)
		case reports < 2:
			// The first report leaves at once and the last before the
			// result: fewer than two means nothing was live.
			return "", fmt.Errorf("%s: %d progress reports reached the parent, want at least 2", ts.Name, reports)
		}
		pids[o.Pid] = true
		if minReports < 0 || reports < minReports {
			minReports = reports
		}
	}
	wantInvalid := int64(progressProcsItems / progressProcsBadEvery * progressProcsWorkers)
	if s.Failed != wantInvalid || s.Done != int64(progressProcsWorkers*progressProcsItems)-wantInvalid {
		return "", fmt.Errorf("overall %d done, %d invalid; the plan says %d, %d",
			s.Done, s.Failed, int64(progressProcsWorkers*progressProcsItems)-wantInvalid, wantInvalid)
	}
	return fmt.Sprintf("%d tasks in %d worker processes, %d items: %d done, %d invalid, tracker exact; at least %d live reports per task",
		len(s.Tasks), len(pids), s.Done+s.Failed, s.Done, s.Failed, minReports), nil
}

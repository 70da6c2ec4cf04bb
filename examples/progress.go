package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/skein-go/skein/progress"
)

func init() {
	register(Demo{
		Name:    "progress",
		Summary: "goroutine workers report into a progress tracker: live bars on a terminal, plain lines otherwise",
		Run:     progressDemo,
	})
}

// The demo's workload: progressWorkers workers each convert
// progressItemsPerWorker images through a shared service that accepts
// progressItemsPerSecond requests per second; every progressBadEvery-th
// image is corrupt and fails alone, and the last worker's disk fills up
// after progressDiskFullAt images, failing its whole task.
const (
	progressWorkers        = 4
	progressItemsPerWorker = 60
	progressItemsPerSecond = 400
	progressBadEvery       = 20
	progressDiskFullAt     = 30
)

// errProgressDiskFull is the failure of the last worker's task.
var errProgressDiskFull = errors.New("disk full")

// progressDemo runs the workers under a live renderer, then checks that
// the tracker's final snapshot says exactly what the workers did.
func progressDemo(ctx context.Context, w io.Writer) (string, error) {
	tracker, err := progress.New(progress.WithRateWindow(time.Second))
	if err != nil {
		return "", err
	}
	// Auto mode: bars when w is a terminal, lines in logs and CI; when the
	// output is thrown away (skein demo -quiet, or several demos at once),
	// Quiet mode renders nothing and starts no goroutine.
	mode := progress.Auto
	if w == io.Discard {
		mode = progress.Quiet
	}
	renderer, err := progress.NewRenderer(tracker, w, progress.WithMode(mode), progress.WithInterval(100*time.Millisecond))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "%d workers convert %d images each at %d images/s in all; progress shown as %s:\n",
		progressWorkers, progressItemsPerWorker, progressItemsPerSecond, renderer.Mode())
	if err := renderer.Start(ctx); err != nil {
		return "", err
	}

	// The service's rate limit paces the work, so the demo takes the same
	// time everywhere.
	limit := time.NewTicker(time.Second / progressItemsPerSecond)
	defer limit.Stop()
	results := make([]progressResult, progressWorkers)
	var wg sync.WaitGroup
	for i := range progressWorkers {
		task, err := tracker.Task(fmt.Sprintf("worker-%d", i), progressItemsPerWorker)
		if err != nil {
			return "", errors.Join(err, renderer.Close())
		}
		wg.Go(func() {
			results[i] = progressWork(ctx, task, limit.C, i == progressWorkers-1)
		})
	}
	wg.Wait()
	// Close draws the final state before the narrative goes on.
	if err := renderer.Close(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return progressCheck(w, tracker.Snapshot(), results)
}

// progressResult is what a worker did, counted by the worker itself so
// that the tracker's numbers can be checked against it.
type progressResult struct {
	converted, corrupt int64
	err                error
}

// progressWork converts the task's images, one per tick of limit, and
// reports each through task. With diskFills, the task fails part way.
func progressWork(ctx context.Context, task *progress.Task, limit <-chan time.Time, diskFills bool) progressResult {
	var r progressResult
	for i := range progressItemsPerWorker {
		if diskFills && i == progressDiskFullAt {
			r.err = fmt.Errorf("write image %d: %w", i, errProgressDiskFull)
			task.Fail(r.err)
			return r
		}
		select {
		case <-limit:
		case <-ctx.Done():
			r.err = ctx.Err()
			task.Fail(r.err)
			return r
		}
		if i%progressBadEvery == progressBadEvery-1 {
			r.corrupt++
			task.AddFailed(1) // this image fails; the task goes on
			continue
		}
		r.converted++
		task.Add(1)
	}
	task.Done()
	return r
}

// progressCheck prints the final snapshot and verifies it against what the
// workers counted themselves.
func progressCheck(w io.Writer, s progress.Snapshot, results []progressResult) (string, error) {
	fmt.Fprintln(w, "final snapshot:")
	for _, ts := range s.Tasks {
		fmt.Fprintf(w, "  %-9s %-6s %2d converted, %d corrupt, of %d, in %v",
			ts.Name, ts.State, ts.Done, ts.Failed, ts.Total, ts.Elapsed.Round(time.Millisecond))
		if ts.Err != nil {
			fmt.Fprintf(w, " (%v)", ts.Err)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  overall: %d converted, %d corrupt, %d/%d tasks done, %.0f images/s\n",
		s.Done, s.Failed, s.TasksDone, len(s.Tasks), s.Rate)

	if len(s.Tasks) != len(results) {
		return "", fmt.Errorf("snapshot has %d tasks, want %d", len(s.Tasks), len(results))
	}
	var converted, corrupt int64
	for i, ts := range s.Tasks {
		r := results[i]
		converted += r.converted
		corrupt += r.corrupt
		if ts.Done != r.converted || ts.Failed != r.corrupt {
			return "", fmt.Errorf("%s: snapshot says %d converted, %d corrupt; the worker counted %d, %d",
				ts.Name, ts.Done, ts.Failed, r.converted, r.corrupt)
		}
		wantState := progress.Done
		if r.err != nil {
			wantState = progress.Failed
		}
		if ts.State != wantState || !errors.Is(ts.Err, r.err) {
			return "", fmt.Errorf("%s: state %v (%v), want %v (%v)", ts.Name, ts.State, ts.Err, wantState, r.err)
		}
	}
	// The plan, independently of the workers: full tasks process every
	// image, the last stops at the full disk.
	fullCorrupt := int64(progressItemsPerWorker / progressBadEvery)
	lastCorrupt := int64(progressDiskFullAt / progressBadEvery)
	wantCorrupt := (progressWorkers-1)*fullCorrupt + lastCorrupt
	wantConverted := (progressWorkers-1)*(progressItemsPerWorker-fullCorrupt) + progressDiskFullAt - lastCorrupt
	switch {
	case s.Done != converted || s.Failed != corrupt:
		return "", fmt.Errorf("overall %d converted, %d corrupt; workers counted %d, %d", s.Done, s.Failed, converted, corrupt)
	case s.Done != wantConverted || s.Failed != wantCorrupt:
		return "", fmt.Errorf("overall %d converted, %d corrupt; the plan says %d, %d", s.Done, s.Failed, wantConverted, wantCorrupt)
	case s.TasksRunning != 0 || s.TasksDone != progressWorkers-1 || s.TasksFailed != 1 || s.ETA != 0:
		return "", fmt.Errorf("tasks running/done/failed %d/%d/%d, ETA %v; want 0/%d/1, 0",
			s.TasksRunning, s.TasksDone, s.TasksFailed, s.ETA, progressWorkers-1)
	case !errors.Is(s.Tasks[progressWorkers-1].Err, errProgressDiskFull):
		return "", fmt.Errorf("last worker failed with %v, want disk full", s.Tasks[progressWorkers-1].Err)
	}
	return fmt.Sprintf("%d workers, %d images: %d converted, %d corrupt, %d tasks done and 1 failed (disk full); snapshot exact",
		progressWorkers, s.Done+s.Failed, s.Done, s.Failed, s.TasksDone), nil
}

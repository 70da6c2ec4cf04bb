package progress

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// bars is the Bars drawer: one mpb bar per task, in creation order, and a
// total bar below them once there are two tasks or more. mpb redraws only
// when the render loop asks (manual refresh), so there is one clock: the
// renderer's interval. It is used by the render loop only.
type bars struct {
	p        *mpb.Progress
	refresh  chan any // a send asks mpb to redraw
	shutdown chan any // closed by mpb when it stops (after close, or on a write error)
	tasks    []*bar   // by task index
	total    *bar     // nil until there are two tasks
}

// bar is one mpb bar and the status text its decorator shows.
type bar struct {
	b        *mpb.Bar
	status   atomic.Pointer[string] // written by the render loop, read by mpb's goroutines
	finished bool                   // the bar was completed or aborted
}

// errBarsStopped reports that mpb stopped on its own, which it does only
// after failing to write.
var errBarsStopped = errors.New("progress: bar rendering stopped")

// newBars starts mpb on w; close stops it.
func newBars(w io.Writer, interval time.Duration) *bars {
	d := &bars{refresh: make(chan any), shutdown: make(chan any)}
	d.p = mpb.New(
		mpb.WithOutput(w),
		mpb.WithManualRefresh(d.refresh),
		mpb.WithShutdownNotifier(d.shutdown),
		mpb.WithRefreshRate(interval),
	)
	return d
}

func (d *bars) draw(s Snapshot) error {
	d.update(s)
	select {
	case d.refresh <- time.Now():
		return nil
	case <-d.shutdown:
		return errBarsStopped
	}
}

// close updates the bars one last time, ends those still running (they
// stay on screen as they are) and waits for mpb's final redraw.
func (d *bars) close(s Snapshot) error {
	d.update(s)
	for _, b := range d.tasks {
		b.end()
	}
	if d.total != nil {
		d.total.end()
	}
	d.p.Wait()
	if d.p.Error != nil {
		return fmt.Errorf("progress: draw bars: %w", d.p.Error)
	}
	return nil
}

// update brings every bar to snapshot s, adding bars for new tasks.
func (d *bars) update(s Snapshot) {
	for i, ts := range s.Tasks {
		if i == len(d.tasks) {
			d.tasks = append(d.tasks, d.add(ts.Name, i))
		}
		d.tasks[i].update(ts)
	}
	if len(s.Tasks) < 2 {
		return
	}
	if d.total == nil {
		d.total = d.add("total", math.MaxInt32)
	}
	d.total.update(overall(s))
}

// add creates a bar labelled name at position priority (lowest on top).
// The bar's own total stays 0 for mpb, which keeps mpb from completing it
// when its count meets a total that an executor may still raise; the
// drawer completes it when the task is done.
func (d *bars) add(name string, priority int) *bar {
	b := &bar{}
	empty := ""
	b.status.Store(&empty)
	b.b = d.p.AddBar(0,
		mpb.BarPriority(priority),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return *b.status.Load() }, decor.WCSyncWidthR)),
	)
	return b
}

// update shows ts on the bar; a finished bar no longer changes.
func (b *bar) update(ts TaskSnapshot) {
	if b.finished {
		return
	}
	text := status(ts)
	b.status.Store(&text)
	processed := ts.Done + ts.Failed
	b.b.SetTotal(ts.Total, false) // 0, unknown, draws an empty bar
	b.b.SetCurrent(processed)
	switch ts.State {
	case Done:
		b.b.SetTotal(-1, true) // complete at the current count
		b.finished = true
	case Failed:
		b.b.Abort(false)
		b.finished = true
	}
}

// end stops a bar that is still running, leaving it drawn as it is.
func (b *bar) end() {
	if !b.finished {
		b.b.Abort(false)
		b.finished = true
	}
}

// status is the text after a bar: counts, then rate and ETA while running,
// duration when done, the error when failed.
func status(ts TaskSnapshot) string {
	b := appendCounts(nil, ts.Done, ts.Failed, ts.Total)
	switch ts.State {
	case Running:
		b = fmt.Appendf(b, "; %s; ETA %s", formatRate(ts.Rate), formatDuration(ts.ETA))
	case Done:
		b = fmt.Appendf(b, "; done in %s", formatDuration(ts.Elapsed))
	case Failed:
		b = fmt.Appendf(b, "; failed: %v", ts.Err)
	}
	return string(b)
}

// overall presents the totals of s as one task, for the total bar.
func overall(s Snapshot) TaskSnapshot {
	state := Done
	switch {
	case s.TasksRunning > 0:
		state = Running
	case s.TasksFailed > 0:
		state = Failed
	}
	ts := TaskSnapshot{
		Name: "total", State: state,
		Done: s.Done, Failed: s.Failed, Total: s.Total,
		Elapsed: s.Elapsed, Rate: s.Rate, ETA: s.ETA,
	}
	if state == Failed {
		ts.Err = fmt.Errorf("%d of %d tasks failed", s.TasksFailed, len(s.Tasks))
	}
	return ts
}

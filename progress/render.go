package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"golang.org/x/term"
)

// Mode selects how a [Renderer] shows progress.
type Mode uint8

// The rendering modes.
const (
	// Auto draws Bars when the output is a terminal and Lines otherwise
	// (a file, a pipe, a CI log). The output counts as a terminal when it
	// has an Fd method (as *os.File does) and that descriptor is a
	// terminal with a known size (not 0 rows or 0 columns).
	Auto Mode = iota
	// Bars draws a live bar per task, redrawn in place, plus a total bar
	// when there are several tasks (github.com/vbauerster/mpb/v8).
	Bars
	// Lines writes one plain line with the totals per interval, one line
	// for each task as it finishes, and a last line when rendering stops:
	// output that reads well in logs.
	Lines
	// Quiet shows nothing (for a -quiet flag); the tracker still counts.
	Quiet
)

// String returns the mode's name in lower case.
func (m Mode) String() string {
	switch m {
	case Auto:
		return "auto"
	case Bars:
		return "bars"
	case Lines:
		return "lines"
	case Quiet:
		return "quiet"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// ErrStarted is returned by [Renderer.Start] and [Renderer.Run] when the
// renderer is already rendering.
var ErrStarted = errors.New("progress: renderer already started")

// ErrClosed is returned by [Renderer.Start] and [Renderer.Run] when the
// renderer has been closed or has already finished rendering: a renderer
// renders once.
var ErrClosed = errors.New("progress: renderer closed")

// RenderOption configures a Renderer in [NewRenderer].
type RenderOption func(*Renderer) error

// WithMode sets how progress is shown. The default is [Auto].
func WithMode(m Mode) RenderOption {
	return func(r *Renderer) error {
		if m > Quiet {
			return fmt.Errorf("%w: unknown mode %d", ErrInvalid, uint8(m))
		}
		r.mode = m
		return nil
	}
}

// WithInterval sets how often the renderer takes a snapshot and redraws
// (Bars) or writes a line (Lines). The default is 150ms for Bars and 1s for
// Lines; d must be positive.
func WithInterval(d time.Duration) RenderOption {
	return func(r *Renderer) error {
		if d <= 0 {
			return fmt.Errorf("%w: render interval %v is not positive", ErrInvalid, d)
		}
		r.interval = d
		return nil
	}
}

// The default intervals of WithInterval.
const (
	defaultBarsInterval  = 150 * time.Millisecond
	defaultLinesInterval = time.Second
)

// Renderer shows a tracker's progress on an io.Writer from a goroutine it
// owns, started by [Renderer.Start] (or run in the caller's goroutine by
// [Renderer.Run]) and stopped by [Renderer.Close]. A renderer renders once:
// it cannot be restarted after it stops. Its methods are safe for
// concurrent use.
type Renderer struct {
	// Set by NewRenderer, read-only afterwards.
	tracker  *Tracker
	w        io.Writer
	mode     Mode // never Auto once NewRenderer returns
	interval time.Duration

	// mu guards everything below.
	mu      sync.Mutex
	started bool          // Start or Run has been called
	closed  bool          // Close has been called
	stop    chan struct{} // closed by Close to end the render loop
	done    chan struct{} // closed when the render loop has returned
	err     error         // the render loop's error, once done is closed
}

// NewRenderer returns a renderer of t's progress to w, configured by opts;
// it does not draw anything until started. It returns an error matching
// [ErrInvalid] if t or w is nil or an option is out of range.
func NewRenderer(t *Tracker, w io.Writer, opts ...RenderOption) (*Renderer, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil tracker", ErrInvalid)
	}
	if w == nil {
		return nil, fmt.Errorf("%w: nil writer", ErrInvalid)
	}
	r := &Renderer{tracker: t, w: w, stop: make(chan struct{}), done: make(chan struct{})}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil render option", ErrInvalid)
		}
		if err := opt(r); err != nil {
			return nil, err
		}
	}
	if r.mode == Auto {
		r.mode = Lines
		if isTerminal(w) {
			r.mode = Bars
		}
	}
	if r.interval == 0 {
		r.interval = defaultLinesInterval
		if r.mode == Bars {
			r.interval = defaultBarsInterval
		}
	}
	return r, nil
}

// Mode returns the mode the renderer uses: the one chosen with [WithMode],
// or the one [Auto] resolved to.
func (r *Renderer) Mode() Mode { return r.mode }

// Start begins rendering in a goroutine owned by the renderer, until Close
// is called or ctx ends; either way the final state is drawn once before
// rendering stops. Start returns [ErrStarted] if the renderer is rendering
// and [ErrClosed] if it was closed or has finished.
func (r *Renderer) Start(ctx context.Context) error {
	if err := r.begin(); err != nil {
		return err
	}
	go func() { r.finish(r.loop(ctx)) }()
	return nil
}

// Run renders in the calling goroutine until Close is called or ctx ends,
// draws the final state, and returns: nil after Close, ctx.Err() after ctx
// ended, or the first error writing the output (rendering stops at the
// first write error). Run returns [ErrStarted] if the renderer is rendering
// and [ErrClosed] if it was closed or has finished.
func (r *Renderer) Run(ctx context.Context) error {
	if err := r.begin(); err != nil {
		return err
	}
	err := r.loop(ctx)
	r.finish(err)
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// Close stops rendering, after the final state has been drawn, and waits
// until the render loop has returned. It returns the first error writing
// the output, if any. Close is idempotent; a renderer never started just
// becomes closed. The tracker is not affected: it goes on counting.
func (r *Renderer) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.stop)
	}
	started := r.started
	r.mu.Unlock()
	if !started {
		return nil
	}
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// begin marks the renderer started, or says why it cannot start.
func (r *Renderer) begin() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return ErrClosed
	case r.started:
		select {
		case <-r.done:
			return ErrClosed
		default:
			return ErrStarted
		}
	}
	r.started = true
	return nil
}

// finish records the render loop's outcome and signals its end.
func (r *Renderer) finish(err error) {
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
}

// drawer draws snapshots in one mode.
type drawer interface {
	// draw shows s; an error stops rendering.
	draw(s Snapshot) error
	// close shows the final state s and releases the drawer's resources;
	// it is called exactly once, also after draw failed.
	close(s Snapshot) error
}

// loop draws a snapshot per interval until Close or ctx ends, then the
// final one. It returns the first drawing error, or nil.
func (r *Renderer) loop(ctx context.Context) error {
	if r.mode == Quiet {
		select {
		case <-r.stop:
		case <-ctx.Done():
		}
		return nil
	}
	d := r.newDrawer()
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			if err := d.draw(r.tracker.Snapshot()); err != nil {
				return errors.Join(err, d.close(r.tracker.Snapshot()))
			}
		case <-r.stop:
			return d.close(r.tracker.Snapshot())
		case <-ctx.Done():
			return d.close(r.tracker.Snapshot())
		}
	}
}

// newDrawer returns the drawer of the renderer's mode.
func (r *Renderer) newDrawer() drawer {
	if r.mode == Bars {
		return newBars(r.w, r.interval)
	}
	return &lines{w: r.w}
}

// isTerminal reports whether w writes to a terminal that bars can be drawn
// on: one with a size (some consoles report 0 rows or columns, and mpb
// draws nothing on them).
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	width, height, err := term.GetSize(int(f.Fd()))
	return err == nil && width > 0 && height > 0
}

// lines is the Lines drawer. It is used by the render loop only.
type lines struct {
	w      io.Writer
	ended  []bool // by task index: whether the task's end line was written
	buf    []byte // reused for each write
	last   []byte // the last totals line written
	failed bool   // a write failed: write nothing more
}

func (l *lines) draw(s Snapshot) error {
	l.buf = l.appendEnds(l.buf[:0], s)
	ends := len(l.buf)
	l.buf = appendTotals(l.buf, s)
	totals := l.buf[ends:]
	if ends == 0 && string(totals) == string(l.last) {
		return nil // nothing new: the final draw after a tick at the same moment
	}
	l.last = append(l.last[:0], totals...)
	return l.write()
}

func (l *lines) close(s Snapshot) error {
	if l.failed {
		return nil
	}
	return l.draw(s)
}

// write sends the buffer to the output in one call.
func (l *lines) write() error {
	if _, err := l.w.Write(l.buf); err != nil {
		l.failed = true
		return fmt.Errorf("progress: write progress line: %w", err)
	}
	return nil
}

// appendEnds appends a line for each task that has finished since the
// previous call.
func (l *lines) appendEnds(b []byte, s Snapshot) []byte {
	for len(l.ended) < len(s.Tasks) {
		l.ended = append(l.ended, false)
	}
	for i, ts := range s.Tasks {
		if l.ended[i] || !ts.State.Finished() {
			continue
		}
		l.ended[i] = true
		b = appendPrefix(b, s.Elapsed)
		b = fmt.Appendf(b, "task %q %s after %s: ", ts.Name, ts.State, formatDuration(ts.Elapsed))
		b = appendCounts(b, ts.Done, ts.Failed, ts.Total)
		if ts.Err != nil {
			b = fmt.Appendf(b, "; %v", ts.Err)
		}
		b = append(b, '\n')
	}
	return b
}

// appendTotals appends the line with the totals over all tasks.
func appendTotals(b []byte, s Snapshot) []byte {
	b = appendPrefix(b, s.Elapsed)
	b = appendCounts(b, s.Done, s.Failed, s.Total)
	b = fmt.Appendf(b, "; %s", formatRate(s.Rate))
	if s.TasksRunning > 0 {
		b = fmt.Appendf(b, "; ETA %s", formatDuration(s.ETA))
	}
	return fmt.Appendf(b, "; tasks: %d running, %d done, %d failed\n",
		s.TasksRunning, s.TasksDone, s.TasksFailed)
}

// appendPrefix starts a line: "progress 1.5s: ".
func appendPrefix(b []byte, elapsed time.Duration) []byte {
	return fmt.Appendf(b, "progress %s: ", formatDuration(elapsed))
}

// appendCounts appends "processed/total items (percent)" and the failures.
func appendCounts(b []byte, done, failed, total int64) []byte {
	processed := done + failed
	b = strconv.AppendInt(b, processed, 10)
	if total > 0 {
		b = fmt.Appendf(b, "/%d items (%.1f%%)", total, 100*float64(processed)/float64(total))
	} else {
		b = append(b, " items"...)
	}
	if failed > 0 {
		b = fmt.Appendf(b, ", %d failed", failed)
	}
	return b
}

// formatDuration formats d for people: tenths of a second under a minute,
// whole seconds above, "unknown" for UnknownETA.
func formatDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "unknown"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
	return d.Round(time.Second).String()
}

// formatRate formats items per second, with one decimal below 10.
func formatRate(rate float64) string {
	if rate < 10 {
		return strconv.FormatFloat(rate, 'f', 1, 64) + "/s"
	}
	return strconv.FormatFloat(rate, 'f', 0, 64) + "/s"
}

// Package pool is a goroutine executor: Python's ThreadPoolExecutor done
// the Go way, with typed futures, contexts, panics turned into errors and
// a shutdown that cannot lose work.
//
// A [Pool] runs tasks on at most maxWorkers goroutines. Workers start on
// demand and retire after an idle timeout (keeping [WithMinWorkers] warm);
// tasks beyond the running ones wait in a queue that is unbounded by
// default or bounded with [WithQueueSize], in which case submitting blocks
// (honouring its context) or, with the Try variants, fails with [ErrFull].
//
// There are three ways to hand a pool work:
//
//   - [Submit] returns a typed *future.Future for one function;
//   - [Pool.Go] is fire-and-forget: errors are collected for [Pool.Wait];
//   - [Map] and [MapSlice] apply a function to many inputs, streaming the
//     results in input or completion order with bounded memory, and a
//     [Group] runs a set of tasks where the first error cancels the rest.
//
// A task submitted with [Submit] runs under the context given to Submit;
// that context is also cancelled when the task's future is cancelled, the
// pool is closed or the pool's own context ([WithContext]) ends. A [Pool.Go]
// task runs under the pool's context. A panic in a task becomes a
// *[PanicError] on its future and never kills the pool or the program.
//
// [Pool.Shutdown] is graceful (stop accepting, run everything accepted,
// wait); [Pool.Close] is immediate (cancel running tasks, fail queued ones
// with [ErrClosed]). Either way nothing accepted is silently dropped.
package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/skein-go/skein/future"
)

// Errors returned by the pool. Use errors.Is to test for them.
var (
	// ErrClosed: the pool was shut down or closed; the task was not
	// accepted, or was dropped from the queue by Close.
	ErrClosed = errors.New("pool: closed")
	// ErrFull: a non-blocking submission found no free worker and no room
	// in the queue.
	ErrFull = errors.New("pool: queue full")
	// ErrGoexit: the task called runtime.Goexit (for example t.FailNow in
	// a test); the pool replaces the worker it ended.
	ErrGoexit = errors.New("pool: task called runtime.Goexit")
)

// PanicError is the error of a task that panicked; see future.PanicError.
type PanicError = future.PanicError

// Pool is a bounded goroutine executor. Create one with [New]; all methods
// are safe for concurrent use. A pool must be shut down (or closed) when no
// longer needed, or its warm workers stay parked.
type Pool struct {
	cfg    config
	ctx    context.Context // parent of every task's context
	cancel context.CancelFunc

	mu sync.Mutex // guards every field below
	// queue holds accepted tasks no worker has taken yet.
	queue ring
	// idle holds parked workers, most recently parked last (LIFO keeps
	// the warm ones busy and lets the others time out).
	idle []*worker
	// putters are submitters blocked for room in a full queue, FIFO.
	putters []*putter
	spare   []*putter // free putters for reuse
	workers int       // live worker goroutines
	running int       // tasks handed to a worker and not yet finished
	state   poolState
	stats   counters
	errs    []error              // errors of Go tasks since the last Wait
	quiet   chan struct{}        // closed when no task is queued or running
	exited  chan struct{}        // closed when the last worker exits after shutdown
	all     map[*worker]struct{} // every live worker, to cancel running tasks on Close
	ticks   uint64               // reaper ticks so far
	reaping bool                 // the reaper goroutine is running

	quit   chan struct{}  // closed on Shutdown or Close: stops the reaper
	reaper sync.WaitGroup // the reaper goroutine

	stopAfter func() bool   // unregisters the hook on WithContext's context
	afterDone chan struct{} // closed when that hook has run
}

type poolState int

const (
	open poolState = iota
	shuttingDown
	closed
)

// counters are the cumulative totals reported by Stats.
type counters struct {
	submitted, completed, failed, panicked, cancelled, rejected uint64
}

// New returns a pool that runs at most maxWorkers tasks at a time.
// maxWorkers must be at least 1; options are validated and a bad one is
// an error.
func New(maxWorkers int, opts ...Option) (*Pool, error) {
	if maxWorkers < 1 {
		return nil, fmt.Errorf("pool: maxWorkers must be at least 1, got %d", maxWorkers)
	}
	cfg := config{maxWorkers: maxWorkers, queueSize: -1, idleTimeout: defaultIdleTimeout, ctx: context.Background()}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("pool: nil option")
		}
		if err := o.applyPool(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.minWorkers > maxWorkers {
		return nil, fmt.Errorf("pool: WithMinWorkers(%d) exceeds maxWorkers %d", cfg.minWorkers, maxWorkers)
	}
	p := &Pool{cfg: cfg, exited: make(chan struct{}), quit: make(chan struct{}), all: map[*worker]struct{}{}}
	p.ctx, p.cancel = context.WithCancel(cfg.ctx)
	p.queue.init(cfg.queueSize)
	// Warm workers park themselves: a worker is put on the idle list only
	// by its own goroutine, which knows it has no hand-off pending.
	ws := make([]*worker, cfg.minWorkers)
	p.mu.Lock()
	p.workers = cfg.minWorkers
	for i := range ws {
		ws[i] = p.newWorkerLocked(nil)
	}
	p.mu.Unlock()
	for _, w := range ws {
		go p.work(w, nil)
	}
	if cfg.ctx.Done() != nil {
		// Tasks of Submit run under their submitter's context; a
		// cancelled pool context must reach them too.
		p.afterDone = make(chan struct{})
		p.stopAfter = context.AfterFunc(cfg.ctx, func() {
			defer close(p.afterDone)
			p.cancelRunning()
		})
	}
	return p, nil
}

// Submit runs fn on p and returns its future. It blocks while the queue is
// full, until there is room or ctx ends.
//
// ctx is the task's context: fn sees its values and deadline, and its
// cancellation. The task's context is also cancelled by Future.Cancel,
// by Close and when the pool's context (WithContext) ends. If ctx ends
// before a worker starts the task, the task never runs and its future ends
// Cancelled with ctx's error, when a worker reaches it in the queue.
//
// Submit never panics: a nil pool or function, a closed pool (ErrClosed)
// and an ended ctx while blocked give a future that has already failed
// with that error.
func Submit[T any](ctx context.Context, p *Pool, fn func(context.Context) (T, error)) *future.Future[T] {
	if err := checkArgs(p, fn == nil); err != nil {
		return future.Fail[T](err)
	}
	t := &task[T]{fn: fn, ctx: ctx}
	if err := p.submit(ctx, t, true); err != nil {
		return future.Fail[T](err)
	}
	return t.p.Future()
}

// TrySubmit is Submit without blocking: when no worker is free and the
// queue is full it returns ErrFull (and ErrClosed on a closed pool) with a
// nil future.
func TrySubmit[T any](p *Pool, fn func(context.Context) (T, error)) (*future.Future[T], error) {
	if err := checkArgs(p, fn == nil); err != nil {
		return nil, err
	}
	t := &task[T]{fn: fn, ctx: context.Background()}
	if err := p.submit(context.Background(), t, false); err != nil {
		return nil, err
	}
	return t.p.Future(), nil
}

// Go runs fn on p without a future (fire and forget). It blocks like
// Submit while the queue is full and returns an error only if the task was
// not accepted (ErrClosed, ctx's error); ctx bounds only that wait. fn runs
// under the pool's context (WithContext), cancelled by Close. An error
// returned by fn, or its panic as a *PanicError, is collected and reported
// by [Pool.Wait]. A Go task costs no allocation.
func (p *Pool) Go(ctx context.Context, fn func(context.Context) error) error {
	if err := checkArgs(p, fn == nil); err != nil {
		return err
	}
	return p.submit(ctx, goTask(fn), true)
}

// TryGo is Go without blocking: it returns ErrFull when no worker is free
// and the queue is full.
func (p *Pool) TryGo(fn func(context.Context) error) error {
	if err := checkArgs(p, fn == nil); err != nil {
		return err
	}
	return p.submit(context.Background(), goTask(fn), false)
}

// checkArgs rejects a nil pool or a nil task function.
func checkArgs(p *Pool, nilFunc bool) error {
	switch {
	case p == nil:
		return errNilPool
	case nilFunc:
		return errNilFunc
	}
	return nil
}

var (
	errNilPool = errors.New("pool: nil *Pool")
	errNilFunc = errors.New("pool: nil task function")
)

// submit hands r to an idle worker, a new worker, the queue or, when block
// is set, waits for room.
func (p *Pool) submit(ctx context.Context, r runner, block bool) error {
	err := p.enqueue(ctx, r, block)
	if err == nil && p.cfg.progress != nil {
		p.cfg.progress.AddTotal(1)
	}
	return err
}

func (p *Pool) enqueue(ctx context.Context, r runner, block bool) error {
	p.mu.Lock()
	if p.state != open {
		p.stats.rejected++
		p.mu.Unlock()
		return ErrClosed
	}
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		w.cur = r
		p.stats.submitted++
		p.running++
		p.mu.Unlock()
		w.ch <- r // buffered: never blocks
		return nil
	}
	if p.workers < p.cfg.maxWorkers {
		p.workers++
		p.stats.submitted++
		p.running++
		w := p.newWorkerLocked(r)
		p.mu.Unlock()
		go p.work(w, r)
		return nil
	}
	if p.queue.push(r) {
		p.stats.submitted++
		p.mu.Unlock()
		return nil
	}
	if !block {
		p.stats.rejected++
		p.mu.Unlock()
		return ErrFull
	}
	if err := ctx.Err(); err != nil {
		p.stats.rejected++
		p.mu.Unlock()
		return err
	}
	w := p.getPutterLocked(r)
	p.putters = append(p.putters, w)
	p.mu.Unlock()
	return p.awaitRoom(ctx, w)
}

// awaitRoom waits until a worker admits the blocked submission w, Close
// rejects it, or ctx ends.
func (p *Pool) awaitRoom(ctx context.Context, w *putter) error {
	select {
	case <-w.ch:
	case <-ctx.Done():
		p.mu.Lock()
		if p.removePutterLocked(w) {
			p.stats.rejected++
			p.mu.Unlock()
			p.putPutter(w)
			return ctx.Err()
		}
		p.mu.Unlock()
		<-w.ch // admitted or rejected just before ctx ended: that decision stands
	}
	err := w.err
	p.putPutter(w)
	return err
}

func (p *Pool) removePutterLocked(w *putter) bool {
	for i, x := range p.putters {
		if x == w {
			p.putters = append(p.putters[:i], p.putters[i+1:]...)
			return true
		}
	}
	return false
}

// admitLocked takes the next task for a worker that has just finished one:
// from the queue (letting the longest-blocked submitter into the freed
// slot) or, with no queue room at all, straight from a blocked submitter.
func (p *Pool) admitLocked() (runner, bool) {
	r, ok := p.queue.pop()
	if ok {
		if len(p.putters) > 0 {
			w := p.popPutterLocked()
			p.queue.push(w.r)
			p.stats.submitted++
			w.ch <- struct{}{}
		}
		return r, true
	}
	if len(p.putters) > 0 {
		w := p.popPutterLocked()
		r := w.r // read before the signal: the submitter recycles w at once
		p.stats.submitted++
		w.ch <- struct{}{}
		return r, true
	}
	return nil, false
}

func (p *Pool) popPutterLocked() *putter {
	w := p.putters[0]
	p.putters[0] = nil
	p.putters = p.putters[1:]
	return w
}

// worker is the state of one worker goroutine that the pool can see.
type worker struct {
	// ch hands a parked worker its next task, nil (re-check the pool, as
	// on shutdown) or retire.
	ch chan runner
	// parkTick is the reaper's tick count when the worker last parked;
	// guarded by p.mu.
	parkTick uint64
	// cur is the task the worker is running, so that Close can cancel
	// it; guarded by p.mu.
	cur runner
}

// newWorkerLocked registers a worker about to start with task r (or nil).
func (p *Pool) newWorkerLocked(r runner) *worker {
	w := &worker{ch: make(chan runner, 1), cur: r}
	p.all[w] = struct{}{}
	return w
}

// work is a worker goroutine: it runs r (if any), then takes tasks until
// it retires or the pool shuts down.
func (p *Pool) work(w *worker, r runner) {
	var cur runner
	normal := false
	defer func() {
		if !normal {
			p.workerGoexit(w, cur)
		}
	}()
	if r == nil {
		p.mu.Lock()
		r = p.nextLocked(w)
	}
	for r != nil {
		cur = r
		out := r.run(p.ctx)
		cur = nil
		p.report(out.state)
		p.mu.Lock()
		p.recordLocked(out)
		w.cur = nil
		r = p.nextLocked(w)
	}
	normal = true
}

// report tells the progress Reporter, if any, how a task ended.
func (p *Pool) report(st future.State) {
	switch {
	case p.cfg.progress == nil:
	case st == future.Succeeded:
		p.cfg.progress.Add(1)
	default:
		p.cfg.progress.AddFailed(1)
	}
}

// nextLocked returns the worker's next task, parking the worker while
// there is none; nil means the worker exits (retired or shut down). It is
// called with p.mu held and returns with it released.
func (p *Pool) nextLocked(w *worker) runner {
	for {
		if r, ok := p.admitLocked(); ok {
			p.running++
			w.cur = r
			p.mu.Unlock()
			return r
		}
		if p.state != open {
			p.exitLocked(w)
			p.mu.Unlock()
			return nil
		}
		// Park. The idle list stays sorted by parkTick: workers are
		// appended as they park, submitters take the newest, the reaper
		// retires the oldest.
		w.parkTick = p.ticks
		p.idle = append(p.idle, w)
		p.startReaperLocked()
		p.mu.Unlock()
		switch r := <-w.ch; r {
		case nil: // woken to re-check the pool's state
		case retire:
			return nil // the reaper did the accounting
		default:
			return r // the submitter counted it as running
		}
		p.mu.Lock()
	}
}

// retire is handed to a parked worker that the reaper retires.
var retire runner = retireSignal{}

type retireSignal struct{}

func (retireSignal) run(context.Context) outcome { return outcome{} }
func (retireSignal) abort(error)                 {}
func (retireSignal) fail(error)                  {}
func (retireSignal) cancel()                     {}
func (retireSignal) isGo() bool                  { return false }

// startReaperLocked starts the goroutine that retires idle workers when
// there are workers above the minimum and it is not running yet. Parking
// itself then costs no timer.
func (p *Pool) startReaperLocked() {
	if p.reaping || p.workers <= p.cfg.minWorkers {
		return
	}
	p.reaping = true
	p.reaper.Add(1)
	go p.reap()
}

// reap ticks every half idle timeout and retires the workers that have
// been parked for three ticks, that is for between one and one and a half
// idle timeouts. It stops when no parked worker is left above the minimum
// (the next park starts it again) and when the pool shuts down.
func (p *Pool) reap() {
	defer p.reaper.Done()
	t := time.NewTicker(p.cfg.idleTimeout / 2)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		p.ticks++
		n := 0
		for n < len(p.idle) && p.idle[n].parkTick+3 <= p.ticks && p.workers > p.cfg.minWorkers {
			p.idle[n].ch <- retire
			delete(p.all, p.idle[n])
			p.idle[n] = nil
			p.workers--
			n++
		}
		p.idle = append(p.idle[:0], p.idle[n:]...)
		if len(p.idle) == 0 || p.workers <= p.cfg.minWorkers {
			p.reaping = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
	}
}

// exitLocked accounts for a worker w that leaves.
func (p *Pool) exitLocked(w *worker) {
	delete(p.all, w)
	p.workers--
	if p.workers == 0 && p.state != open {
		closeOnce(p.exited)
	}
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// workerGoexit runs when a task ended its worker with runtime.Goexit: the
// task fails with ErrGoexit and a replacement worker takes over if there is
// work left.
func (p *Pool) workerGoexit(w *worker, cur runner) {
	if cur != nil {
		cur.fail(ErrGoexit)
	}
	p.report(future.Failed)
	p.mu.Lock()
	p.recordLocked(outcome{state: future.Failed, err: ErrGoexit, goTask: cur != nil && cur.isGo()})
	delete(p.all, w)
	r, ok := p.admitLocked()
	if ok {
		p.running++
		nw := p.newWorkerLocked(r)
		p.mu.Unlock()
		go p.work(nw, r)
		return
	}
	p.exitLocked(w)
	p.mu.Unlock()
}

// cancelRunning cancels the task that every worker is running, when the
// pool is closed or its context (WithContext) is cancelled.
func (p *Pool) cancelRunning() {
	p.mu.Lock()
	var cur []runner
	for w := range p.all {
		if w.cur != nil {
			cur = append(cur, w.cur)
		}
	}
	p.mu.Unlock()
	for _, r := range cur {
		r.cancel()
	}
}

// recordLocked updates the counters for a finished task.
func (p *Pool) recordLocked(out outcome) {
	p.running--
	switch out.state {
	case future.Succeeded:
		p.stats.completed++
	case future.Cancelled:
		p.stats.cancelled++
	default:
		p.stats.failed++
		if out.panicked {
			p.stats.panicked++
		}
	}
	if out.goTask && out.err != nil {
		p.addErrLocked(out.err)
	}
	if p.running == 0 && p.queue.len() == 0 && len(p.putters) == 0 && p.quiet != nil {
		close(p.quiet)
		p.quiet = nil
	}
}

func (p *Pool) addErrLocked(err error) {
	if p.cfg.errorMode == FirstError && len(p.errs) > 0 {
		return
	}
	p.errs = append(p.errs, err)
}

// Wait blocks until no task is queued or running, then returns the errors
// of the tasks started with Go since the previous Wait: the first one, or
// all of them joined with errors.Join under WithErrorMode(AllErrors).
// Futures keep their own errors and are not reported here. If ctx ends
// first, Wait returns ctx.Err() and keeps the errors for the next call.
// The pool stays usable after Wait; Wait must not be called from a task of
// the same pool (it would wait for itself).
func (p *Pool) Wait(ctx context.Context) error {
	p.mu.Lock()
	if p.running == 0 && p.queue.len() == 0 && len(p.putters) == 0 {
		err := p.takeErrsLocked()
		p.mu.Unlock()
		return err
	}
	if p.quiet == nil {
		p.quiet = make(chan struct{})
	}
	quiet := p.quiet
	p.mu.Unlock()
	select {
	case <-quiet:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.takeErrsLocked()
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pool) takeErrsLocked() error {
	err := errors.Join(p.errs...)
	if len(p.errs) == 1 {
		err = p.errs[0]
	}
	p.errs = nil
	return err
}

// Shutdown stops the pool gracefully: new submissions fail with ErrClosed
// (including callers blocked for room), every accepted task still runs,
// and Shutdown waits until all of them have finished and the workers have
// exited. If ctx ends first it returns ctx.Err(); the tasks go on and a
// later Shutdown or Close can wait again. Shutdown is idempotent and must
// not be called from a task of the same pool.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.state == open {
		p.state = shuttingDown
		p.rejectPuttersLocked()
		p.wakeIdleLocked()
		close(p.quit)
	}
	p.mu.Unlock()
	p.reaper.Wait()
	select {
	case <-p.exited:
		p.cancel()
		p.unhook()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the pool at once: new submissions fail with ErrClosed, the
// context of every running task is cancelled, every queued task is dropped
// (its future fails with ErrClosed and counts as cancelled; dropped Go
// tasks are reported by Wait), and Close waits until the running tasks
// have returned and the workers have exited. A task that ignores its
// context delays Close. Close is idempotent, may follow Shutdown, and must
// not be called from a task of the same pool.
func (p *Pool) Close() error {
	p.mu.Lock()
	first := p.state != closed
	if first {
		if p.state == open {
			close(p.quit)
		}
		p.state = closed
		p.cancel()
		p.rejectPuttersLocked()
		dropped := 0
		for {
			r, ok := p.queue.pop()
			if !ok {
				break
			}
			p.stats.cancelled++
			if r.isGo() {
				dropped++
			}
			r.abort(ErrClosed)
			p.report(future.Cancelled)
		}
		if dropped > 0 {
			p.addErrLocked(fmt.Errorf("pool: %d queued Go tasks dropped: %w", dropped, ErrClosed))
		}
		if p.running == 0 && p.quiet != nil {
			close(p.quiet)
			p.quiet = nil
		}
		p.wakeIdleLocked()
		if p.workers == 0 {
			closeOnce(p.exited)
		}
	}
	p.mu.Unlock()
	if first {
		p.cancelRunning()
	}
	p.reaper.Wait()
	<-p.exited
	p.unhook()
	return nil
}

// unhook unregisters the hook on WithContext's context, waiting for it if
// it has already started, so that no goroutine of the pool outlives it.
func (p *Pool) unhook() {
	if p.stopAfter != nil && !p.stopAfter() {
		<-p.afterDone
	}
}

func (p *Pool) rejectPuttersLocked() {
	for _, w := range p.putters {
		p.stats.rejected++
		w.err = ErrClosed
		w.ch <- struct{}{}
	}
	p.putters = nil
	if p.workers == 0 {
		closeOnce(p.exited)
	}
}

// wakeIdleLocked sends every parked worker a nil task so it re-checks the
// pool's state and exits.
func (p *Pool) wakeIdleLocked() {
	for i, w := range p.idle {
		w.ch <- nil
		p.idle[i] = nil
	}
	p.idle = p.idle[:0]
}

// putter is a submitter blocked until there is room for its task.
type putter struct {
	r   runner
	err error         // set before ch is signalled: nil (admitted) or ErrClosed
	ch  chan struct{} // buffered 1; signalled exactly once per use
}

// getPutterLocked takes a putter from the pool's free list or makes one.
// The list is per pool, not a sync.Pool, so that a pool created inside a
// testing/synctest bubble only ever uses channels of that bubble.
func (p *Pool) getPutterLocked(r runner) *putter {
	var w *putter
	if n := len(p.spare); n > 0 {
		w = p.spare[n-1]
		p.spare = p.spare[:n-1]
	} else {
		w = &putter{ch: make(chan struct{}, 1)}
	}
	w.r = r
	return w
}

// putPutter returns w, whose signal has been consumed, to the free list.
func (p *Pool) putPutter(w *putter) {
	w.r, w.err = nil, nil
	p.mu.Lock()
	if len(p.spare) < 64 {
		p.spare = append(p.spare, w)
	}
	p.mu.Unlock()
}

// runner is a queued task: a future-backed task or a Go task.
type runner interface {
	// run executes the task (or skips it if it was cancelled while
	// queued) with ctx as the parent of its context.
	run(ctx context.Context) outcome
	// abort drops a task that never started.
	abort(err error)
	// fail ends a task whose worker died under it (runtime.Goexit).
	fail(err error)
	// cancel cancels a running task's context (Close, or WithContext's
	// context ending); Go tasks run under the pool's context already.
	cancel()
	isGo() bool
}

// outcome is what the pool learns from a finished task.
type outcome struct {
	state    future.State
	err      error // kept for Go tasks only
	panicked bool
	goTask   bool
}

// task is a submission with a future; one allocation holds both.
type task[T any] struct {
	p   future.Promise[T]
	fn  func(context.Context) (T, error)
	ctx context.Context // the submitter's: parent of the task's context
}

func (t *task[T]) run(pctx context.Context) outcome {
	fn := t.fn
	t.fn = nil // do not keep the closure alive through the future
	tctx := t.p.Context(t.ctx)
	t.ctx = nil
	// A task whose context (or the pool's) ended while it was queued
	// never starts.
	err := tctx.Err()
	if err == nil {
		err = pctx.Err()
	}
	if err != nil {
		t.p.Abort(err)
		return outcome{state: future.Cancelled}
	}
	if !t.p.Start() {
		return outcome{state: future.Cancelled}
	}
	v, err, panicked := call(tctx, fn)
	t.p.Resolve(v, err)
	return outcome{state: t.p.Future().State(), panicked: panicked}
}

func (t *task[T]) cancel() { t.p.Future().Cancel() }

func (t *task[T]) abort(err error) { t.p.Abort(err) }

func (t *task[T]) fail(err error) {
	var zero T
	t.p.Resolve(zero, err)
}

func (t *task[T]) isGo() bool { return false }

// goTask is a fire-and-forget submission; a func value fits in an
// interface without allocating.
type goTask func(context.Context) error

func (g goTask) run(ctx context.Context) (out outcome) {
	out.goTask = true
	defer func() {
		if r := recover(); r != nil {
			out.state, out.err, out.panicked = future.Failed, &future.PanicError{Value: r, Stack: debug.Stack()}, true
		}
	}()
	out.err = g(ctx)
	switch {
	case out.err == nil:
		out.state = future.Succeeded
	case errors.Is(out.err, context.Canceled) && ctx.Err() != nil:
		out.state = future.Cancelled
	default:
		out.state = future.Failed
	}
	return out
}

func (goTask) abort(error) {}
func (goTask) fail(error)  {}
func (goTask) cancel()     {}
func (goTask) isGo() bool  { return true }

// call runs fn, converting a panic into a *PanicError.
func call[T any](ctx context.Context, fn func(context.Context) (T, error)) (v T, err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err, panicked = &future.PanicError{Value: r, Stack: debug.Stack()}, true
		}
	}()
	v, err = fn(ctx)
	return v, err, false
}

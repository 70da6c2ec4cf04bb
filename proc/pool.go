// Package proc runs registered Go functions in worker processes: Python's
// ProcessPoolExecutor, multiprocessing.Pool and Process, for Go programs
// that need process isolation rather than parallelism (goroutines already
// use every core): code that can crash, hang, leak or corrupt memory, such
// as cgo libraries, parsers of untrusted files or plugins.
//
// The same binary is parent and worker. Task functions are registered at
// package level with typed input and output, and main calls Main first:
//
//	var Square = proc.Register("square", func(ctx context.Context, x int) (int, error) {
//		return x * x, nil
//	})
//
//	func main() {
//		proc.Main() // in a worker: serve tasks, never return
//		p, err := proc.New(4)
//		...
//		v, err := proc.Submit(ctx, p, Square, 7).Wait(ctx)
//	}
//
// Workers are the program's own executable, started with a socket pair
// inherited as a file descriptor (no listening socket), stdin closed,
// stdout and stderr shared with the parent (the last lines of stderr are
// kept for error reports). They die with the parent: on Linux through
// Pdeathsig, everywhere through EOF on the socket. Parent and worker check
// at the handshake that they are the same build with the same functions.
//
// Only data crosses the boundary: arguments and results are encoded with a
// compact format for plain Go data, the types' own binary methods, or gob;
// a worker runs only functions its own binary registered.
//
// Failure isolation is the point: a task that panics, calls os.Exit, is
// killed by a signal, hangs past its timeout or is cancelled fails only
// its own future, with *future.PanicError, *WorkerError, ErrTimeout or the
// context's error; the pool replaces the worker and every other task goes
// on. Nothing accepted is dropped silently and nothing hangs: tasks that
// were queued on a dead worker are sent to another one, and the task it
// was running fails or, with WithRetries, runs again.
//
// Pool runs many tasks on a fixed number of workers (Submit, Map,
// MapSlice); Start runs one function in a new process (Process).
package proc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// backstop is how long past a worker's own deadline (timeout or cancel,
// plus grace) the parent waits before it kills a worker that did not end
// itself (one that is stopped, or wedged beyond its watchdog's reach).
const backstop = time.Second

// Pool runs registered functions on a fixed number of worker processes.
// Create one with New; all methods are safe for concurrent use. A pool
// must be shut down (Shutdown or Close) when no longer needed, or its
// workers stay alive.
type Pool struct {
	cfg  config
	n    int
	sp   *spawner
	wg   sync.WaitGroup // every goroutine of the pool: readers, writers, starters
	done chan struct{}  // closed when the pool is shut down and every worker has exited
	fin  sync.Once      // the final wait, shared by Shutdown and Close

	mu       sync.Mutex // guards every field below and the guarded fields of worker and job
	state    poolState
	broken   error                // a replacement worker could not start: no new work is taken
	serving  []*worker            // workers taking work (not retiring)
	all      map[*worker]struct{} // every live worker process, serving or retiring
	starting int                  // workers being started
	queue    []*job               // jobs waiting for a worker, in order
	nextID   uint64
	queued   int // items in queue (excluding dropped jobs)
	inflight int // items sent to workers and not finished
	stats    Stats
	drained  bool               // Shutdown has asked every worker to exit
	later    []func()           // deliveries to run once mu is released (see unlock)
	onExit   func(*WorkerError) // called under mu when a worker has exited (Process)
}

type poolState uint8

const (
	open poolState = iota
	draining
	closed
)

// New starts a pool of n worker processes and waits until each has
// started, passed the handshake and run its initializer. It fails if n < 1,
// an option is invalid, main did not call Main (ErrNoMain), or a worker
// cannot start (ErrMismatch, ErrInit, a *WorkerError for a worker that
// died first); then no process is left running.
func New(n int, opts ...Option) (*Pool, error) {
	if n < 1 {
		return nil, fmt.Errorf("proc: New(%d): need at least one worker", n)
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	return newPool(n, cfg)
}

func newPool(n int, cfg config) (*Pool, error) {
	if !supported {
		return nil, ErrUnsupported
	}
	if registry.Ready() != nil {
		return nil, ErrNoMain
	}
	p := &Pool{cfg: cfg, n: n, sp: newSpawner(), done: make(chan struct{}), all: map[*worker]struct{}{}}
	type started struct {
		w   *worker
		err error
	}
	results := make(chan started, n)
	for range n {
		go func() {
			w, err := startWorker(&p.cfg, p.sp)
			results <- started{w, err}
		}()
	}
	var ws []*worker
	var errs []error
	for range n {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		ws = append(ws, r.w)
	}
	if len(errs) > 0 {
		for _, w := range ws {
			w.closeConns()
			w.reap(nil)
		}
		p.sp.stop()
		return nil, errs[0]
	}
	p.mu.Lock()
	for _, w := range ws {
		p.addLocked(w)
	}
	p.mu.Unlock()
	return p, nil
}

// Submit runs f(in) on a worker of p and returns its future. ctx is the
// task's context: if it ends (or the future is cancelled) before a worker
// starts the task, the task never runs; if it ends while the task runs,
// the task's context in the worker is cancelled, and a task that does not
// return within WithStopGrace has its worker killed. Either way the future
// fails with ctx's error. A progress.Reporter that ctx carries
// (progress.NewContext) receives what the task reports through
// progress.FromContext in the worker, live; the last counts arrive before
// the result. Map and MapSlice do the same for every item.
//
// Handles of the ipc and shm packages (queues, pipe ends, maps, segments)
// may be arguments, alone or in a struct: the worker attaches the same
// object.
//
// Submit never blocks and never panics: a nil pool, an unusable f, an
// argument that cannot be encoded (ErrEncoding), a closed pool
// (ErrClosed) or a pool whose replacement worker failed to start give a
// future that has already failed.
func Submit[In, Out any](ctx context.Context, p *Pool, f *Func[In, Out], in In) *future.Future[Out] {
	if p == nil {
		return future.Fail[Out](errors.New("proc: Submit on a nil *Pool"))
	}
	if err := f.usable(); err != nil {
		return future.Fail[Out](err)
	}
	t := &task[In, Out]{f: f, timeout: p.cfg.timeout}
	t.ctx = t.promise.Context(ctx)
	if err := t.ctx.Err(); err != nil {
		return future.Fail[Out](err)
	}
	data, err := f.encodeArg(t.buf[:0], in)
	if err == nil {
		err = p.checkSize(f.name, len(data))
	}
	if err != nil {
		return future.Fail[Out](err)
	}
	t.job = job{fn: f.name, count: 1, data: data, sink: t, deadline: deadline(ctx)}
	if progress.Reporting(ctx) {
		t.job.rep = progress.FromContext(ctx)
	}
	// Cancellation reaches the job from the future (Cancel while it runs)
	// and from ctx; not through the task context, which would have to
	// become a real context per task (three times the allocations of the
	// rest of Submit). A pending future's Cancel needs no hook: the job is
	// dropped when its turn comes (sink.start fails).
	cancel := func() { p.cancel(&t.job) }
	t.promise.OnCancel(cancel)
	if ctx.Done() != nil {
		t.stop = context.AfterFunc(ctx, cancel)
	}
	if err := p.submit(&t.job); err != nil {
		t.resolve(*new(Out), err)
	}
	return t.promise.Future()
}

// deadline returns ctx's deadline in Unix nanoseconds, or 0.
func deadline(ctx context.Context) int64 {
	if d, ok := ctx.Deadline(); ok {
		return d.UnixNano()
	}
	return 0
}

// checkSize refuses an argument that cannot fit in a frame.
func (p *Pool) checkSize(fn string, n int) error {
	if limit := p.cfg.maxFrame - 64 - len(fn); n > limit {
		return fmt.Errorf("proc: argument of %q: %d bytes exceed the frame limit of %d: %w", fn, n, p.cfg.maxFrame, ErrEncoding)
	}
	return nil
}

// submit accepts jobs and hands them to workers with room, or queues
// them. All jobs are accepted or none.
func (p *Pool) submit(jobs ...*job) error {
	p.mu.Lock()
	defer p.unlock()
	if err := p.acceptingLocked(); err != nil {
		return err
	}
	for _, j := range jobs {
		j.id = p.nextIDLocked()
		p.stats.Submitted += uint64(j.count)
		if j.cancelReq {
			// Cancelled between Submit's registrations and here.
			j.state = jobDropped
			p.stats.Cancelled += uint64(j.count)
			p.laterLocked(func() { j.sink.fail(j.base, j.base+j.count, j.sink.cancelErr(), true) })
			continue
		}
		j.state = jobQueued
		p.queue = append(p.queue, j)
		p.queued += j.count
	}
	p.dispatchLocked()
	return nil
}

func (p *Pool) acceptingLocked() error {
	switch {
	case p.state != open:
		return ErrClosed
	case p.broken != nil:
		return p.broken
	}
	return nil
}

func (p *Pool) nextIDLocked() uint64 {
	p.nextID++
	return p.nextID
}

// dispatchLocked sends queued jobs to the least loaded workers with room.
func (p *Pool) dispatchLocked() {
	for len(p.queue) > 0 {
		w := p.pickLocked()
		if w == nil {
			return
		}
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		if j.state == jobDropped {
			continue
		}
		p.queued -= j.count
		p.assignLocked(w, j)
	}
	if len(p.queue) == 0 {
		p.queue = nil // let a long backlog's array go
	}
}

// pickLocked returns the least loaded worker that takes work now, or nil.
// A worker that filled its window takes more only once half of it has
// drained, so that refills go out in batches (one write for several
// tasks) rather than one by one.
func (p *Pool) pickLocked() *worker {
	var best *worker
	for _, w := range p.serving {
		if !w.full && (best == nil || len(w.inflight) < len(best.inflight)) {
			best = w
		}
	}
	return best
}

// assignLocked sends j to w.
func (p *Pool) assignLocked(w *worker, j *job) {
	if !j.started {
		if !j.sink.start() {
			// Its future was cancelled while queued: already resolved.
			j.state = jobDropped
			p.stats.Cancelled += uint64(j.count)
			return
		}
		j.started = true
	}
	j.state, j.w = jobSent, w
	w.inflight = append(w.inflight, j)
	w.full = len(w.inflight) >= p.windowLocked(w)
	if p.cfg.inflight == 0 && len(w.inflight) == 1 {
		w.idleFrom = time.Now() // it was idle: its next completion must not count the wait
	}
	w.given += j.count
	p.inflight += j.count
	w.send(j, p.cfg.timeout)
	if j.cancelReq {
		p.sendCancelLocked(j)
	}
	if len(w.inflight) == 1 {
		p.headLocked(j)
	}
	if p.cfg.maxTasks > 0 && w.given >= p.cfg.maxTasks {
		p.retireLocked(w)
	}
}

// windowLocked is how many jobs w may hold: WithInflight's, or enough
// for about windowWork of its recent jobs (tasks, or Map chunks).
func (p *Pool) windowLocked(w *worker) int {
	switch {
	case p.cfg.inflight > 0:
		return p.cfg.inflight
	case w.perJob == 0:
		return firstWindow
	}
	return int(min(max(windowWork/w.perJob, minWindow), maxWindow))
}

// measureLocked updates w's average time per job with the one that just
// finished (an exponential moving average over about eight jobs).
func (p *Pool) measureLocked(w *worker) {
	if p.cfg.inflight > 0 {
		return
	}
	now := time.Now()
	d := now.Sub(w.idleFrom)
	w.idleFrom = now
	if w.perJob == 0 {
		w.perJob = max(d, 1)
		return
	}
	w.perJob = max(w.perJob+(d-w.perJob)/8, 1)
}

// headLocked is called when j becomes the job its worker runs now: it
// arms the parent's backstop, which kills the worker if the job outlives
// the worker's own watchdog by far (a stopped or wedged worker).
func (p *Pool) headLocked(j *job) {
	var limit time.Duration
	switch {
	case j.cancelSent:
		limit = p.cfg.grace + backstop
	case p.cfg.timeout > 0:
		limit = time.Duration(j.count)*p.cfg.timeout + p.cfg.grace + backstop
	default:
		return
	}
	p.armLocked(j, limit, func() error {
		if j.cancelSent {
			return j.sink.cancelErr()
		}
		return fmt.Errorf("proc: %s: %w (limit %v; the worker did not stop it)", j.fn, ErrTimeout, p.cfg.timeout)
	})
}

// armLocked (re)arms j's backstop timer.
func (p *Pool) armLocked(j *job, limit time.Duration, why func() error) {
	if j.timer != nil {
		j.timer.Stop()
	}
	w := j.w
	j.timer = time.AfterFunc(limit, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if j.state != jobSent || j.w != w || w.inflight[0] != j || w.killed != nil {
			return
		}
		j.killedFor = why()
		w.killed = j.killedFor
		p.stats.WorkersKilled++
		w.kill()
	})
}

// cancel is called when a job's context ends.
func (p *Pool) cancel(j *job) {
	p.mu.Lock()
	defer p.unlock()
	p.cancelLocked(j)
}

// cancelWhere cancels every queued or running job that match selects.
func (p *Pool) cancelWhere(match func(*job) bool) {
	p.mu.Lock()
	defer p.unlock()
	for _, j := range p.queue {
		if j.state == jobQueued && match(j) {
			p.cancelLocked(j)
		}
	}
	for w := range p.all {
		for _, j := range w.inflight {
			if match(j) {
				p.cancelLocked(j)
			}
		}
	}
}

// cancelLocked drops a queued job (failing it with its context's error)
// or asks the worker running it to stop it.
func (p *Pool) cancelLocked(j *job) {
	if j.cancelReq {
		return
	}
	j.cancelReq = true
	switch j.state {
	case jobQueued:
		j.state = jobDropped
		p.queued -= j.count
		p.stats.Cancelled += uint64(j.count)
		p.checkDoneLocked()
		p.laterLocked(func() { j.sink.fail(j.base, j.base+j.count, j.sink.cancelErr(), true) })
	case jobSent:
		p.sendCancelLocked(j)
	}
}

func (p *Pool) sendCancelLocked(j *job) {
	if j.cancelSent {
		return
	}
	j.cancelSent = true
	w, id := j.w, j.id
	p.laterLocked(func() { w.sendCancel(id) }) // a syscall: not under mu
	if j.w.inflight[0] == j {
		p.headLocked(j)
	}
}

// retireLocked stops giving w work and starts its replacement; w exits
// once it has finished what it holds.
func (p *Pool) retireLocked(w *worker) {
	if w.retiring {
		return
	}
	w.retiring = true
	p.stats.WorkersRecycled++
	p.removeServingLocked(w)
	p.replenishLocked()
	if len(w.inflight) == 0 {
		w.closing = true
		w.closeWrite()
	}
}

func (p *Pool) removeServingLocked(w *worker) {
	for i, s := range p.serving {
		if s == w {
			p.serving = append(p.serving[:i], p.serving[i+1:]...)
			return
		}
	}
}

// addLocked starts serving a worker that passed its handshake.
func (p *Pool) addLocked(w *worker) {
	p.all[w] = struct{}{}
	p.serving = append(p.serving, w)
	p.stats.WorkersStarted++
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		w.write()
	}()
	go func() {
		defer p.wg.Done()
		p.read(w)
	}()
	if p.state == closed {
		w.killed = ErrClosed
		w.kill()
		return
	}
	p.dispatchLocked()
	p.checkDoneLocked()
}

// replenishLocked starts workers until the pool has n (serving or
// starting), unless it is closed, broken, or draining with nothing left
// to run.
func (p *Pool) replenishLocked() {
	if p.cfg.single || p.state == closed || p.broken != nil || (p.state == draining && p.queued == 0) {
		return
	}
	for len(p.serving)+p.starting < p.n {
		p.starting++
		p.wg.Add(1)
		go p.launch()
	}
}

// launch starts a replacement worker. A worker that cannot start breaks
// the pool instead of being retried in a loop: its error (a failing
// initializer, a changed binary) would most likely repeat.
func (p *Pool) launch() {
	defer p.wg.Done()
	w, err := startWorker(&p.cfg, p.sp)
	p.mu.Lock()
	defer p.unlock()
	p.starting--
	if err == nil {
		p.addLocked(w)
		return
	}
	if p.state != closed && p.broken == nil {
		p.broken = fmt.Errorf("proc: pool stopped taking work: %w", err)
	}
	p.strandedLocked(p.broken)
	p.checkDoneLocked()
}

// strandedLocked fails the queue when no worker will ever take it: the
// pool is broken (or a Process, whose one worker is not replaced) and no
// worker is left.
func (p *Pool) strandedLocked(err error) {
	if len(p.serving) == 0 && p.starting == 0 && (p.broken != nil || p.cfg.single) {
		p.failQueueLocked(err)
	}
}

// failQueueLocked fails every queued job with err.
func (p *Pool) failQueueLocked(err error) {
	for _, j := range p.queue {
		if j.state == jobDropped {
			continue
		}
		j.state = jobDropped
		p.queued -= j.count
		if errors.Is(err, ErrClosed) {
			p.stats.Cancelled += uint64(j.count)
		} else {
			p.stats.Failed += uint64(j.count)
		}
		p.laterLocked(func() { j.sink.fail(j.base, j.base+j.count, err, errors.Is(err, ErrClosed)) })
	}
	p.queue = nil
}

// laterLocked queues a delivery for unlock: resolving a future runs its
// callbacks, which must not run under mu (they may submit more work).
func (p *Pool) laterLocked(fn func()) { p.later = append(p.later, fn) }

// unlock releases mu and then runs the deliveries queued under it.
func (p *Pool) unlock() {
	fns := p.later
	p.later = nil
	p.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// read is a worker's reader goroutine: it delivers results until the
// worker's socket ends, then reaps the worker and settles its jobs.
func (p *Pool) read(w *worker) {
	cause := p.readResults(w)
	if cause != nil {
		p.mu.Lock()
		if w.killed == nil {
			w.killed = cause
			p.stats.WorkersKilled++
		}
		p.mu.Unlock()
	}
	w.closeConns()
	close(w.quit)
	werr := w.reap(cause)
	p.exited(w, werr)
}

// readResults reads Result frames until EOF (nil) or a protocol error.
func (p *Pool) readResults(w *worker) error {
	var res wire.Result
	for {
		k, payload, err := w.r.Next()
		if err != nil {
			if errors.Is(err, wire.ErrCorrupt) || errors.Is(err, wire.ErrTooLarge) {
				return err
			}
			return nil // EOF, or the socket closed under us: the worker is gone
		}
		if k == wire.KindProgress {
			if err := p.progress(w, payload); err != nil {
				return err
			}
			continue
		}
		if k != wire.KindResult {
			return fmt.Errorf("%w: unexpected %v frame", wire.ErrCorrupt, k)
		}
		if err := res.ParsePayload(payload); err != nil {
			return err
		}
		if err := p.result(w, &res); err != nil {
			return err
		}
	}
}

// progress adds the counts of a Progress frame to the Reporter of the
// job it is for: the head of the worker's in-flight list, the one running.
func (p *Pool) progress(w *worker, payload []byte) error {
	var m wire.Progress
	if err := m.ParsePayload(payload); err != nil {
		return err
	}
	p.mu.Lock()
	var j *job
	if len(w.inflight) > 0 && w.inflight[0].id == m.ID {
		j = w.inflight[0]
	}
	p.mu.Unlock()
	if j == nil || j.rep == nil {
		return nil // a task nobody watches any more: dropped
	}
	if m.Total != 0 {
		j.rep.AddTotal(m.Total)
	}
	if m.Done != 0 {
		j.rep.Add(m.Done)
	}
	if m.Failed != 0 {
		j.rep.AddFailed(m.Failed)
	}
	return nil
}

// result delivers one Result frame to the job it belongs to: the head of
// the worker's in-flight list, since a worker runs its tasks in order.
func (p *Pool) result(w *worker, res *wire.Result) error {
	p.mu.Lock()
	var j *job
	if len(w.inflight) > 0 {
		j = w.inflight[0]
	}
	if res.RSS > 0 {
		w.rss = res.RSS
	}
	if res.Exiting {
		w.exiting = true
	}
	p.mu.Unlock()
	if j == nil || j.id != res.ID || res.First != j.done || res.Count > j.count-j.done {
		return fmt.Errorf("%w: result for task %d item %d out of order", wire.ErrCorrupt, res.ID, res.First)
	}
	from := j.base + j.done
	o := &w.outcome // passed to an interface method, a local would escape
	for _, out := range res.Outcomes() {
		*o = out
		j.tally.add(j.sink.deliver(j.base+j.done, o), 1)
		j.done++
	}
	if res.Final && j.done != j.count {
		return fmt.Errorf("%w: final result of task %d after %d of %d items", wire.ErrCorrupt, res.ID, j.done, j.count)
	}
	if j.done == j.count {
		p.complete(w, j) // first, so that Stats count what callers see
	}
	j.sink.publish(from, j.base+j.done)
	return nil
}

// complete retires a finished job and refills its worker.
func (p *Pool) complete(w *worker, j *job) {
	p.mu.Lock()
	defer p.unlock()
	w.inflight[0] = nil
	w.inflight = w.inflight[1:]
	p.measureLocked(w)
	if len(w.inflight) <= p.windowLocked(w)/2 {
		w.full = false
	}
	j.state = jobDone
	if j.timer != nil {
		j.timer.Stop()
	}
	p.inflight -= j.count
	p.stats.merge(j.tally)
	if p.cfg.maxRSS > 0 && w.rss > p.cfg.maxRSS && !w.retiring {
		p.retireLocked(w)
	}
	if len(w.inflight) > 0 {
		p.headLocked(w.inflight[0])
	}
	p.dispatchLocked()
	if w.retiring && len(w.inflight) == 0 && !w.closing {
		w.closing = true
		w.closeWrite()
	}
	p.checkDoneLocked()
}

// exited settles the jobs of a worker that is gone and replaces it.
func (p *Pool) exited(w *worker, werr *WorkerError) {
	p.mu.Lock()
	delete(p.all, w)
	wasServing := !w.retiring
	p.removeServingLocked(w)
	jobs := w.inflight
	w.inflight = nil
	switch {
	case w.exiting && w.killed == nil:
		p.stats.WorkersKilled++ // it ended itself: a task would not stop
	case !w.closing && w.killed == nil:
		p.stats.WorkersCrashed++
	}
	var again []*job
	for i, j := range jobs {
		if j.timer != nil {
			j.timer.Stop()
		}
		p.inflight -= j.count
		p.stats.merge(j.tally)
		j.tally = tally{}
		// Items after the head never started: the worker runs its tasks in
		// order, and so does it stop (exiting) after reporting the item
		// that would not stop.
		notStarted := i > 0 || w.exiting
		var err error
		switch {
		case p.state == closed:
			err = ErrClosed
		case j.killedFor != nil:
			err = j.killedFor
		case j.cancelReq:
			err = j.sink.cancelErr()
		case notStarted:
		case j.tries < p.cfg.retries:
			j.tries++
			p.stats.Retried += uint64(j.count - j.done)
		default:
			err = werr
		}
		if j.done == j.count {
			continue
		}
		if err != nil {
			j.state = jobDone
			n := uint64(j.count - j.done)
			if errors.Is(err, ErrClosed) || j.cancelSent {
				p.stats.Cancelled += n
			} else {
				p.stats.Failed += n
				if errors.Is(err, ErrTimeout) {
					p.stats.TimedOut += n
				}
			}
			p.laterLocked(func() { j.sink.fail(j.base+j.done, j.base+j.count, err, false) })
			continue
		}
		r := j.remaining()
		if !notStarted && r.count > 1 {
			again = append(again, r.singles(p.nextIDLocked)...)
		} else {
			again = append(again, r)
		}
	}
	for _, r := range again {
		r.state = jobQueued
		p.queued += r.count
	}
	p.queue = append(again, p.queue...)
	if wasServing {
		p.replenishLocked()
	}
	p.dispatchLocked()
	p.strandedLocked(werr)
	if p.onExit != nil {
		p.onExit(werr) // before done can close: a Process reads it after
	}
	p.checkDoneLocked()
	p.unlock()
}

// checkDoneLocked moves a stopping pool along: when a draining pool has no
// work left it asks every worker to exit; when no worker is left it
// closes done.
func (p *Pool) checkDoneLocked() {
	if p.state == open {
		return
	}
	if p.state == draining && !p.drained && p.queued == 0 && p.inflight == 0 && p.starting == 0 {
		p.drained = true
	}
	if p.drained || p.state == closed {
		for w := range p.all {
			if len(w.inflight) == 0 && !w.closing {
				w.closing = true
				w.closeWrite()
			}
		}
	}
	if len(p.all) == 0 && p.starting == 0 && (p.drained || p.state == closed) {
		select {
		case <-p.done:
		default:
			close(p.done)
		}
	}
}

// Shutdown stops the pool gracefully: new submissions fail with ErrClosed,
// every accepted task still runs (on a replacement worker if its worker
// dies), and Shutdown waits until all of them have finished and every
// worker has exited. If ctx ends first it returns ctx.Err(); the work goes
// on, and a later Shutdown or Close can wait again. Shutdown is
// idempotent and must not be called from a callback of one of the pool's
// futures.
func (p *Pool) Shutdown(ctx context.Context) error {
	p.mu.Lock()
	if p.state == open {
		p.state = draining
		p.checkDoneLocked()
	}
	p.mu.Unlock()
	select {
	case <-p.done:
		p.finish()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the pool at once: new submissions fail with ErrClosed,
// queued tasks are dropped (their futures fail with ErrClosed and count as
// cancelled), every worker is killed (running tasks fail with ErrClosed),
// and Close waits until every worker has exited. Close is idempotent and
// may follow Shutdown (to cut a slow one short).
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state != closed {
		p.state = closed
		p.failQueueLocked(ErrClosed)
		for w := range p.all {
			if w.killed == nil {
				w.killed = ErrClosed
			}
			w.kill()
		}
		p.checkDoneLocked()
	}
	p.unlock()
	<-p.done
	p.finish()
	return nil
}

// finish waits for the pool's goroutines and stops its spawner thread,
// once every worker has exited.
func (p *Pool) finish() {
	p.fin.Do(func() {
		p.wg.Wait()
		p.sp.stop()
	})
}

// task is a submitted task: its future's promise and its job in one
// allocation.
type task[In, Out any] struct {
	promise future.Promise[Out]
	job     job
	f       *Func[In, Out]
	ctx     context.Context
	stop    func() bool // unregisters the watch on Submit's ctx; nil if it cannot end
	timeout time.Duration
	val     Out      // delivered, not yet published
	err     error    // likewise
	buf     [32]byte // the encoded argument, when it is small
}

func (t *task[In, Out]) start() bool { return t.promise.Start() }

func (t *task[In, Out]) deliver(_ int, o *wire.Outcome) outcomeKind {
	if o.Status == wire.StatusOK {
		t.val, t.err = t.f.decodeOut(o.Value)
		if t.err != nil {
			return kindFailed
		}
		return kindCompleted
	}
	var kind outcomeKind
	kind, t.err = outcomeError(t.f.name, o, t.timeout, t.cancelErr)
	return kind
}

func (t *task[In, Out]) publish(_, _ int) { t.resolve(t.val, t.err) }

func (t *task[In, Out]) fail(_, _ int, err error, aborted bool) {
	t.unwatch()
	if aborted && t.promise.Abort(err) {
		return
	}
	t.promise.Start()
	t.promise.Resolve(*new(Out), err)
}

func (t *task[In, Out]) cancelErr() error { return ctxError(t.ctx) }

func (t *task[In, Out]) resolve(v Out, err error) {
	t.unwatch()
	t.promise.Resolve(v, err)
}

// unwatch stops watching Submit's ctx: the task is over.
func (t *task[In, Out]) unwatch() {
	if t.stop != nil {
		t.stop()
	}
}

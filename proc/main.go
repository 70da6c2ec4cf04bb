package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// envWorker tells a process started by a pool that it is a worker, and on
// which file descriptors its sockets to the parent are.
const envWorker = "SKEIN_PROC_WORKER"

// workerFD is the data socket's descriptor in a worker (the first of
// exec.Cmd.ExtraFiles): tasks in, results out. The control socket, which
// carries cancellations, is the next one: a goroutine parked on it costs
// nothing until a task is cancelled, so the task loop can read its own
// socket and run tasks without handing each one to another goroutine.
// The third is the descriptor channel of internal/fdpass, through which
// handles passed as arguments (ipc queues, shm segments) get their files.
const workerFD = 3

// Exit statuses of a worker that ends itself.
const (
	exitProtocol = 2 // the parent sent something unreadable
	exitStuck    = 3 // a timed out or cancelled task did not stop within the grace period
	exitInit     = 4 // the initializer failed (after reporting it)
)

// Main must be the first call in main (and in TestMain, before m.Run):
//
//	func main() {
//		proc.Main()
//		...
//	}
//
// In a program started as a worker by a Pool or Start, Main serves tasks
// and never returns: the process exits when its parent closes the
// connection or dies. Otherwise Main returns at once, and New and Start
// may then be used. Register functions at package level, so that they are
// registered before Main runs.
func Main() {
	registry.Seal()
	v, ok := os.LookupEnv(envWorker)
	if !ok {
		return
	}
	isWorker = true
	// A task that starts its own pool must start workers, not find this
	// variable and become confused about its role.
	os.Unsetenv(envWorker)
	fd, err := strconv.Atoi(v)
	if err != nil || fd != workerFD {
		fmt.Fprintf(os.Stderr, "proc: worker: bad %s=%q\n", envWorker, v)
		os.Exit(exitProtocol)
	}
	conn, err := fileConn(os.NewFile(uintptr(fd), "skein-parent"))
	if err == nil {
		err = fdpass.Connect(os.NewFile(uintptr(fd+2), "skein-parent-files"))
	}
	if err == nil {
		var ctl net.Conn
		if ctl, err = fileConn(os.NewFile(uintptr(fd+1), "skein-parent-control")); err == nil {
			os.Exit(serve(conn, ctl))
		}
	}
	fmt.Fprintf(os.Stderr, "proc: worker: %v\n", err)
	os.Exit(exitProtocol)
}

// server is the worker side: the main goroutine reads tasks from the data
// socket and runs them one at a time, in the order they came, writing
// each task's results before it reads the next (so the parent knows that
// every task after the one running has not started); a control goroutine
// reads cancellations.
type server struct {
	conn      net.Conn
	grace     time.Duration
	maxFrame  int
	reportRSS bool
	flushAt   int // result bytes buffered before a partial Result is sent

	mu        sync.Mutex      // guards cancelled, finished, cur
	cancelled map[uint64]bool // cancelled before they started
	finished  [64]uint64      // IDs of the last tasks run, a ring: late cancels for them are ignored
	nfinished int
	cur       *current // the task running now, or nil

	wmu sync.Mutex // serializes writes to conn: the task loop's, progress reports', the watchdog's

	funcs map[string]*registry.Entry // task loop only: registry lookups
	watch watch
	data  []byte // task loop only: outcome buffer, reused
	out   []byte // task loop only: frame buffer, reused
	rssAt time.Time
	rss   uint64
}

// current is the task being run.
type current struct {
	id     uint64
	cancel context.CancelCauseFunc
}

// watch is the watchdog of the item being run: if the item outlives its
// timeout (plus grace) or a cancel (plus grace), the watchdog reports it
// and ends the process, since nothing else can stop a goroutine. The task
// loop pays two atomic operations per item for it; the lock and the timer
// are only used when a timeout or a cancel is involved.
type watch struct {
	// state is gen<<2 | phase: the task loop gives every item a new gen
	// and moves it idle → running → idle; the watchdog moves it running
	// → fired, after which the loop never touches the fields below.
	state atomic.Uint64
	// The item: written by the task loop before it marks the item
	// running, read by fire after it marked it fired.
	task    *wire.Task
	item    int
	pending []byte // outcomes of the task's earlier items not yet sent
	first   int    // item index of pending's first outcome

	mu       sync.Mutex // guards the fields below
	timer    *time.Timer
	gen      uint64 // the item the timer is set for
	status   wire.Status
	deadline time.Time
}

// isWorker is set in a worker process, before it serves.
var isWorker bool

// theServer is the worker's server, for tests that need to misbehave on
// its socket.
var theServer *server

var (
	errCancelRequested = errors.New("proc: task cancelled by its caller")
	errItemTimeout     = errors.New("proc: task timed out")
)

// serve runs the worker protocol on conn and ctl and returns the exit
// status.
func serve(conn, ctl net.Conn) int {
	s := &server{conn: conn, cancelled: map[uint64]bool{}, funcs: map[string]*registry.Entry{}}
	theServer = s
	r := wire.NewReader(conn, wire.DefaultMaxFrame)
	setup, err := s.handshake(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0 // the parent gave up on us first
		}
		fmt.Fprintf(os.Stderr, "proc: worker: %v\n", err)
		return exitProtocol
	}
	if !s.initialize(setup) {
		return exitInit
	}
	go s.control(wire.NewReader(ctl, wire.DefaultMaxFrame))
	var t wire.Task
	for {
		k, payload, err := r.Next()
		switch {
		case errors.Is(err, io.EOF):
			return 0 // the parent closed the pool, or died
		case err != nil:
			s.die(fmt.Errorf("reading from parent: %w", err))
		case k != wire.KindTask:
			s.die(fmt.Errorf("unexpected %v frame", k))
		}
		// The task aliases the reader's buffer: it is run before the next
		// read.
		if err := t.ParsePayload(payload); err != nil {
			s.die(err)
		}
		s.run(&t)
	}
}

// handshake sends Hello and reads Setup.
func (s *server) handshake(r *wire.Reader) (*wire.Setup, error) {
	hello := &wire.Hello{Version: wire.Version, Pid: os.Getpid(), Build: buildID(), Funcs: registry.Signatures()}
	if _, err := s.conn.Write(wire.AppendFrame(nil, hello)); err != nil {
		return nil, err
	}
	k, payload, err := r.Next()
	if err != nil {
		return nil, err
	}
	setup := &wire.Setup{}
	if k != wire.KindSetup {
		return nil, fmt.Errorf("expected setup, got %v", k)
	}
	if err := setup.ParsePayload(payload); err != nil {
		return nil, err
	}
	s.grace = time.Duration(setup.Grace)
	s.reportRSS = setup.ReportRSS
	s.maxFrame = max(setup.MaxFrame, minMaxFrame)
	s.flushAt = min(256<<10, s.maxFrame/4)
	return setup, nil
}

// initialize runs the initializer, if any, and sends Ready. It reports
// whether the worker may serve.
func (s *server) initialize(setup *wire.Setup) bool {
	ready := &wire.Ready{Outcome: wire.Outcome{Status: wire.StatusOK}}
	if setup.Init != "" {
		if e := registry.Lookup(setup.Init); e == nil {
			ready.Outcome = wire.Outcome{Status: wire.StatusInvalid, Msg: fmt.Sprintf("unknown initializer %q", setup.Init)}
		} else if _, err := e.Run(context.Background(), setup.InitArg, nil); err != nil {
			ready.Outcome = failure(err)
		}
	}
	if _, err := s.conn.Write(wire.AppendFrame(nil, ready)); err != nil {
		return false
	}
	return ready.Outcome.Status == wire.StatusOK
}

// control reads cancellations until EOF, which ends the process: the
// parent closed the pool, or died (the task loop may be stuck in a task
// and not see it).
func (s *server) control(r *wire.Reader) {
	for {
		k, payload, err := r.Next()
		if errors.Is(err, io.EOF) {
			os.Exit(0)
		}
		if err != nil {
			s.die(fmt.Errorf("reading from parent: %w", err))
		}
		var c wire.Cancel
		if k != wire.KindCancel {
			s.die(fmt.Errorf("unexpected %v frame on the control socket", k))
		}
		if err := c.ParsePayload(payload); err != nil {
			s.die(err)
		}
		s.cancel(c.ID)
	}
}

func (s *server) die(err error) {
	fmt.Fprintf(os.Stderr, "proc: worker: %v\n", err)
	os.Exit(exitProtocol)
}

// cancel cancels task id: the running one's context, or one not started
// yet (still in the socket) when it starts.
func (s *server) cancel(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil && s.cur.id == id {
		s.cur.cancel(errCancelRequested)
		// After the cancel: if no item runs now, the next one to start
		// sees the cancelled context and arms the watchdog itself.
		if st := s.watch.state.Load(); st&3 == phaseRunning {
			s.arm(st>>2, wire.StatusCancelled, time.Now().Add(s.grace))
		}
		return
	}
	for _, f := range s.finished {
		if f == id {
			return // it finished before the cancel arrived
		}
	}
	s.cancelled[id] = true
}

// run runs every item of t in order and sends the outcomes.
func (s *server) run(t *wire.Task) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if t.Deadline != 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, time.Unix(0, t.Deadline))
		defer stop()
	}
	s.mu.Lock()
	if s.cancelled[t.ID] {
		delete(s.cancelled, t.ID)
		cancel(errCancelRequested)
	}
	s.cur = &current{id: t.ID, cancel: cancel}
	s.mu.Unlock()

	var rep *remoteProgress
	if t.Progress {
		rep = newRemoteProgress(s, t.ID)
		ctx = progress.NewContext(ctx, rep)
	}
	e := s.lookup(t.Func)
	done := ctx.Done()
	data := s.data[:0]
	first := 0
	for i, arg := range t.Items() {
		select {
		case <-done:
			data = wire.AppendOutcome(data, &wire.Outcome{Status: wire.StatusCancelled, Msg: context.Cause(ctx).Error()})
		default:
			if e == nil {
				data = wire.AppendOutcome(data, &wire.Outcome{Status: wire.StatusInvalid, Msg: fmt.Sprintf("no function registered as %q", t.Func)})
				break
			}
			data = s.runItem(ctx, done, t, i, e, arg, data, first)
		}
		if len(data) >= s.flushAt && i < t.Count-1 {
			s.send(&wire.Result{ID: t.ID, First: first, Count: i + 1 - first, Data: data})
			data, first = data[:0], i+1
		}
	}
	s.mu.Lock()
	s.cur = nil
	s.finished[s.nfinished%len(s.finished)] = t.ID
	s.nfinished++
	s.mu.Unlock()
	if rep != nil {
		rep.close() // the counts arrive before the result
	}
	s.send(&wire.Result{ID: t.ID, First: first, Final: true, Count: t.Count - first, Data: data})
	if cap(data) <= 1<<20 {
		s.data = data // reuse, unless a rare big result grew it
	}
}

// lookup finds a registered function, caching it: the registry does not
// change once Main has run.
func (s *server) lookup(name string) *registry.Entry {
	if e, ok := s.funcs[name]; ok {
		return e
	}
	e := registry.Lookup(name)
	s.funcs[name] = e
	return e
}

// runItem runs item i of t under the watchdog and appends its outcome to
// data, which holds the outcomes since item first not sent yet.
func (s *server) runItem(ctx context.Context, done <-chan struct{}, t *wire.Task, i int, e *registry.Entry, arg, data []byte, first int) []byte {
	w := &s.watch
	mark := len(data)
	// Publish what the watchdog needs, then mark the item running: after
	// the store the fields are the watchdog's to read, until the item
	// ends (the CAS below).
	w.task, w.item, w.pending, w.first = t, i, data[:mark:mark], first
	gen := w.state.Load()>>2 + 1
	w.state.Store(gen<<2 | phaseRunning)
	ictx := ctx
	if t.Timeout > 0 {
		var stop context.CancelFunc
		ictx, stop = context.WithTimeoutCause(ctx, time.Duration(t.Timeout), errItemTimeout)
		defer stop()
		s.arm(gen, wire.StatusTimeout, time.Now().Add(time.Duration(t.Timeout)+s.grace))
	}
	select {
	case <-done:
		// Cancelled while the control goroutine saw no item running.
		s.arm(gen, wire.StatusCancelled, time.Now().Add(s.grace))
	default:
	}
	data = append(data, byte(wire.StatusOK))
	data, vmark := wire.BeginItem(data)
	data, err := e.Run(ictx, arg, data)
	if !w.state.CompareAndSwap(gen<<2|phaseRunning, gen<<2|phaseIdle) {
		select {} // the watchdog fired: the process is exiting
	}
	if err == nil {
		if n := len(data) - vmark - 4; n > s.maxFrame-s.flushAt-64 {
			return wire.AppendOutcome(data[:mark], &wire.Outcome{Status: wire.StatusInvalid,
				Msg: fmt.Sprintf("result of %q: %d bytes exceed the frame limit of %d: %v", t.Func, n, s.maxFrame, ErrEncoding)})
		}
		return wire.EndItem(data, vmark)
	}
	o := failure(err)
	// An error from a task whose context ended is put down to the end of
	// the context (the task most likely returned ctx.Err()), unless it
	// panicked.
	if cause := context.Cause(ictx); o.Status != wire.StatusPanic && cause != nil {
		o = wire.Outcome{Status: wire.StatusCancelled, Msg: cause.Error()}
		if cause == errItemTimeout {
			o.Status = wire.StatusTimeout
		}
	}
	return wire.AppendOutcome(data[:mark], &o)
}

// failure turns a task's error into an outcome.
func failure(err error) wire.Outcome {
	var pe *future.PanicError
	switch {
	case errors.As(err, &pe):
		return wire.Outcome{Status: wire.StatusPanic, Msg: fmt.Sprint(pe.Value), Stack: pe.Stack}
	case errors.Is(err, ErrEncoding):
		return wire.Outcome{Status: wire.StatusInvalid, Msg: err.Error()}
	}
	return wire.Outcome{Status: wire.StatusError, Msg: err.Error()}
}

// The phases of watch.state.
const (
	phaseIdle    = 0
	phaseRunning = 1
	phaseFired   = 2
)

// arm sets the watchdog to fire at deadline for item generation gen,
// unless it is already set to fire earlier for it.
func (s *server) arm(gen uint64, status wire.Status, deadline time.Time) {
	w := &s.watch
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen == gen && !deadline.Before(w.deadline) {
		return
	}
	w.gen, w.status, w.deadline = gen, status, deadline
	if w.timer == nil {
		w.timer = time.AfterFunc(time.Until(deadline), s.fire)
		return
	}
	w.timer.Reset(time.Until(deadline))
}

// fire is the watchdog: an item did not stop in time. If it still runs,
// fire sends the outcomes the parent has not seen, this item's, and the
// news that the worker is exiting, then exits: the parent then knows
// exactly which items of the task never started.
func (s *server) fire() {
	w := &s.watch
	w.mu.Lock()
	gen, status, deadline := w.gen, w.status, w.deadline
	w.mu.Unlock()
	if time.Now().Before(deadline) {
		return // re-armed for later: the timer fires again then
	}
	if !w.state.CompareAndSwap(gen<<2|phaseRunning, gen<<2|phaseFired) {
		return // that item has finished
	}
	msg := "task did not stop within the grace period after its timeout"
	if status == wire.StatusCancelled {
		msg = "task did not stop within the grace period after it was cancelled"
	}
	fmt.Fprintf(os.Stderr, "proc: worker %d: %s %q (input %d): exiting\n", os.Getpid(), msg, w.task.Func, w.item)
	data := wire.AppendOutcome(append([]byte(nil), w.pending...), &wire.Outcome{Status: status, Msg: msg})
	res := &wire.Result{ID: w.task.ID, First: w.first, Final: w.item == w.task.Count-1, Exiting: true, Count: w.item + 1 - w.first, Data: data}
	// The task loop is stuck in the item; a progress report of the task
	// may be writing, hence the lock.
	s.wmu.Lock()
	_, _ = s.conn.Write(wire.AppendFrame(nil, res))
	os.Exit(exitStuck)
}

// send writes one Result frame. Only the task loop writes, between items
// (the watchdog writes once, while the loop is stuck in an item).
func (s *server) send(res *wire.Result) {
	if s.reportRSS {
		if now := time.Now(); now.Sub(s.rssAt) > 5*time.Millisecond {
			s.rss, s.rssAt = residentBytes(), now
		}
		res.RSS = s.rss
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.out = wire.AppendFrame(s.out[:0], res)
	if _, err := s.conn.Write(s.out); err != nil {
		os.Exit(0) // the parent is gone
	}
}

// progressEvery is the least time between two Progress frames of a task:
// a task may count every item it finishes, and the parent sees the sums
// at most this often (and at the end, before the result).
const progressEvery = 50 * time.Millisecond

// remoteProgress is the progress.Reporter a task in a worker finds in its
// context when the submitter watches: it sums what the task reports and
// sends the sums to the parent, where they are added to the submitter's
// Reporter. Safe for concurrent use, like every Reporter.
type remoteProgress struct {
	s  *server
	id uint64

	total, done, failed atomic.Int64 // not sent yet
	sentAt              atomic.Int64 // time.Since(start) of the last send, ns
	armed               atomic.Bool  // a trailing send is scheduled
	closed              atomic.Bool  // the task ended: later reports are dropped
	mu                  sync.Mutex   // orders sends, so the last one carries everything; guards timer
	timer               *time.Timer  // the trailing send, once armed
}

func newRemoteProgress(s *server, id uint64) *remoteProgress {
	r := &remoteProgress{s: s, id: id}
	r.sentAt.Store(int64(time.Since(start) - progressEvery)) // the first report goes at once
	return r
}

// start is the worker's time origin for sentAt.
var start = time.Now()

// AddTotal implements progress.Reporter.
func (r *remoteProgress) AddTotal(n int64) { r.total.Add(n); r.report() }

// Add implements progress.Reporter.
func (r *remoteProgress) Add(n int64) { r.done.Add(n); r.report() }

// AddFailed implements progress.Reporter.
func (r *remoteProgress) AddFailed(n int64) { r.failed.Add(n); r.report() }

// report sends the sums if the last send was long enough ago: the first
// report after a quiet spell goes out at once. A report within
// progressEvery of the last send arms a trailing send for the end of that
// interval, so a burst is batched and its last counts still reach the
// parent while the task runs on.
func (r *remoteProgress) report() {
	since := time.Since(start) - time.Duration(r.sentAt.Load())
	if since >= progressEvery {
		r.flush()
		return
	}
	if !r.armed.CompareAndSwap(false, true) {
		return // a trailing send is already due
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed.Load() {
		return
	}
	r.timer = time.AfterFunc(progressEvery-since, func() {
		r.armed.Store(false) // before the send: a later report arms again
		r.flush()
	})
}

// close sends what is left and stops the trailing send; reports after it
// are dropped.
func (r *remoteProgress) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer != nil {
		r.timer.Stop()
	}
	r.send()
	r.closed.Store(true)
}

func (r *remoteProgress) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed.Load() {
		r.send()
	}
}

// send writes the sums not sent yet; r.mu is held.
func (r *remoteProgress) send() {
	r.sentAt.Store(int64(time.Since(start)))
	m := wire.Progress{ID: r.id, Total: r.total.Swap(0), Done: r.done.Swap(0), Failed: r.failed.Swap(0)}
	if m.Total == 0 && m.Done == 0 && m.Failed == 0 {
		return
	}
	frame := wire.AppendFrame(nil, &m)
	r.s.wmu.Lock()
	defer r.s.wmu.Unlock()
	if _, err := r.s.conn.Write(frame); err != nil {
		os.Exit(0) // the parent is gone
	}
}

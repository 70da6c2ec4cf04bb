package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// Serve makes this program a worker of the cluster at url: it runs the
// tasks of every function its binary registered with proc.Register, up to
// WithConcurrency at once, until ctx ends. It is the one-line main of a
// worker binary:
//
//	func main() {
//		proc.Main()
//		log.Fatal(cluster.Serve(ctx, "nats://host:4222"))
//	}
//
// Workers pull tasks from a shared durable consumer, so any number of them
// may come and go. A task for a function this binary did not register, or
// registered with other types, is handed back for another worker; after
// the executor's WithMaxDeliveries attempts it fails with a
// *DeadLetterError wrapping ErrUnknownFunc or ErrMismatch. Only function
// names and encoded data arrive: a worker runs nothing but its own
// registered functions.
//
// When ctx ends, Serve stops taking tasks, hands back those it had taken
// but not started, waits for the running ones to finish and store their
// results, and returns nil. It returns an error when it cannot connect or
// set up the streams. A task that ignores its cancelled context is
// reported as cancelled or timed out WithStopGrace after the cancellation
// and left running in its goroutine; Serve does not wait for it.
func Serve(ctx context.Context, url string, opts ...Option) error {
	cfg := defaultConfig()
	if err := cfg.apply(forWorker, opts); err != nil {
		return err
	}
	if cfg.concurrency == 0 {
		cfg.concurrency = runtime.GOMAXPROCS(0)
	}
	w, err := newWorker(ctx, url, &cfg)
	if err != nil {
		return err
	}
	return w.run()
}

// worker is Serve's state. The reader goroutine pulls task messages and
// hands their tasks to the slot goroutines; slots run them and hand each
// result frame to the committer, which publishes the results that are
// ready together; the acker waits for the server's acknowledgements and
// acknowledges a task message once all its results are stored. A ticker
// sends heartbeats and progress.
type worker struct {
	ctx   context.Context
	cfg   *config
	names names
	nc    *nats.Conn
	js    jetstream.JetStream
	cons  jetstream.Consumer
	maxPl int
	sub   *nats.Subscription // cancellations

	results chan result    // slots → committer
	acks    chan published // committer → acker

	mu        sync.Mutex              // guards the fields below
	held      map[*held]struct{}      // task messages taken and not yet acknowledged
	running   map[string]*runningTask // by task ID (executor ID "." number)
	cancelled map[string]bool         // cancelled before they started: recent ones only
	ring      []string                // the keys of cancelled, oldest first
	aborted   error                   // set by abort: every task is cancelled with it
}

// maxCancelled bounds the cancellations a worker remembers for tasks it
// has not seen (most are for tasks other workers run).
const maxCancelled = 4096

// held is a task message the worker holds: heartbeats keep it, and its
// last stored result acknowledges it.
type held struct {
	m        jetstream.Msg
	exec     string // the submitting executor's ID
	reply    string // its result subject
	beat     time.Duration
	lastBeat time.Time // guarded by worker.mu
	left     int       // tasks without a stored final result; guarded by worker.mu
}

// runningTask is a task a slot is running.
type runningTask struct {
	cancel context.CancelCauseFunc
	rep    *reporter // nil unless the submitter watches progress
}

// job is one task of a held message, for a slot.
type job struct {
	h *held
	t wire.Task
	e *registry.Entry
}

// result is a Result frame on its way to the committer.
type result struct {
	h     *held
	frame []byte
	final bool          // the task's last frame: counts down h.left once stored
	id    uint64        // the task's ID (final frames)
	run   time.Duration // how long the task ran (final frames)
	prog  wire.Progress // progress not sent yet (final frames)
}

// published is a result message waiting for the server's answer.
type published struct {
	msg    *nats.Msg
	paf    jetstream.PubAckFuture
	finals []*held
}

var errCancelRequested = errors.New("cluster: task cancelled by its submitter")

func newWorker(ctx context.Context, url string, cfg *config) (*worker, error) {
	nc, err := connect(cfg, url, "skein worker")
	if err != nil {
		return nil, err
	}
	w := &worker{ctx: ctx, cfg: cfg, names: namesFor(cfg.prefix), nc: nc, maxPl: int(nc.MaxPayload()),
		results: make(chan result, 4*cfg.concurrency), acks: make(chan published, 64),
		held: map[*held]struct{}{}, running: map[string]*runningTask{}, cancelled: map[string]bool{}}
	if err := w.setup(); err != nil {
		nc.Close()
		return nil, err
	}
	return w, nil
}

func (w *worker) setup() error {
	var err error
	if w.js, err = jetstream.New(w.nc, jetstream.WithPublishAsyncMaxPending(1<<12), jetstream.WithPublishAsyncTimeout(5*time.Second)); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if w.cons, err = setup(w.ctx, w.js, w.names, w.cfg, false); err != nil {
		return err
	}
	if w.sub, err = w.nc.Subscribe(w.names.cancelSubj, w.onCancel); err != nil {
		return fmt.Errorf("cluster: subscribe to cancellations: %w", err)
	}
	return nil
}

// run serves until w.ctx ends, then stops its goroutines in order.
func (w *worker) run() error {
	defer w.nc.Close()
	it, err := w.cons.Messages(jetstream.PullMaxMessages(w.cfg.concurrency), jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("cluster: pull tasks: %w", err)
	}
	jobs := make(chan job)
	var slots, back sync.WaitGroup
	for range w.cfg.concurrency {
		slots.Go(func() {
			for j := range jobs {
				w.runJob(j)
			}
		})
	}
	back.Go(w.commit)
	back.Go(w.ack)
	tickDone := make(chan struct{})
	back.Go(func() { w.tick(tickDone) })
	stop := context.AfterFunc(w.ctx, it.Drain)
	defer stop()
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			break
		}
		if err != nil {
			continue // a missed heartbeat or a reconnect: the iterator carries on
		}
		if w.ctx.Err() != nil {
			_ = m.Nak() // taken but not started: another worker may run it now
			continue
		}
		w.take(m, jobs)
	}
	close(jobs)
	slots.Wait()
	close(w.results) // the committer then closes acks
	close(tickDone)
	back.Wait()
	_ = w.sub.Unsubscribe()
	return nil
}

// tick sends in-progress acks for the messages held long and the
// progress of the running tasks, until done is closed.
func (w *worker) tick(done <-chan struct{}) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	var flush []*reporter
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			flush = flush[:0]
			w.mu.Lock()
			for h := range w.held {
				if now.Sub(h.lastBeat) >= h.beat {
					h.lastBeat = now
					_ = h.m.InProgress()
				}
			}
			for _, rt := range w.running {
				if rt.rep != nil {
					flush = append(flush, rt.rep)
				}
			}
			w.mu.Unlock()
			for _, r := range flush {
				r.flush(w.nc)
			}
		}
	}
}

// onCancel cancels a running task, or remembers the ID for a task that
// may still arrive.
func (w *worker) onCancel(m *nats.Msg) {
	id := string(m.Data)
	w.mu.Lock()
	defer w.mu.Unlock()
	if rt := w.running[id]; rt != nil {
		rt.cancel(errCancelRequested)
		return
	}
	if w.cancelled[id] {
		return
	}
	if len(w.ring) >= maxCancelled {
		delete(w.cancelled, w.ring[0])
		w.ring = w.ring[1:]
	}
	w.ring = append(w.ring, id)
	w.cancelled[id] = true
}

// abort cancels every running task, and every task that starts from now
// on, with err (an executor's Close stops its local workers this way).
func (w *worker) abort(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.aborted = err
	for _, rt := range w.running {
		rt.cancel(err)
	}
}

// take reads a task message and hands its tasks to the slots, or hands
// the message back (a function this worker cannot run) or gives its tasks
// up (too many deliveries).
func (w *worker) take(m jetstream.Msg, jobs chan<- job) {
	h := m.Headers()
	id := header(h, hdrMsgID)
	hd := &held{m: m, reply: header(h, hdrReply), beat: time.Duration(atoiHeader(h, hdrBeat)), lastBeat: time.Now()}
	dot := strings.LastIndex(id, ".b")
	if dot < 0 || !strings.HasPrefix(hd.reply, w.names.resultSubj+".") {
		_ = m.Term() // not a task message of ours: nobody could answer it
		return
	}
	hd.exec = id[:dot]
	if hd.beat <= 0 {
		hd.beat = defaultAckWait / 3
	}
	deliveries, maxd := 1, int(atoiHeader(h, hdrMax))
	if md, err := m.Metadata(); err == nil {
		deliveries = int(md.NumDelivered)
	}
	var tasks []job
	for k, payload := range frames(m.Data()) {
		j := job{h: hd}
		if k != wire.KindTask || j.t.ParsePayload(payload) != nil {
			w.refuse(hd, tasks, deliveries, maxd, "mismatch:cannot read the task message: different skein versions?")
			return
		}
		tasks = append(tasks, j)
	}
	if maxd > 0 && deliveries > maxd {
		w.deadLetter(hd, tasks, deliveries-1, "")
		return
	}
	var unknown []job
	var why string
	sigs := h[hdrSig]
	runnable := tasks[:0:0]
	for _, j := range tasks {
		j.e = registry.Lookup(j.t.Func)
		sig := sigFor(sigs, j.t.Func)
		switch {
		case j.e == nil:
			unknown, why = append(unknown, j), fmt.Sprintf("unknown:%q is not registered in worker %s", j.t.Func, workerName())
		case j.e.Sig != sig:
			unknown, why = append(unknown, j), fmt.Sprintf("mismatch:submitted as %s, registered in worker %s as %s", sig, workerName(), j.e.Sig)
		default:
			runnable = append(runnable, j)
		}
	}
	if len(unknown) > 0 {
		if maxd > 0 && deliveries < maxd {
			_ = m.NakWithDelay(nakDelay) // perhaps another worker knows it
			return
		}
		// The last delivery: give up what this worker cannot run, run the
		// rest.
		if !w.publishDead(hd, unknown, deliveries, why) {
			return
		}
		if len(runnable) == 0 {
			_ = m.Term()
			return
		}
	}
	hd.left = len(runnable)
	w.mu.Lock()
	w.held[hd] = struct{}{}
	w.mu.Unlock()
	for _, j := range runnable {
		jobs <- j
	}
}

// sigFor finds the signature submitted for fn among a message's.
func sigFor(sigs []string, fn string) string {
	for _, s := range sigs {
		if strings.HasPrefix(s, fn+"(") {
			return s
		}
	}
	return ""
}

// refuse hands back a message this worker cannot read, or gives it up on
// its last delivery.
func (w *worker) refuse(hd *held, tasks []job, deliveries, maxd int, why string) {
	if maxd > 0 && deliveries < maxd {
		_ = hd.m.NakWithDelay(nakDelay)
		return
	}
	w.deadLetter(hd, tasks, deliveries, why)
}

// deadLetter gives up every task of a message: it stores the news in the
// submitter's results and removes the message.
func (w *worker) deadLetter(hd *held, tasks []job, deliveries int, why string) {
	if w.publishDead(hd, tasks, deliveries, why) {
		_ = hd.m.Term()
	}
}

// publishDead stores dead-letter results for tasks (synchronously: it is
// rare) and reports whether it could.
func (w *worker) publishDead(hd *held, tasks []job, deliveries int, why string) bool {
	var data []byte
	for _, j := range tasks {
		data = wire.AppendFrame(data, &wire.Result{ID: j.t.ID, Final: true})
	}
	h := nats.Header{hdrDead: {strconv.Itoa(max(deliveries, 1))}, hdrMsgID: {nuid.Next()}}
	if why != "" {
		h[hdrDeadWhy] = []string{why}
	}
	msg := &nats.Msg{Subject: hd.reply, Data: data, Header: h}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := w.js.PublishMsg(ctx, msg)
		cancel()
		if err == nil {
			return true
		}
		if !w.pause() {
			return false
		}
	}
}

// pause waits before a retry; false when the worker is stopping.
func (w *worker) pause() bool {
	t := time.NewTimer(retryDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-w.ctx.Done():
		return false
	}
}

// runJob runs one task on a slot and hands its results to the committer.
func (w *worker) runJob(j job) {
	key := j.h.exec + "." + strconv.FormatUint(j.t.ID, 10)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	if j.t.Deadline != 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadline(ctx, time.Unix(0, j.t.Deadline))
		defer stop()
	}
	rt := &runningTask{cancel: cancel}
	if j.t.Progress {
		rt.rep = &reporter{subj: w.names.progressSubj + "." + j.h.exec, id: j.t.ID}
		ctx = progress.NewContext(ctx, rt.rep)
	}
	w.mu.Lock()
	if w.cancelled[key] {
		cancel(errCancelRequested)
	}
	if w.aborted != nil {
		cancel(w.aborted)
	}
	w.running[key] = rt
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.running, key)
		w.mu.Unlock()
	}()
	var data []byte
	first := 0
	flushAt := (w.maxPl - batchHeadroom) / 2
	start := time.Now()
	for i, arg := range j.t.Items() {
		o := w.runItem(ctx, &j.t, j.e, arg)
		mark := len(data)
		data = wire.AppendOutcome(data, &o)
		if len(data) > flushAt && i > first {
			// Too much for one message with the others: send those first.
			w.results <- result{h: j.h, frame: wire.AppendFrame(nil, &wire.Result{ID: j.t.ID, First: first, Count: i - first, Data: data[:mark]})}
			data, first = append([]byte(nil), data[mark:]...), i
		}
		if len(data) > w.maxPl-batchHeadroom-64 {
			data = wire.AppendOutcome(data[:0], &wire.Outcome{Status: wire.StatusInvalid,
				Msg: fmt.Sprintf("result of %q: %d bytes exceed the server's max_payload of %d: %v", j.t.Func, len(data), w.maxPl, ErrTooLarge)})
		}
	}
	var prog wire.Progress
	if rt.rep != nil {
		prog = rt.rep.take() // travels with the result, so it is counted before the future resolves
	}
	w.results <- result{h: j.h, final: true, id: j.t.ID, run: time.Since(start), prog: prog, frame: wire.AppendFrame(nil, &wire.Result{ID: j.t.ID, First: first, Final: true, Count: j.t.Count - first, Data: data})}
}

// commit publishes result frames, those that are ready together in one
// message per submitter, until results is closed; then it closes acks.
func (w *worker) commit() {
	defer close(w.acks)
	type pending struct {
		data   []byte
		finals []*held
		runs   []byte // hdrRun's value
		prog   []byte // hdrProgress's value
	}
	byReply := map[string]*pending{}
	var order []string
	send := func() {
		for _, reply := range order {
			p := byReply[reply]
			msg := &nats.Msg{Subject: reply, Data: p.data, Header: nats.Header{hdrMsgID: {nuid.Next()}}}
			if len(p.runs) > 0 {
				msg.Header[hdrRun] = []string{string(p.runs)}
			}
			if len(p.prog) > 0 {
				msg.Header[hdrProgress] = []string{string(p.prog)}
			}
			w.acks <- published{msg: msg, paf: w.publishAsync(msg), finals: p.finals}
		}
		clear(byReply)
		order = order[:0]
	}
	add := func(r result) {
		p := byReply[r.h.reply]
		if p == nil {
			p = &pending{}
			byReply[r.h.reply] = p
			order = append(order, r.h.reply)
		}
		if len(p.data) > 0 && len(p.data)+len(r.frame) > w.maxPl-batchHeadroom {
			send()
			p = &pending{}
			byReply[r.h.reply] = p
			order = append(order, r.h.reply)
		}
		p.data = append(p.data, r.frame...)
		if r.final {
			p.finals = append(p.finals, r.h)
			if len(p.runs) > 0 {
				p.runs = append(p.runs, ',')
			}
			p.runs = strconv.AppendUint(p.runs, r.id, 10)
			p.runs = append(p.runs, ':')
			p.runs = strconv.AppendInt(p.runs, max(r.run.Microseconds(), 1), 10)
			if q := r.prog; q.Total != 0 || q.Done != 0 || q.Failed != 0 {
				if len(p.prog) > 0 {
					p.prog = append(p.prog, ',')
				}
				p.prog = fmt.Appendf(p.prog, "%d:%d:%d:%d", r.id, q.Total, q.Done, q.Failed)
			}
		}
	}
	for r := range w.results {
		add(r)
		// Take whatever else is ready, then send it all.
	more:
		for {
			select {
			case r, ok := <-w.results:
				if !ok {
					break more
				}
				add(r)
			default:
				break more
			}
		}
		send()
	}
}

// publishAsync sends msg without waiting; nil if it could not even be
// sent (the acker then sends it again).
func (w *worker) publishAsync(msg *nats.Msg) jetstream.PubAckFuture {
	paf, err := w.js.PublishMsgAsync(msg)
	if err != nil {
		return nil
	}
	return paf
}

// ack waits for the server to store each result message, in order, sends
// it again until it does, and acknowledges the task messages whose
// results are all stored. A message that cannot be stored before the
// worker stops is dropped: its tasks are redelivered.
func (w *worker) ack() {
	for p := range w.acks {
		for !w.stored(p) {
			if !w.pause() {
				break
			}
			p.paf = w.publishAsync(p.msg)
		}
	}
}

// stored waits for p's acknowledgement and settles its task messages.
func (w *worker) stored(p published) bool {
	if p.paf == nil {
		return false
	}
	select {
	case <-p.paf.Ok():
	case <-p.paf.Err():
		return false
	}
	var done []*held
	w.mu.Lock()
	for _, h := range p.finals {
		h.left--
		if h.left == 0 {
			delete(w.held, h)
			done = append(done, h)
		}
	}
	w.mu.Unlock()
	for _, h := range done {
		_ = h.m.Ack()
	}
	return true
}

// runItem runs one item and returns its outcome. The function runs in a
// goroutine of its own so that one that ignores its cancelled context can
// be left behind after the grace period.
func (w *worker) runItem(ctx context.Context, t *wire.Task, e *registry.Entry, arg []byte) wire.Outcome {
	if err := ctx.Err(); err != nil {
		return stopped(ctx, ctx)
	}
	ictx := ctx
	if t.Timeout > 0 {
		var stop context.CancelFunc
		ictx, stop = context.WithTimeoutCause(ctx, time.Duration(t.Timeout), ErrTimeout)
		defer stop()
	}
	type ran struct {
		out []byte
		err error
	}
	done := make(chan ran, 1)
	go func() {
		out, err := e.Run(ictx, arg, nil)
		done <- ran{out, err}
	}()
	var r ran
	select {
	case r = <-done:
	case <-ictx.Done():
		grace := time.NewTimer(w.cfg.grace)
		select {
		case r = <-done:
			grace.Stop()
		case <-grace.C:
			fmt.Fprintf(os.Stderr, "cluster: worker %s: task %q did not stop within %v of its cancellation: left running\n", workerName(), t.Func, w.cfg.grace)
			return stopped(ctx, ictx)
		}
	}
	if r.err == nil {
		return wire.Outcome{Status: wire.StatusOK, Value: r.out}
	}
	o := failure(r.err)
	if o.Status != wire.StatusPanic && context.Cause(ictx) != nil {
		return stopped(ctx, ictx)
	}
	return o
}

// stopped is the outcome of an item whose context ended.
func stopped(ctx, ictx context.Context) wire.Outcome {
	cause := context.Cause(ictx)
	if errors.Is(cause, ErrTimeout) && ctx.Err() == nil {
		return wire.Outcome{Status: wire.StatusTimeout, Msg: cause.Error()}
	}
	return wire.Outcome{Status: wire.StatusCancelled, Msg: cause.Error()}
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

// workerName identifies this worker in error messages.
func workerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", host, os.Getpid())
}

// reporter is the progress.Reporter of a task on a worker: it counts, and
// flush sends what changed since the last flush to the submitter.
type reporter struct {
	subj              string
	id                uint64
	total, done, fail atomic.Int64
	mu                sync.Mutex // guards the counts sent so far, and orders flushes
	sent              [3]int64
}

// AddTotal implements progress.Reporter.
func (r *reporter) AddTotal(n int64) { r.total.Add(n) }

// Add implements progress.Reporter.
func (r *reporter) Add(n int64) { r.done.Add(n) }

// AddFailed implements progress.Reporter.
func (r *reporter) AddFailed(n int64) { r.fail.Add(n) }

// flush sends the counts added since the last flush, if any.
func (r *reporter) flush(nc *nats.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.deltaLocked(); p.Total != 0 || p.Done != 0 || p.Failed != 0 {
		_ = nc.Publish(r.subj, p.AppendPayload(nil))
	}
}

// take returns the counts added since the last flush, as sent.
func (r *reporter) take() wire.Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deltaLocked()
}

func (r *reporter) deltaLocked() wire.Progress {
	t, d, f := r.total.Load(), r.done.Load(), r.fail.Load()
	p := wire.Progress{ID: r.id, Total: t - r.sent[0], Done: d - r.sent[1], Failed: f - r.sent[2]}
	r.sent = [3]int64{t, d, f}
	return p
}

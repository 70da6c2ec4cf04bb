package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// Executor submits registered functions to the workers of a NATS
// JetStream deployment and delivers their results to futures: the
// cluster-wide counterpart of proc.Pool. Create one with New; all methods
// are safe for concurrent use. Shut it down (Shutdown or Close) when done.
type Executor struct {
	cfg   config
	names names
	id    string // this executor's ID: its result subject and task IDs
	srv   *Server
	nc    *nats.Conn
	js    jetstream.JetStream
	maxPl int // the server's max_payload

	resultSubj string
	progSub    *nats.Subscription
	results    jetstream.ConsumeContext
	header     nats.Header // the headers every task shares (copied per task)

	seq   atomic.Uint64
	wg    sync.WaitGroup // the retry loop and the local workers
	quit  chan struct{}  // closed by Close/Shutdown when the executor stops
	local context.CancelFunc

	localMu sync.Mutex // guards localW
	localW  *worker    // WithLocalWorkers' worker, for tests

	batchMu  sync.Mutex               // guards filling, ready and runTime
	runTime  map[string]time.Duration // how long each function's tasks run, as workers report
	filling  batch                    // the task message being filled
	ready    []batch                  // full messages waiting for the sender
	sendC    chan struct{}
	batchSeq atomic.Uint64

	retryMu sync.Mutex // guards retryQ
	retryQ  []*nats.Msg
	retryC  chan struct{} // signals the retry loop (capacity 1)

	mu      sync.Mutex // guards the fields below and every entry's fields
	state   state
	pending map[uint64]*entry
	fenced  map[uint64]*entry // have their results, wait for their last progress (see fence)
	items   int               // items of pending entries without an outcome
	stats   Stats
	drained chan struct{} // closed when Shutdown finds nothing pending
	stopped sync.Once
}

type state uint8

const (
	open state = iota
	draining
	closed
)

// entry is a task message waiting for its result: a submitted task (one
// item) or a Map chunk.
type entry struct {
	seq   uint64
	msgID string
	fn    string
	count int
	next  int // items with an outcome; results arrive in item order
	sink  sink
	rep   progress.Reporter // nil when nobody watches
}

// sink receives the outcomes of an entry's items. outcome and fail are
// called under Executor.mu; complete once, after it is released, when the
// entry has left the pending map.
type sink interface {
	outcome(i int, o *wire.Outcome) outcomeKind
	fail(from, to int, err error)
	complete()
	cancelErr() error
}

type outcomeKind uint8

const (
	kindCompleted outcomeKind = iota
	kindFailed
	kindPanicked
	kindTimedOut
	kindCancelled
)

// New connects to the NATS server given by WithURL, or starts an embedded
// JetStream server (on a random loopback port, with a temporary data
// directory or WithDataDir's), creates or updates the task and result
// streams, and starts listening for results. It fails on an invalid
// option, when the server cannot be reached or has no JetStream, or when
// ctx ends first; then nothing is left running.
func New(ctx context.Context, opts ...Option) (*Executor, error) {
	cfg := defaultConfig()
	if err := cfg.apply(forExecutor, opts); err != nil {
		return nil, err
	}
	e := &Executor{cfg: cfg, names: namesFor(cfg.prefix), id: nuid.Next(), quit: make(chan struct{}),
		retryC: make(chan struct{}, 1), sendC: make(chan struct{}, 1), runTime: map[string]time.Duration{}, pending: map[uint64]*entry{}, fenced: map[uint64]*entry{}, drained: make(chan struct{})}
	if err := e.start(ctx); err != nil {
		e.teardown()
		return nil, err
	}
	return e, nil
}

func (e *Executor) start(ctx context.Context) error {
	url := e.cfg.url
	if url == "" {
		var sopts []ServerOption
		if e.cfg.dataDir != "" {
			sopts = append(sopts, ServerDataDir(e.cfg.dataDir))
		}
		srv, err := StartServer(sopts...)
		if err != nil {
			return err
		}
		e.srv, url = srv, srv.URL()
	}
	nc, err := connect(&e.cfg, url, "skein executor")
	if err != nil {
		return err
	}
	e.nc = nc
	e.maxPl = int(nc.MaxPayload())
	e.js, err = jetstream.New(nc,
		jetstream.WithPublishAsyncErrHandler(e.publishFailed),
		jetstream.WithPublishAsyncMaxPending(1<<14),
		jetstream.WithPublishAsyncTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if _, err := setup(ctx, e.js, e.names, &e.cfg, true); err != nil {
		return err
	}
	e.resultSubj = e.names.resultSubj + "." + e.id
	e.progSub, err = nc.Subscribe(e.names.progressSubj+"."+e.id, e.onProgress)
	if err != nil {
		return fmt.Errorf("cluster: subscribe to progress: %w", err)
	}
	cons, err := e.js.CreateOrUpdateConsumer(ctx, e.names.results, jetstream.ConsumerConfig{
		Durable:           "results-" + e.id,
		Description:       "results of one skein executor",
		FilterSubject:     e.resultSubj,
		AckPolicy:         jetstream.AckExplicitPolicy,
		MaxAckPending:     1 << 16,
		InactiveThreshold: time.Hour, // an executor that is gone for good leaves nothing behind
	})
	if err != nil {
		return fmt.Errorf("cluster: set up result consumer: %w", err)
	}
	e.results, err = cons.Consume(e.onResult, jetstream.PullMaxMessages(4096), jetstream.PullExpiry(5*time.Second), jetstream.PullHeartbeat(time.Second))
	if err != nil {
		return fmt.Errorf("cluster: consume results: %w", err)
	}
	e.header = nats.Header{
		hdrReply: {e.resultSubj},
		hdrMax:   {strconv.Itoa(e.cfg.maxDeliveries)},
		hdrBeat:  {strconv.FormatInt(int64(e.cfg.heartbeat), 10)},
	}
	e.wg.Add(2)
	go e.retryLoop()
	go e.sendLoop()
	if e.cfg.localWorkers > 0 {
		lctx, cancel := context.WithCancel(context.Background())
		e.local = cancel
		w, err := newWorker(lctx, url, &config{prefix: e.cfg.prefix, conn: e.cfg.conn, name: "skein local worker",
			ackWait: e.cfg.ackWait, replicas: e.cfg.replicas, concurrency: e.cfg.localWorkers, grace: e.cfg.grace})
		if err != nil {
			return err
		}
		e.localMu.Lock()
		e.localW = w
		e.localMu.Unlock()
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			w.run()
		}()
	}
	return nil
}

// URL returns the URL of the server the executor is connected to: the
// embedded server's, for workers to connect to (Serve, skein worker).
func (e *Executor) URL() string {
	if e.srv != nil {
		return e.srv.URL()
	}
	return e.nc.ConnectedUrl()
}

// submit sends the task of en, whose sink is ready. It returns an error
// (and forgets en) when the executor is not open or the task is too
// large for a message.
func (e *Executor) submit(en *entry, task *wire.Task, sig string) error {
	frame, err := e.taskFrame(task, en.fn)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.state != open {
		e.mu.Unlock()
		return ErrClosed
	}
	e.pending[en.seq] = en
	e.items += en.count
	e.stats.Submitted += uint64(en.count)
	e.mu.Unlock()
	e.enqueue(frame, en.fn, sig)
	return nil
}

func (e *Executor) newEntry(fn string, count int, s sink, rep progress.Reporter) *entry {
	seq := e.seq.Add(1)
	return &entry{seq: seq, msgID: e.id + "." + strconv.FormatUint(seq, 10), fn: fn, count: count, sink: s, rep: rep}
}

// onResult delivers the results of a result message to their entries.
// Results of entries that are no longer pending (the task ran twice, or
// was cancelled) are dropped: each future is resolved once.
func (e *Executor) onResult(m jetstream.Msg) {
	h := m.Headers()
	var dead error
	deliveries := int(atoiHeader(h, hdrDead))
	if deliveries > 0 {
		switch why := header(h, hdrDeadWhy); {
		case why == "":
		case strings.HasPrefix(why, "unknown:"):
			dead = fmt.Errorf("%w: %s", ErrUnknownFunc, why[len("unknown:"):])
		case strings.HasPrefix(why, "mismatch:"):
			dead = fmt.Errorf("%w: %s", ErrMismatch, why[len("mismatch:"):])
		default:
			dead = errors.New(why)
		}
	}
	var done []*entry
	var res wire.Result
	var runs []fnRun
	var progs []lastProgress
	times := runTimes(header(h, hdrRun))
	lasts := progressOf(header(h, hdrProgress))
	e.mu.Lock()
	for k, payload := range frames(m.Data()) {
		if k != wire.KindResult || res.ParsePayload(payload) != nil {
			break // unreadable: what came before it is delivered
		}
		en := e.pending[res.ID]
		if en == nil {
			e.stats.Duplicates++
			continue
		}
		if deliveries > 0 {
			n := uint64(en.count - en.next)
			e.stats.DeadLettered += n
			e.stats.Failed += n
			en.sink.fail(en.next, en.count, &DeadLetterError{Func: en.fn, TaskID: en.msgID, Deliveries: deliveries, Err: dead})
			e.removeLocked(en)
			done = append(done, en)
			continue
		}
		if d, ok := times[res.ID]; ok {
			runs = append(runs, fnRun{en.fn, d / time.Duration(en.count)})
		}
		if p, ok := lasts[res.ID]; ok && en.rep != nil {
			progs = append(progs, lastProgress{en.rep, p})
		}
		for i, o := range res.Outcomes() {
			if i != en.next {
				continue // delivered already, by an earlier run of the task
			}
			e.tallyLocked(en.sink.outcome(i, &o))
			en.next++
			e.items--
		}
		if en.next == en.count {
			e.removeLocked(en)
			done = append(done, en)
		}
	}
	e.mu.Unlock()
	if len(runs) > 0 {
		e.measured(runs)
	}
	for _, p := range progs {
		addProgress(p.rep, &p.p) // before the futures resolve
	}
	for _, en := range done {
		if en.rep != nil && deliveries == 0 {
			e.fence(en)
			continue
		}
		en.sink.complete()
	}
	_ = m.Ack()
}

// fence completes en once the progress its worker sent before the result
// has been added: progress and results arrive on different subscriptions
// of the connection, so a message is sent to this executor's own progress
// subject; it comes back behind every progress message that arrived
// before the result.
func (e *Executor) fence(en *entry) {
	e.mu.Lock()
	e.fenced[en.seq] = en
	e.mu.Unlock()
	if err := e.nc.Publish(e.names.progressSubj+"."+e.id, (&wire.Progress{ID: en.seq}).AppendPayload(nil)); err != nil {
		e.unfence(en.seq)
	}
}

// unfence completes a fenced entry.
func (e *Executor) unfence(seq uint64) {
	e.mu.Lock()
	en := e.fenced[seq]
	delete(e.fenced, seq)
	e.checkDrainedLocked()
	e.mu.Unlock()
	if en != nil {
		en.sink.complete()
	}
}

func (e *Executor) tallyLocked(k outcomeKind) {
	switch k {
	case kindCompleted:
		e.stats.Completed++
	case kindFailed:
		e.stats.Failed++
	case kindPanicked:
		e.stats.Failed++
		e.stats.Panicked++
	case kindTimedOut:
		e.stats.Failed++
		e.stats.TimedOut++
	case kindCancelled:
		e.stats.Cancelled++
	}
}

// removeLocked takes a finished entry out of the pending map.
func (e *Executor) removeLocked(en *entry) {
	e.items -= en.count - en.next
	en.next = en.count
	delete(e.pending, en.seq)
	e.checkDrainedLocked()
}

func (e *Executor) checkDrainedLocked() {
	if e.state == draining && len(e.pending) == 0 && len(e.fenced) == 0 {
		select {
		case <-e.drained:
		default:
			close(e.drained)
		}
	}
}

// onProgress adds a worker's progress counts to the task's Reporter.
func (e *Executor) onProgress(m *nats.Msg) {
	var p wire.Progress
	if p.ParsePayload(m.Data) != nil {
		return
	}
	if p.Total == 0 && p.Done == 0 && p.Failed == 0 {
		e.unfence(p.ID) // the fence: every earlier progress is in
		return
	}
	e.mu.Lock()
	en := e.pending[p.ID]
	if en == nil {
		en = e.fenced[p.ID]
	}
	e.mu.Unlock()
	if en == nil || en.rep == nil {
		return
	}
	addProgress(en.rep, &p)
}

// addProgress adds a worker's counts to a Reporter.
func addProgress(rep progress.Reporter, p *wire.Progress) {
	if p.Total != 0 {
		rep.AddTotal(p.Total)
	}
	if p.Done != 0 {
		rep.Add(p.Done)
	}
	if p.Failed != 0 {
		rep.AddFailed(p.Failed)
	}
}

type lastProgress struct {
	rep progress.Reporter
	p   wire.Progress
}

// progressOf parses a result message's hdrProgress.
func progressOf(v string) map[uint64]wire.Progress {
	if v == "" {
		return nil
	}
	out := map[uint64]wire.Progress{}
	for v != "" {
		var item string
		item, v, _ = strings.Cut(v, ",")
		var p wire.Progress
		if _, err := fmt.Sscanf(item, "%d:%d:%d:%d", &p.ID, &p.Total, &p.Done, &p.Failed); err == nil {
			out[p.ID] = p
		}
	}
	return out
}

// cancel fails a pending entry with its sink's cancellation error (at
// once: the executor does not wait for a worker's word) and tells the
// workers to stop it.
func (e *Executor) cancel(en *entry) {
	e.mu.Lock()
	if e.pending[en.seq] != en {
		e.mu.Unlock()
		return
	}
	e.stats.Cancelled += uint64(en.count - en.next)
	en.sink.fail(en.next, en.count, en.sink.cancelErr())
	e.removeLocked(en)
	e.mu.Unlock()
	en.sink.complete()
	_ = e.nc.Publish(e.names.cancelSubj, []byte(en.msgID))
}

// publishFailed is called by the NATS client when a task's publish was
// not acknowledged (the server was down, the connection broke, no answer
// in time): the task is published again, with the same ID, which the
// server de-duplicates if the first copy was stored after all.
func (e *Executor) publishFailed(_ jetstream.JetStream, m *nats.Msg, _ error) {
	e.retryMu.Lock()
	e.retryQ = append(e.retryQ, m)
	e.retryMu.Unlock()
	select {
	case e.retryC <- struct{}{}:
	default:
	}
}

// retryLoop publishes failed tasks again, while they are pending.
func (e *Executor) retryLoop() {
	defer e.wg.Done()
	backoff := time.NewTimer(0)
	defer backoff.Stop()
	for {
		select {
		case <-e.quit:
			return
		case <-e.retryC:
		}
		e.retryMu.Lock()
		q := e.retryQ
		e.retryQ = nil
		e.retryMu.Unlock()
		// Give a reconnect a moment, rather than failing again at once.
		backoff.Reset(retryDelay)
		select {
		case <-e.quit:
			return
		case <-backoff.C:
		}
		for _, m := range q {
			if !e.stillPending(m) {
				continue
			}
			e.mu.Lock()
			e.stats.Republished++
			e.mu.Unlock()
			if _, err := e.js.PublishMsgAsync(m); err != nil {
				e.publishFailed(nil, m, err)
			}
		}
	}
}

// stillPending reports whether a task message holds a task that still
// waits for its result.
func (e *Executor) stillPending(m *nats.Msg) bool {
	var t wire.Task
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, payload := range frames(m.Data) {
		if k == wire.KindTask && t.ParsePayload(payload) == nil && e.pending[t.ID] != nil {
			return true
		}
	}
	return false
}

// Shutdown stops the executor gracefully: new submissions fail with
// ErrClosed, and Shutdown waits until every accepted task has its result
// (however long the workers take, and through server restarts), then
// disconnects and stops the embedded server and local workers. If ctx
// ends first it returns ctx.Err() and the executor keeps waiting for
// results; call Shutdown again or Close. Shutdown is idempotent.
func (e *Executor) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	if e.state == open {
		e.state = draining
		e.checkDrainedLocked()
	}
	e.mu.Unlock()
	select {
	case <-e.drained:
	case <-e.quit:
	case <-ctx.Done():
		return ctx.Err()
	}
	e.stop()
	return nil
}

// Close stops the executor at once: new submissions fail with ErrClosed,
// and the future of every task without a result fails with ErrClosed.
// Tasks already in the stream stay there and still run on remote workers
// (their results are dropped); tasks running on local workers
// (WithLocalWorkers) have their context cancelled. Close then disconnects
// and stops the embedded server and local workers. Close is idempotent
// and may follow Shutdown.
func (e *Executor) Close() error {
	e.mu.Lock()
	e.state = closed
	var failed []*entry
	for _, en := range e.pending {
		e.stats.Cancelled += uint64(en.count - en.next)
		en.sink.fail(en.next, en.count, ErrClosed)
		e.items -= en.count - en.next
		en.next = en.count
		failed = append(failed, en)
	}
	clear(e.pending)
	for _, en := range e.fenced {
		failed = append(failed, en) // has its result: delivered as it is
	}
	clear(e.fenced)
	e.mu.Unlock()
	for _, en := range failed {
		en.sink.complete()
	}
	e.localMu.Lock()
	if e.localW != nil {
		e.localW.abort(ErrClosed) // their results would be dropped anyway
	}
	e.localMu.Unlock()
	e.stop()
	return nil
}

// stop releases everything, once.
func (e *Executor) stop() {
	e.stopped.Do(func() {
		e.mu.Lock()
		e.state = closed
		e.mu.Unlock()
		close(e.quit)
		e.teardown()
	})
}

// teardown stops what start started, in reverse.
func (e *Executor) teardown() {
	if e.local != nil {
		e.local()
	}
	if e.results != nil {
		e.results.Stop()
		<-e.results.Closed()
	}
	if e.progSub != nil {
		_ = e.progSub.Unsubscribe()
	}
	select {
	case <-e.quit:
	default:
		close(e.quit)
	}
	e.wg.Wait()
	if e.nc != nil {
		e.nc.Close()
	}
	if e.srv != nil {
		e.srv.Close()
	}
}

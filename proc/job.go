package proc

import (
	"context"
	"fmt"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// job is one Task message: a submitted task (one item) or a Map chunk
// (several). It lives in the pool's queue, then in one worker's in-flight
// list until its last outcome arrives; if its worker dies, its unfinished
// items go back to the queue or fail.
type job struct {
	id       uint64
	fn       string
	deadline int64 // Unix nanoseconds, 0 for none
	base     int   // the sink's index of the first item
	count    int
	data     []byte // count items (wire.BeginItem/EndItem)
	sink     sink
	rep      progress.Reporter // where the items' reported progress goes; nil: nobody watches

	// done counts items with an outcome. Only the reader goroutine of the
	// worker holding the job touches it (a requeued job changes hands
	// under Pool.mu).
	done  int
	tally tally // outcomes of the delivered items, added to the stats at the end

	// Guarded by Pool.mu.
	state      jobState
	w          *worker
	tries      int         // times sent again after its worker died while running it
	started    bool        // sink.start succeeded (it is called once)
	cancelReq  bool        // cancellation was asked
	cancelSent bool        // a Cancel frame went to the worker
	killedFor  error       // the pool killed the worker to stop this job: the job's error
	timer      *time.Timer // backstop: kill the worker if the job overstays
}

type jobState uint8

const (
	jobNew     jobState = iota // built, not yet handed to the pool
	jobQueued                  // in the pool's queue
	jobSent                    // in a worker's in-flight list
	jobDone                    // every item has an outcome
	jobDropped                 // cancelled or dropped before it was sent
)

// sink receives the outcomes of a job's items; i is the sink's own index.
// Its methods are called without Pool.mu held, since resolving a future
// runs its callbacks.
type sink interface {
	// start is called once, when the job is first sent: false means the
	// work was cancelled meanwhile and must not be sent.
	start() bool
	// deliver records item i's outcome (decoding its value) and
	// classifies it for the stats; publish then makes items [from, to)
	// visible to the caller, once the stats count them.
	deliver(i int, o *wire.Outcome) outcomeKind
	publish(from, to int)
	// fail ends items [from, to) with err, without an outcome from a
	// worker; aborted tells that they never started (dropped by Close).
	fail(from, to int, err error, aborted bool)
	// cancelErr is the error of items that stopped because their work
	// was cancelled.
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

// tally counts outcomes by kind.
type tally struct {
	completed, failed, panicked, timedOut, cancelled uint64
}

func (t *tally) add(k outcomeKind, n uint64) {
	switch k {
	case kindCompleted:
		t.completed += n
	case kindFailed:
		t.failed += n
	case kindPanicked:
		t.failed += n
		t.panicked += n
	case kindTimedOut:
		t.failed += n
		t.timedOut += n
	case kindCancelled:
		t.cancelled += n
	}
}

// remaining returns a job for the items of j that have no outcome yet,
// for sending again: j itself when none has (so that a submitted task
// keeps the job its cancellation watch points at), else a new job sharing
// j's sink and identity. Called under Pool.mu.
func (j *job) remaining() *job {
	if j.done == 0 {
		j.w, j.cancelSent, j.timer = nil, false, nil
		return j
	}
	r := &job{id: j.id, fn: j.fn, deadline: j.deadline, base: j.base + j.done, count: j.count - j.done,
		data: wire.SkipItems(j.data, j.done), sink: j.sink, rep: j.rep, tries: j.tries, started: j.started, cancelReq: j.cancelReq}
	return r
}

// singles splits j into one job per item, so that an input that crashes
// its worker, sent again, fails alone.
func (j *job) singles(nextID func() uint64) []*job {
	out := make([]*job, 0, j.count)
	for i, item := range (&wire.Task{Count: j.count, Data: j.data}).Items() {
		data, mark := wire.BeginItem(make([]byte, 0, 4+len(item)))
		data = wire.EndItem(append(data, item...), mark)
		out = append(out, &job{id: nextID(), fn: j.fn, deadline: j.deadline, base: j.base + i, count: 1,
			data: data, sink: j.sink, rep: j.rep, tries: j.tries, started: j.started, cancelReq: j.cancelReq})
	}
	return out
}

// frame appends j's Task frame to dst.
func (j *job) frame(dst []byte, timeout time.Duration) []byte {
	t := wire.Task{ID: j.id, Func: j.fn, Deadline: j.deadline, Timeout: int64(timeout), Progress: j.rep != nil, Count: j.count, Data: j.data}
	dst, start := wire.BeginFrame(dst, wire.KindTask)
	return wire.EndFrame(t.AppendPayload(dst), start)
}

// outcomeError turns a worker's report of a failed item into the error
// its caller sees.
func outcomeError(fn string, o *wire.Outcome, timeout time.Duration, cancelErr func() error) (outcomeKind, error) {
	switch o.Status {
	case wire.StatusError:
		return kindFailed, &TaskError{Func: fn, Message: o.Msg}
	case wire.StatusPanic:
		return kindPanicked, &future.PanicError{Value: o.Msg, Stack: append([]byte(nil), o.Stack...)}
	case wire.StatusTimeout:
		return kindTimedOut, fmt.Errorf("proc: %s: %w (limit %v)", fn, ErrTimeout, timeout)
	case wire.StatusCancelled:
		return kindCancelled, cancelErr()
	}
	return kindFailed, &remoteInvalid{msg: o.Msg}
}

// remoteInvalid is a worker's report that an item could not run: its
// argument or result could not be decoded or encoded.
type remoteInvalid struct{ msg string }

func (e *remoteInvalid) Error() string        { return "proc: worker: " + e.msg }
func (e *remoteInvalid) Is(target error) bool { return target == ErrEncoding }

// ctxError is the error for work whose context ended: ctx's own error,
// or context.Canceled when the work was cancelled some other way.
func ctxError(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

package cluster

import (
	"encoding/binary"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/skein-go/skein/internal/wire"
)

// Tasks travel in batches: a task message holds one or more Task frames
// (internal/wire's framing), and a result message one or more Result
// frames. Batches form by themselves: the executor's sender publishes
// whatever tasks were submitted while it published the previous message
// (one task at a time when tasks are few, hundreds when they pour in),
// and a worker's committer does the same with results. Each task in a
// batch runs on its own slot of the worker; the batch's message is
// acknowledged once every one of its results is stored.

// batchHeadroom is the room kept in a message for its headers.
const batchHeadroom = 1024

// maxBatchTasks bounds the tasks of one message, so that a worker's
// slots are not all taken by one message while others wait.
const maxBatchTasks = 256

// batchWork is about how much work (by the workers' reports of how long
// each function's tasks run) goes in one task message: enough tiny tasks
// to divide the cost of a message, while long tasks go one by one so that
// they spread over every free worker. A function not measured yet goes
// one by one until its first results come back.
const batchWork = 2 * time.Millisecond

// batch is the executor's task message being filled.
type batch struct {
	data  []byte
	count int
	limit int      // the most tasks it may hold: the smallest of its tasks' limits
	sigs  []string // distinct signatures of its tasks
}

// limitLocked is how many tasks of fn may share a message.
func (e *Executor) limitLocked(fn string) int {
	r, ok := e.runTime[fn]
	if !ok {
		return 1
	}
	return int(min(max(batchWork/max(r, time.Microsecond), 1), maxBatchTasks))
}

// measured records how long tasks of fn ran on their worker (an
// exponential moving average over about eight tasks).
func (e *Executor) measured(runs []fnRun) {
	e.batchMu.Lock()
	defer e.batchMu.Unlock()
	for _, r := range runs {
		old, ok := e.runTime[r.fn]
		if !ok {
			e.runTime[r.fn] = r.d
			continue
		}
		e.runTime[r.fn] = old + (r.d-old)/8
	}
}

type fnRun struct {
	fn string
	d  time.Duration
}

// runTimes parses a result message's hdrRun: "ID:µs,ID:µs,...".
func runTimes(v string) map[uint64]time.Duration {
	if v == "" {
		return nil
	}
	out := map[uint64]time.Duration{}
	for v != "" {
		var pair string
		pair, v, _ = strings.Cut(v, ",")
		id, us, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		i, err1 := strconv.ParseUint(id, 10, 64)
		d, err2 := strconv.ParseInt(us, 10, 64)
		if err1 == nil && err2 == nil {
			out[i] = time.Duration(d) * time.Microsecond
		}
	}
	return out
}

// enqueue adds a task frame to the batch being filled; the sender
// publishes it. Called after en is pending.
func (e *Executor) enqueue(frame []byte, fn, sig string) {
	e.batchMu.Lock()
	b := &e.filling
	limit := e.limitLocked(fn)
	if b.count > 0 && (len(b.data)+len(frame) > e.maxPl-batchHeadroom || b.count >= min(b.limit, limit)) {
		e.ready = append(e.ready, *b)
		*b = batch{}
	}
	if b.count == 0 || limit < b.limit {
		b.limit = limit
	}
	b.data = append(b.data, frame...)
	b.count++
	if !containsString(b.sigs, sig) {
		b.sigs = append(b.sigs, sig)
	}
	e.batchMu.Unlock()
	select {
	case e.sendC <- struct{}{}:
	default:
	}
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// sendLoop publishes batches until the executor stops.
func (e *Executor) sendLoop() {
	defer e.wg.Done()
	for {
		select {
		case <-e.quit:
			return
		case <-e.sendC:
		}
		e.batchMu.Lock()
		ready := e.ready
		if e.filling.count > 0 {
			ready = append(ready, e.filling)
		}
		e.ready, e.filling = nil, batch{}
		e.batchMu.Unlock()
		for _, b := range ready {
			e.publishBatch(b)
		}
	}
}

// publishBatch sends one task message. A failure to send it at all (the
// client's buffer of unacknowledged messages is full) is retried after a
// pause, like a failure reported later (publishFailed).
func (e *Executor) publishBatch(b batch) {
	msg := &nats.Msg{Subject: e.names.taskSubj, Data: b.data, Header: make(nats.Header, 6)}
	for k, v := range e.header {
		msg.Header[k] = v
	}
	msg.Header[hdrSig] = b.sigs
	msg.Header[hdrMsgID] = []string{e.id + ".b" + strconv.FormatUint(e.batchSeq.Add(1), 10)}
	if _, err := e.js.PublishMsgAsync(msg); err != nil {
		e.publishFailed(nil, msg, err)
	}
}

// taskFrame encodes t as a frame, checking that it fits in a message.
func (e *Executor) taskFrame(t *wire.Task, fn string) ([]byte, error) {
	frame := wire.AppendFrame(nil, t)
	if n := len(frame) + batchHeadroom; n > e.maxPl {
		return nil, fmt.Errorf("cluster: task %q: %d bytes exceed the server's max_payload of %d: %w", fn, n, e.maxPl, ErrTooLarge)
	}
	return frame, nil
}

// frames yields the frames of a message's data, stopping at the first
// malformed one (reported with kind 0).
func frames(b []byte) iter.Seq2[wire.Kind, []byte] {
	return func(yield func(wire.Kind, []byte) bool) {
		for len(b) > 0 {
			if len(b) < 5 {
				yield(0, nil)
				return
			}
			n := int(binary.BigEndian.Uint32(b))
			if n < 1 || n > len(b)-4 {
				yield(0, nil)
				return
			}
			if !yield(wire.Kind(b[4]), b[5:4+n]) {
				return
			}
			b = b[4+n:]
		}
	}
}

// retryDelay is the pause before a failed publish is retried.
const retryDelay = 50 * time.Millisecond

package proc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"slices"
	"sync/atomic"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/gather"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/progress"
)

// Map applies f to every input on p's workers and yields the results, in
// input order by default or chunk by chunk as they complete with
// WithUnordered (Python's Pool.imap and imap_unordered).
//
// Inputs are read lazily, in the caller's goroutine, and sent in chunks of
// WithChunkSize inputs; several chunks are in flight per worker, and at
// most WithWindow chunks are in flight or waiting to be consumed, so
// memory is bounded however long the input. With the default
// pool.FirstError mode, the first failed input is yielded (with its Err)
// and then the iteration ends and the remaining work is cancelled; with
// WithErrorMode(pool.AllErrors) every input's result is yielded, failures
// included. Failures are the same typed errors as Submit's, per input.
//
// A Result with Index -1 reports an error that belongs to no single input,
// after which the iteration ends: bad arguments, the pool closed, ctx
// ended (its error), or a panic in the input iterator. Breaking out of the
// loop cancels the chunks still in flight and returns at once.
func Map[In, Out any](ctx context.Context, p *Pool, f *Func[In, Out], in iter.Seq[In], opts ...MapOption) iter.Seq[pool.Result[Out]] {
	return func(yield func(pool.Result[Out]) bool) {
		cfg, err := checkMap(p, f, in != nil, opts)
		if err != nil {
			yield(pool.Result[Out]{Index: -1, Err: err})
			return
		}
		m := &mapRun[In, Out]{p: p, f: f, cfg: cfg, ctx: ctx, live: map[*chunk[In, Out]]struct{}{}}
		if progress.Reporting(ctx) {
			m.rep = progress.FromContext(ctx)
		}
		if cfg.unordered {
			m.completed = make(chan *chunk[In, Out], cfg.window)
		}
		defer m.stop()
		m.run(in, yield)
	}
}

// MapSlice applies f to every element of in on p's workers and returns
// the outputs in input order (Python's Pool.map). Without WithChunkSize,
// inputs go in chunks of len(in) / (4 × workers), rounded up, as in
// Python. With the default pool.FirstError mode it returns (nil, err) for
// the first input that fails, after cancelling the rest; with
// WithErrorMode(pool.AllErrors) it runs every input and returns all
// outputs (zero for failed inputs) with every error joined. Errors name
// the input index. If ctx ends first, MapSlice returns (nil, ctx.Err()).
func MapSlice[In, Out any](ctx context.Context, p *Pool, f *Func[In, Out], in []In, opts ...MapOption) ([]Out, error) {
	if p == nil {
		return nil, errors.New("proc: MapSlice on a nil *Pool")
	}
	chunk := (len(in) + 4*p.n - 1) / (4 * p.n)
	opts = append([]MapOption{WithChunkSize(max(chunk, 1))}, opts...)
	cfg, err := checkMap(p, f, true, opts)
	if err != nil {
		return nil, err
	}
	return gather.Slice(Map(ctx, p, f, slices.Values(in), opts...), len(in), cfg.errorMode, "proc")
}

func checkMap[In, Out any](p *Pool, f *Func[In, Out], haveInput bool, opts []MapOption) (mapConfig, error) {
	var cfg mapConfig
	switch {
	case p == nil:
		return cfg, errors.New("proc: Map on a nil *Pool")
	case !haveInput:
		return cfg, errors.New("proc: Map with a nil input sequence")
	}
	if err := f.usable(); err != nil {
		return cfg, err
	}
	for _, o := range opts {
		if o == nil {
			return cfg, errors.New("proc: nil MapOption")
		}
		if err := o.applyMap(&cfg); err != nil {
			return cfg, err
		}
	}
	if cfg.chunk == 0 {
		cfg.chunk = 1
	}
	if cfg.window == 0 {
		cfg.window = 4 * p.n
	}
	return cfg, nil
}

// mapRun is the state of one Map iteration. Only the consuming goroutine
// touches it, except completed (and the chunks' own fields).
type mapRun[In, Out any] struct {
	p       *Pool
	f       *Func[In, Out]
	cfg     mapConfig
	ctx     context.Context
	rep     progress.Reporter // ctx's, if anyone watches; nil otherwise
	stopped atomic.Bool       // the iteration ended: chunks still queued are not sent

	live      map[*chunk[In, Out]]struct{} // submitted and not yet consumed
	completed chan *chunk[In, Out]         // unordered: chunks as they finish (capacity window)

	// Buffers of consumed chunks, for the next ones: a chunk is consumed
	// only after every job of it has finished, so nothing else holds them.
	freeOut  [][]pool.Result[Out]
	freeData [][]byte
}

// run reads the input, submits it in chunks and yields results whenever
// the window is full, then drains the window. The input is ranged over
// directly (no iter.Pull): reading inputs and yielding results take turns
// in the caller's goroutine.
func (m *mapRun[In, Out]) run(in iter.Seq[In], yield func(pool.Result[Out]) bool) {
	var (
		pending  []*chunk[In, Out] // ordered mode: submitted chunks in input order
		cur      *chunkBuilder[In, Out]
		base     int
		ended    bool // the caller stopped, or an error ended the iteration
		yielding bool // in the caller's loop body
	)
	// deliver yields the next finished chunk's results; false ends it all.
	deliver := func() bool {
		c, err := m.nextDone(pending)
		if err != nil {
			ended = true
			yield(pool.Result[Out]{Index: -1, Err: err})
			return false
		}
		if !m.cfg.unordered {
			pending = pending[1:]
		}
		delete(m.live, c)
		yielding = true // left set if the caller's loop body panics
		for i := range c.out {
			r := c.out[i]
			r.Index = c.base + i
			if !yield(r) || (r.Err != nil && m.cfg.errorMode == pool.FirstError) {
				ended = true
				return false
			}
		}
		yielding = false
		m.recycle(c)
		return true
	}
	submit := func() bool {
		c, err := cur.submit()
		cur = nil
		if err != nil {
			ended = true
			yield(pool.Result[Out]{Index: -1, Err: err})
			return false
		}
		base += len(c.out)
		m.live[c] = struct{}{}
		pending = append(pending, c)
		return true
	}
	defer func() {
		// A panic in the input iterator ends the Map with an error; one in
		// the caller's loop body is the caller's.
		if r := recover(); r != nil {
			if yielding || ended {
				panic(r)
			}
			yield(pool.Result[Out]{Index: -1, Err: fmt.Errorf("proc: Map input iterator panicked: %w", &future.PanicError{Value: r, Stack: debug.Stack()})})
		}
	}()
	for v := range in {
		if cur == nil {
			cur = m.newChunk(base)
		}
		cur.add(v)
		if len(cur.c.out) < m.cfg.chunk {
			continue
		}
		if !submit() {
			return
		}
		for len(m.live) >= m.cfg.window {
			if !deliver() {
				return
			}
		}
	}
	if cur != nil && !submit() {
		return
	}
	for len(m.live) > 0 {
		if !deliver() {
			return
		}
	}
}

// nextDone waits for the next chunk to yield: the oldest in ordered mode,
// any in unordered mode.
func (m *mapRun[In, Out]) nextDone(pending []*chunk[In, Out]) (*chunk[In, Out], error) {
	if m.cfg.unordered {
		select {
		case c := <-m.completed:
			return c, nil
		case <-m.ctx.Done():
			return nil, m.ctx.Err()
		}
	}
	select {
	case <-pending[0].done:
		return pending[0], nil
	case <-m.ctx.Done():
		return nil, m.ctx.Err()
	}
}

// recycle keeps a consumed chunk's buffers for the next chunks.
func (m *mapRun[In, Out]) recycle(c *chunk[In, Out]) {
	clear(c.out)
	m.freeOut = append(m.freeOut, c.out[:0])
	m.freeData = append(m.freeData, c.bufs...)
}

// chunkBuilder encodes the inputs of one chunk into jobs: consecutive
// inputs that fit in a frame share a job; an input that cannot be
// encoded fails alone.
type chunkBuilder[In, Out any] struct {
	m      *mapRun[In, Out]
	c      *chunk[In, Out]
	jobs   []*job
	cur    *job
	failed int // inputs that failed to encode
	limit  int // the most argument bytes a job may carry
}

func (m *mapRun[In, Out]) newChunk(base int) *chunkBuilder[In, Out] {
	var out []pool.Result[Out]
	if n := len(m.freeOut); n > 0 {
		out, m.freeOut = m.freeOut[n-1], m.freeOut[:n-1]
	} else {
		out = make([]pool.Result[Out], 0, m.cfg.chunk)
	}
	return &chunkBuilder[In, Out]{
		m:     m,
		c:     &chunk[In, Out]{m: m, base: base, out: out, done: make(chan struct{})},
		limit: m.p.cfg.maxFrame - 64 - len(m.f.name),
	}
}

// newJob starts a job at item i of the chunk, on a recycled buffer if
// there is one.
func (b *chunkBuilder[In, Out]) newJob(i int) *job {
	j := &job{fn: b.m.f.name, base: i, sink: b.c, rep: b.m.rep, deadline: deadline(b.m.ctx)}
	if n := len(b.m.freeData); n > 0 {
		j.data, b.m.freeData = b.m.freeData[n-1][:0], b.m.freeData[:n-1]
	}
	return j
}

// add encodes the next input of the chunk.
func (b *chunkBuilder[In, Out]) add(v In) {
	i := len(b.c.out)
	b.c.out = append(b.c.out, pool.Result[Out]{})
	if b.cur == nil {
		b.cur = b.newJob(i)
	}
	mark := len(b.cur.data)
	var err error
	b.cur.data, err = b.m.f.encodeArg(b.cur.data, v)
	if err == nil && len(b.cur.data) > b.limit && b.cur.count > 0 {
		// Too big with the others: close this job, start another.
		item := append([]byte(nil), b.cur.data[mark:]...)
		b.cur.data = b.cur.data[:mark]
		b.jobs = append(b.jobs, b.cur)
		b.cur = b.newJob(i)
		b.cur.data = append(b.cur.data, item...)
	}
	if err == nil && len(b.cur.data) > b.limit {
		err = b.m.p.checkSize(b.m.f.name, len(b.cur.data))
		b.cur.data = b.cur.data[:0]
	}
	if err != nil {
		b.c.out[i].Err = err
		b.failed++
		if b.cur.count > 0 {
			b.jobs = append(b.jobs, b.cur)
		}
		b.cur = nil
		return
	}
	b.cur.count++
}

// submit hands the chunk's jobs to the pool.
func (b *chunkBuilder[In, Out]) submit() (*chunk[In, Out], error) {
	if b.cur != nil {
		b.jobs = append(b.jobs, b.cur)
	}
	c := b.c
	for _, j := range b.jobs {
		c.bufs = append(c.bufs, j.data)
	}
	c.left.Store(int64(len(c.out)))
	if len(b.jobs) > 0 {
		if err := b.m.p.submit(b.jobs...); err != nil {
			return nil, err
		}
	}
	c.finish(b.failed) // the inputs that failed to encode are done already
	return c, nil
}

// stop ends the iteration: chunks still queued are dropped and running
// ones cancelled. Their outcomes, if any arrive, go to chunks nobody reads.
func (m *mapRun[In, Out]) stop() {
	m.stopped.Store(true)
	if len(m.live) == 0 {
		return
	}
	m.p.cancelWhere(func(j *job) bool {
		c, ok := j.sink.(*chunk[In, Out])
		return ok && c.m == m
	})
}

// chunk is a run of consecutive inputs of a Map: the sink of one or more
// jobs (more when inputs are too large to share a frame, or after a retry
// split it up). Items are indexed from 0 within the chunk.
type chunk[In, Out any] struct {
	m    *mapRun[In, Out]
	base int                // Map index of the first input
	out  []pool.Result[Out] // each written once, by whoever delivers it
	bufs [][]byte           // its jobs' argument buffers, recycled once it is consumed
	left atomic.Int64       // inputs without a result
	done chan struct{}      // closed when left reaches 0
}

func (c *chunk[In, Out]) start() bool { return !c.m.stopped.Load() }

func (c *chunk[In, Out]) deliver(i int, o *wire.Outcome) outcomeKind {
	kind := kindCompleted
	if o.Status == wire.StatusOK {
		c.out[i].Value, c.out[i].Err = c.m.f.decodeOut(o.Value)
		if c.out[i].Err != nil {
			kind = kindFailed
		}
	} else {
		kind, c.out[i].Err = outcomeError(c.m.f.name, o, c.m.p.cfg.timeout, c.cancelErr)
	}
	return kind
}

func (c *chunk[In, Out]) publish(from, to int) { c.finish(to - from) }

func (c *chunk[In, Out]) fail(from, to int, err error, _ bool) {
	for i := from; i < to; i++ {
		c.out[i].Err = err
	}
	c.finish(to - from)
}

func (c *chunk[In, Out]) cancelErr() error { return ctxError(c.m.ctx) }

// finish records n more inputs with a result; the last one publishes the
// chunk.
func (c *chunk[In, Out]) finish(n int) {
	if n == 0 || c.left.Add(-int64(n)) != 0 {
		return
	}
	close(c.done)
	if c.m.completed != nil {
		c.m.completed <- c // capacity window: never blocks
	}
}

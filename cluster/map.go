package cluster

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"slices"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/gather"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/progress"
)

// MapOption configures Map and MapSlice.
type MapOption interface {
	applyMap(*mapConfig) error
}

type mapConfig struct {
	chunk     int
	window    int
	unordered bool
	errorMode pool.ErrorMode
}

type mapOption func(*mapConfig) error

func (o mapOption) applyMap(c *mapConfig) error { return o(c) }

// WithChunkSize sends n consecutive inputs to a worker as one task
// message, which divides the per-task cost of tiny functions (Python's
// chunksize). A chunk that dies with its worker is redelivered whole.
// Default 1 for Map, 64 for MapSlice; n must be at least 1.
func WithChunkSize(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("cluster: WithChunkSize(%d): must be at least 1", n)
		}
		c.chunk = n
		return nil
	})
}

// WithWindow bounds the chunks of one Map that are in flight or finished
// but not yet consumed, which bounds its memory however long the input.
// Default 64; n must be at least 1.
func WithWindow(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("cluster: WithWindow(%d): must be at least 1", n)
		}
		c.window = n
		return nil
	})
}

// WithUnordered makes Map yield each chunk's results as soon as the chunk
// completes, instead of in input order (Python's imap_unordered).
func WithUnordered() MapOption {
	return mapOption(func(c *mapConfig) error {
		c.unordered = true
		return nil
	})
}

// WithErrorMode chooses what Map and MapSlice do with failed inputs, as
// in package pool: pool.FirstError (the default) yields or returns the
// first failure and cancels the rest; pool.AllErrors runs every input.
func WithErrorMode(m pool.ErrorMode) MapOption {
	return mapOption(func(c *mapConfig) error {
		if m != pool.FirstError && m != pool.AllErrors {
			return fmt.Errorf("cluster: WithErrorMode(%d): unknown mode", int(m))
		}
		c.errorMode = m
		return nil
	})
}

const defaultWindow = 64

// Map applies f to every input on the cluster's workers and yields the
// results, in input order by default or chunk by chunk as they complete
// with WithUnordered, like proc.Map.
//
// Inputs are read lazily in the caller's goroutine and sent in chunks of
// WithChunkSize inputs; at most WithWindow chunks are in flight or
// waiting to be consumed. With the default pool.FirstError mode, the first
// failed input is yielded (with its Err) and the iteration ends, cancelling
// the rest; with WithErrorMode(pool.AllErrors) every input's result is
// yielded. Failures are the same typed errors as Submit's, per input.
//
// A Result with Index -1 reports an error that belongs to no single
// input, after which the iteration ends: bad arguments, the executor
// closed, ctx ended (its error), or a panic in the input iterator.
// Breaking out of the loop cancels the chunks still in flight.
func Map[In, Out any](ctx context.Context, e *Executor, f *proc.Func[In, Out], in iter.Seq[In], opts ...MapOption) iter.Seq[pool.Result[Out]] {
	return func(yield func(pool.Result[Out]) bool) {
		cfg, fi, err := checkMap(e, f, in != nil, 1, opts)
		if err != nil {
			yield(pool.Result[Out]{Index: -1, Err: err})
			return
		}
		m := &mapRun[In, Out]{e: e, fi: fi, cfg: cfg, ctx: ctx, done: make(chan *chunk[In, Out], cfg.window)}
		if progress.Reporting(ctx) {
			m.rep = progress.FromContext(ctx)
		}
		defer m.stop()
		m.run(in, yield)
	}
}

// MapSlice applies f to every element of in on the cluster and returns
// the outputs in input order (Python's Pool.map), in chunks of 64 inputs
// unless WithChunkSize says otherwise. With the default pool.FirstError
// mode it returns (nil, err) for the first input that fails, after
// cancelling the rest; with WithErrorMode(pool.AllErrors) it returns all
// outputs (zero for failed inputs) with every error joined. Errors name
// the input index. If ctx ends first, MapSlice returns (nil, ctx.Err()).
func MapSlice[In, Out any](ctx context.Context, e *Executor, f *proc.Func[In, Out], in []In, opts ...MapOption) ([]Out, error) {
	opts = append([]MapOption{WithChunkSize(64)}, opts...)
	cfg, _, err := checkMap(e, f, true, 64, opts)
	if err != nil {
		return nil, err
	}
	return gather.Slice(Map(ctx, e, f, slices.Values(in), opts...), len(in), cfg.errorMode, "cluster")
}

func checkMap[In, Out any](e *Executor, f *proc.Func[In, Out], haveInput bool, chunk int, opts []MapOption) (mapConfig, *funcInfo[In, Out], error) {
	cfg := mapConfig{chunk: chunk, window: defaultWindow}
	switch {
	case e == nil:
		return cfg, nil, errors.New("cluster: Map on a nil *Executor")
	case !haveInput:
		return cfg, nil, errors.New("cluster: Map with a nil input sequence")
	}
	fi, err := infoFor(f)
	if err != nil {
		return cfg, nil, err
	}
	for _, o := range opts {
		if o == nil {
			return cfg, nil, errors.New("cluster: nil MapOption")
		}
		if err := o.applyMap(&cfg); err != nil {
			return cfg, nil, err
		}
	}
	return cfg, fi, nil
}

// mapRun is one Map iteration; only the consuming goroutine touches it
// (chunks are filled under Executor.mu and handed over through done).
type mapRun[In, Out any] struct {
	e    *Executor
	fi   *funcInfo[In, Out]
	cfg  mapConfig
	ctx  context.Context
	rep  progress.Reporter
	done chan *chunk[In, Out] // chunks as they complete (capacity window)
	live []*chunk[In, Out]    // submitted, not consumed, in input order
}

// run reads the input, submits it in chunks and yields results whenever
// the window is full, then drains the window.
func (m *mapRun[In, Out]) run(in iter.Seq[In], yield func(pool.Result[Out]) bool) {
	var (
		cur      *chunk[In, Out]
		base     int
		yielding bool
		ended    bool
	)
	// deliver yields the next finished chunk; false ends the iteration.
	deliver := func() bool {
		c, err := m.next()
		if err != nil {
			ended = true
			yield(pool.Result[Out]{Index: -1, Err: err})
			return false
		}
		yielding = true
		for i, r := range c.out {
			r.Index = c.base + i
			if !yield(r) || (r.Err != nil && m.cfg.errorMode == pool.FirstError) {
				ended = true
				return false
			}
		}
		yielding = false
		return true
	}
	submit := func() bool {
		c := cur
		cur = nil
		if err := m.submit(c); err != nil {
			ended = true
			yield(pool.Result[Out]{Index: -1, Err: err})
			return false
		}
		base += len(c.out)
		return true
	}
	defer func() {
		if r := recover(); r != nil {
			if yielding || ended {
				panic(r)
			}
			yield(pool.Result[Out]{Index: -1, Err: fmt.Errorf("cluster: Map input iterator panicked: %w", &future.PanicError{Value: r, Stack: debug.Stack()})})
		}
	}()
	for v := range in {
		if cur == nil {
			cur = &chunk[In, Out]{m: m, base: base, out: make([]pool.Result[Out], 0, m.cfg.chunk)}
		}
		cur.add(v)
		// A chunk is also closed at half the server's message limit, so
		// that large inputs do not make it too large to send.
		if len(cur.out) < m.cfg.chunk && len(cur.data) < (m.e.maxPl-batchHeadroom)/2 {
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

// next waits for the next chunk to yield: the oldest in input order, or
// any with WithUnordered.
func (m *mapRun[In, Out]) next() (*chunk[In, Out], error) {
	for {
		if !m.cfg.unordered && m.live[0].finished {
			c := m.live[0]
			m.live = m.live[1:]
			return c, nil
		}
		select {
		case c := <-m.done:
			c.finished = true
			if m.cfg.unordered {
				m.live = slices.DeleteFunc(m.live, func(x *chunk[In, Out]) bool { return x == c })
				return c, nil
			}
		case <-m.ctx.Done():
			return nil, m.ctx.Err()
		}
	}
}

// submit sends a chunk as one task message. Inputs that failed to encode
// already have their error; a chunk of only those is complete at once.
func (m *mapRun[In, Out]) submit(c *chunk[In, Out]) error {
	m.live = append(m.live, c)
	if c.count == 0 {
		m.done <- c
		return nil
	}
	if err := m.ctx.Err(); err != nil {
		return err
	}
	c.en = m.e.newEntry(m.fi.name, c.count, c, m.rep)
	wt := &wire.Task{ID: c.en.seq, Func: m.fi.name, Deadline: deadline(m.ctx), Timeout: int64(m.e.cfg.timeout), Progress: m.rep != nil, Count: c.count, Data: c.data}
	return m.e.submit(c.en, wt, m.fi.sig)
}

// stop cancels the chunks still in flight when the iteration ends.
func (m *mapRun[In, Out]) stop() {
	for _, c := range m.live {
		if c.en != nil {
			m.e.cancel(c.en)
		}
	}
}

// chunk is a run of consecutive inputs of a Map sent as one task. The
// inputs that could not be encoded are not sent: idx maps the task's
// items to positions in out.
type chunk[In, Out any] struct {
	m        *mapRun[In, Out]
	base     int
	out      []pool.Result[Out]
	idx      []int // position in out of each item sent
	data     []byte
	count    int
	en       *entry
	finished bool // consumer only: received from done
}

func (c *chunk[In, Out]) add(v In) {
	i := len(c.out)
	c.out = append(c.out, pool.Result[Out]{})
	var err error
	mark := len(c.data)
	if c.data, err = c.m.fi.encodeArg(c.data, v); err != nil {
		c.data = c.data[:mark]
		c.out[i].Err = err
		return
	}
	c.idx = append(c.idx, i)
	c.count++
}

func (c *chunk[In, Out]) outcome(i int, o *wire.Outcome) outcomeKind {
	r := &c.out[c.idx[i]]
	if o.Status == wire.StatusOK {
		r.Value, r.Err = c.m.fi.decodeOut(o.Value)
		if r.Err != nil {
			return kindFailed
		}
		return kindCompleted
	}
	var k outcomeKind
	k, r.Err = outcomeError(c.m.fi.name, o, int64(c.m.e.cfg.timeout), c.cancelErr)
	return k
}

func (c *chunk[In, Out]) fail(from, to int, err error) {
	for i := from; i < to; i++ {
		c.out[c.idx[i]].Err = err
	}
}

func (c *chunk[In, Out]) complete() { c.m.done <- c } // capacity window: never blocks

func (c *chunk[In, Out]) cancelErr() error {
	if err := c.m.ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

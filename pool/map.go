package pool

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/skein-go/skein/future"
)

// Result is one output of Map: the result of applying the function to the
// input at position Index (counting from 0). Index is -1 for an error that
// belongs to no single input: bad arguments, the context ending, the pool
// closing, or a panic in the input iterator.
type Result[T any] struct {
	Index int
	Value T
	Err   error
}

// Map applies fn to every input on p and yields the results, in input
// order by default or as they complete with WithUnordered.
//
// Inputs are read lazily: at most WithWindow chunks of WithChunkSize
// inputs are in flight or waiting to be consumed, so memory is bounded
// however long the input is. With the default FirstError mode, the first
// failed input is yielded (with its Err) and then the iteration ends and
// the remaining work is cancelled; with WithErrorMode(AllErrors) every
// input's result is yielded, failures included. A panic in fn is that
// input's *PanicError. If ctx ends, Map yields a Result with Index -1 and
// ctx's error and stops, at the latest after the chunk being yielded.
//
// Breaking out of the loop cancels the work still in flight and returns
// once the goroutine that reads inputs has stopped. The input iterator
// runs in that goroutine, so it must stop when asked to (an iter.Seq
// does: its yield returns false).
func Map[In, Out any](ctx context.Context, p *Pool, inputs iter.Seq[In], fn func(context.Context, In) (Out, error), opts ...MapOption) iter.Seq[Result[Out]] {
	return func(yield func(Result[Out]) bool) {
		cfg, err := checkMap(p, fn, opts)
		if err == nil && inputs == nil {
			err = errors.New("pool: Map with a nil input sequence")
		}
		if err != nil {
			yield(Result[Out]{Index: -1, Err: err})
			return
		}
		m := &mapRun[In, Out]{p: p, fn: fn, cfg: cfg, slots: make(chan struct{}, cfg.window),
			chunks: make(chan *chunk[In, Out], cfg.window), free: make(chan *chunk[In, Out], cfg.window)}
		if cfg.unordered {
			m.completed = make(chan *chunk[In, Out], cfg.window)
		}
		var mctx context.Context
		mctx, m.cancel = context.WithCancel(ctx)
		m.wg.Add(1)
		go m.produce(mctx, inputs)
		defer m.stopAll()
		if cfg.unordered {
			m.consumeUnordered(ctx, yield)
		} else {
			m.consumeOrdered(ctx, yield)
		}
	}
}

// MapSlice applies fn to every element of in on p and returns the outputs
// in input order. With the default FirstError mode it returns (nil, err)
// for the first input that fails, after asking the rest to stop; with
// WithErrorMode(AllErrors) it runs every input and returns all outputs
// (zero for failed inputs) with every error joined. Errors name the input
// index. WithWindow and WithUnordered do not apply. If ctx ends first,
// MapSlice returns (nil, ctx.Err()).
func MapSlice[In, Out any](ctx context.Context, p *Pool, in []In, fn func(context.Context, In) (Out, error), opts ...MapOption) ([]Out, error) {
	cfg, err := checkMap(p, fn, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Out, len(in))
	stop := new(atomic.Bool)
	n := (len(in) + cfg.chunk - 1) / cfg.chunk
	fs := make([]*future.Future[[]error], 0, n)
	for lo := 0; lo < len(in); lo += cfg.chunk {
		hi := min(lo+cfg.chunk, len(in))
		c := &chunk[In, Out]{base: lo, in: in[lo:hi], out: out[lo:hi], stop: stop, failFast: cfg.errorMode == FirstError}
		f := Submit(ctx, p, func(tctx context.Context) ([]error, error) {
			c.run(tctx, fn)
			return c.errList(), nil
		})
		fs = append(fs, f)
	}
	abandon := func() {
		stop.Store(true)
		for _, f := range fs {
			f.Cancel()
		}
	}
	var errs []error
	for f, err := range future.AsCompleted(ctx, fs) {
		if err == nil {
			var ferrs []error
			ferrs, err = f.Wait(ctx) // resolved: returns at once
			if err == nil && len(ferrs) > 0 {
				if cfg.errorMode == FirstError {
					err = ferrs[0]
				} else {
					errs = append(errs, ferrs...)
					continue
				}
			}
		}
		if err != nil {
			abandon()
			return nil, err
		}
	}
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

func checkMap[In, Out any](p *Pool, fn func(context.Context, In) (Out, error), opts []MapOption) (mapConfig, error) {
	if p == nil {
		return mapConfig{}, errNilPool
	}
	if fn == nil {
		return mapConfig{}, errNilFunc
	}
	return newMapConfig(p, opts)
}

// mapRun is the state of one Map iteration.
type mapRun[In, Out any] struct {
	p      *Pool
	fn     func(context.Context, In) (Out, error)
	cfg    mapConfig
	cancel context.CancelFunc
	wg     sync.WaitGroup // the producer goroutine
	stop   atomic.Bool    // tells running chunks to stop early

	slots     chan struct{}        // window: one token per chunk in flight or unconsumed
	chunks    chan *chunk[In, Out] // submitted chunks in input order; closed by the producer
	completed chan *chunk[In, Out] // unordered mode: chunks as they finish
	free      chan *chunk[In, Out] // consumed chunks whose buffers can be reused
	prodErr   error                // a panic in the input iterator; read after chunks is closed
}

// produce reads inputs, cuts them into chunks and submits each one once a
// window slot is free. Chunk buffers are recycled by the consumer, so a
// long input allocates about window chunks' worth of buffers in all.
func (m *mapRun[In, Out]) produce(ctx context.Context, inputs iter.Seq[In]) {
	defer m.wg.Done()
	defer close(m.chunks)
	defer func() {
		if r := recover(); r != nil {
			m.prodErr = fmt.Errorf("pool: Map input iterator panicked: %w", &future.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	base, k := 0, 0
	var c *chunk[In, Out]
	flush := func() bool {
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		c.reset(base, k)
		base += k
		cc := c
		c, k = nil, 0
		cc.fut = Submit(ctx, m.p, func(tctx context.Context) (struct{}, error) {
			cc.run(tctx, m.fn)
			return struct{}{}, nil
		})
		if m.completed != nil {
			cc.fut.OnDone(func(struct{}, error) { m.completed <- cc })
		}
		m.chunks <- cc // capacity window: never blocks while a slot is held
		return true
	}
	for x := range inputs {
		if c == nil {
			c = m.newChunk()
		}
		c.inBuf[k] = x
		k++
		if k == m.cfg.chunk && !flush() {
			m.prodErr = ctx.Err()
			return
		}
	}
	if k > 0 && !flush() {
		m.prodErr = ctx.Err()
	}
}

// newChunk takes a consumed chunk from the free list or makes one.
func (m *mapRun[In, Out]) newChunk() *chunk[In, Out] {
	select {
	case c := <-m.free:
		return c
	default:
		return &chunk[In, Out]{inBuf: make([]In, m.cfg.chunk), outBuf: make([]Out, m.cfg.chunk), stop: &m.stop, failFast: m.cfg.errorMode == FirstError}
	}
}

// consumeOrdered yields chunk results in input order.
func (m *mapRun[In, Out]) consumeOrdered(ctx context.Context, yield func(Result[Out]) bool) {
	for c := range m.chunks {
		if ctx.Err() == nil {
			select {
			case <-c.fut.Done():
			case <-ctx.Done():
			}
		}
		if err := ctx.Err(); err != nil {
			yield(Result[Out]{Index: -1, Err: err})
			return
		}
		if !m.yieldChunk(c, yield) {
			return
		}
	}
	if m.prodErr != nil {
		yield(Result[Out]{Index: -1, Err: m.prodErr})
	}
}

// consumeUnordered yields chunk results as chunks complete.
func (m *mapRun[In, Out]) consumeUnordered(ctx context.Context, yield func(Result[Out]) bool) {
	chunks := m.chunks
	inflight := 0
	for chunks != nil || inflight > 0 {
		select {
		case _, ok := <-chunks:
			if !ok {
				chunks = nil
				continue
			}
			inflight++
		case c := <-m.completed:
			inflight--
			if ctx.Err() != nil {
				break // reported below
			}
			if !m.yieldChunk(c, yield) {
				return
			}
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			yield(Result[Out]{Index: -1, Err: err})
			return
		}
	}
	if m.prodErr != nil {
		yield(Result[Out]{Index: -1, Err: m.prodErr})
	}
}

// yieldChunk yields the results of a finished chunk and frees its window
// slot; false means the iteration must end.
func (m *mapRun[In, Out]) yieldChunk(c *chunk[In, Out], yield func(Result[Out]) bool) bool {
	defer func() { <-m.slots }()
	if _, err := c.fut.Wait(context.Background()); err != nil {
		// The chunk never ran (the pool closed) or was cancelled.
		yield(Result[Out]{Index: -1, Err: err})
		return false
	}
	for i := range c.n {
		r := Result[Out]{Index: c.base + i, Value: c.out[i], Err: c.errAt(i)}
		if !yield(r) {
			return false
		}
		if r.Err != nil && m.cfg.errorMode == FirstError {
			return false
		}
	}
	select {
	case m.free <- c: // its values have been copied out: reuse the buffers
	default:
	}
	return true
}

// stopAll ends the iteration: it stops the producer, cancels chunks in
// flight and waits for the producer goroutine.
func (m *mapRun[In, Out]) stopAll() {
	m.stop.Store(true)
	m.cancel()
	m.wg.Wait()
	for c := range m.chunks {
		c.fut.Cancel()
	}
}

// chunk is a run of consecutive inputs processed by one task.
type chunk[In, Out any] struct {
	base     int // index of in[0] among all inputs
	in       []In
	out      []Out
	inBuf    []In // Map only: the full-size buffers in and out are cut from
	outBuf   []Out
	n        int // results produced, len(in) unless stopped early
	errs     map[int]error
	stop     *atomic.Bool
	failFast bool
	fut      *future.Future[struct{}]
}

// reset prepares a (possibly recycled) Map chunk holding k inputs that
// start at index base.
func (c *chunk[In, Out]) reset(base, k int) {
	c.base, c.in, c.out, c.n, c.errs, c.fut = base, c.inBuf[:k], c.outBuf[:k], 0, nil, nil
}

// run applies fn to the chunk's inputs. A panic fails only the input that
// caused it: the loop resumes after it, so panics cost nothing per item.
func (c *chunk[In, Out]) run(ctx context.Context, fn func(context.Context, In) (Out, error)) {
	for i := 0; i < len(c.in); {
		i = c.runFrom(ctx, fn, i)
	}
}

// runFrom runs inputs from start until the chunk ends, fails fast or is
// told to stop, and returns where run should resume. The loop keeps its
// state in locals; c.n is written once, on the way out.
func (c *chunk[In, Out]) runFrom(ctx context.Context, fn func(context.Context, In) (Out, error), start int) (next int) {
	i := start
	defer func() {
		if r := recover(); r != nil {
			c.setErr(i, &future.PanicError{Value: r, Stack: debug.Stack()})
			next = i + 1
			if c.failFast {
				next = len(c.in)
			}
		}
		c.n = max(c.n, min(i+1, len(c.in)), start)
	}()
	in, out, stop := c.in, c.out, c.stop
	for ; i < len(in); i++ {
		if i%32 == 0 && stop.Load() {
			i-- // nothing produced at i
			return len(in)
		}
		v, err := fn(ctx, in[i])
		out[i] = v
		if err != nil {
			c.setErr(i, err)
			if c.failFast {
				return len(in)
			}
		}
	}
	i-- // the last input produced
	return len(in)
}

func (c *chunk[In, Out]) setErr(i int, err error) {
	if c.errs == nil {
		c.errs = make(map[int]error)
	}
	c.errs[i] = fmt.Errorf("pool: input %d: %w", c.base+i, err)
}

func (c *chunk[In, Out]) errAt(i int) error {
	if c.errs == nil {
		return nil
	}
	return c.errs[i]
}

// errList returns the chunk's errors in input order.
func (c *chunk[In, Out]) errList() []error {
	if len(c.errs) == 0 {
		return nil
	}
	idx := slices.Sorted(maps.Keys(c.errs))
	errs := make([]error, len(idx))
	for k, i := range idx {
		errs[k] = c.errs[i]
	}
	return errs
}

package bench

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	conciter "github.com/sourcegraph/conc/iter"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
)

// The BenchmarkPool rows compare skein's goroutine executor (package pool)
// with the ways Go programmers run tasks today, side by side in one run:
//
//   - goroutines: a goroutine per task and a sync.WaitGroup;
//   - chanpool: the hand-made pool, runtime.NumCPU() workers ranging over a
//     chan func() with a buffer of poolChanBuffer;
//   - ants: github.com/panjf2000/ants/v2;
//   - pond: github.com/alitto/pond/v2;
//   - conc: github.com/sourcegraph/conc (pool, and iter for Map);
//   - errgroup: golang.org/x/sync/errgroup with SetLimit;
//   - skein: github.com/skein-go/skein/pool.
//
// Every pool runs runtime.NumCPU() workers, is built once per
// sub-benchmark and is reused by every op (conc's pool and errgroup are
// single-use by design, so they are built per op). Each op runs poolTasks
// tasks (roundTripsPerOp round trips in the round-trip row). Metrics are
// per task: ns/task and tasks/s of the contender's own ops, allocs/task
// and B/task in steady state, and a ratio measured op by op against a
// reference run next to it (see pairedMeter). The VM is noisy: run every
// contender once per round, several rounds, and compare medians;
// bench/cmd/benchtable prints them (see bench/README.md):
//
//	cd bench && go test -c -o /tmp/bench.test .
//	for i in $(seq 10); do /tmp/bench.test -test.run '^$' -test.bench '^BenchmarkPool' -test.benchtime 0.5s; done | tee pool.txt
//	go run ./cmd/benchtable < pool.txt
//
// Python's ThreadPoolExecutor on the same work: bench/python/thread_pool.py.

const (
	// poolTasks is the number of tasks per op in the batch rows.
	poolTasks = 10_000
	// poolChanBuffer is the buffer of the hand-made channel pool.
	poolChanBuffer = 1024
	// poolCPUIters sizes a CPU-bound task to about 10 µs on the 2-vCPU
	// benchmark VM (BenchmarkPoolCPU: sequential time = ns/task times
	// speedup-x).
	poolCPUIters = 5_000
	// poolMapItems is the input length of the Map rows.
	poolMapItems = 1_000_000
	// poolMapChunk is the chunk size given to skein's Map and MapSlice.
	poolMapChunk = 8192
)

// poolWorkers is the worker count of every pool.
var poolWorkers = runtime.NumCPU()

// poolMeter turns the timed loop of a benchmark into per-task metrics.
type poolMeter struct {
	b       *testing.B
	perOp   int
	unit    string
	mallocs uint64
}

// startPoolMeter must be called right before the b.Loop loop; perOp is the
// number of tasks (or items) one op handles.
func startPoolMeter(b *testing.B, perOp int, unit string) *poolMeter {
	b.ReportAllocs()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &poolMeter{b: b, perOp: perOp, unit: unit, mallocs: ms.Mallocs}
}

// stop reports ns/unit, allocs/unit and units/s; call it after the loop.
func (m *poolMeter) stop() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(m.b.N) * float64(m.perOp)
	m.b.ReportMetric(float64(m.b.Elapsed().Nanoseconds())/n, "ns/"+m.unit)
	m.b.ReportMetric(float64(ms.Mallocs-m.mallocs)/n, "allocs/"+m.unit)
	m.b.ReportMetric(n/m.b.Elapsed().Seconds(), m.unit+"s/s")
}

// pairedMeter times a contender's ops against a reference's, op by op.
// The parallel capacity of the 2-vCPU VM swings from one second to the
// next (other jobs share it), so comparing medians of runs made seconds
// apart is noisy; running the reference right next to the contender, in
// alternating order, and dividing the sums cancels most of the swing.
type pairedMeter struct {
	b          *testing.B
	tRun, tRef time.Duration
	round      int
}

// op runs one op of the contender and, unless ref is nil, one of the
// reference, first one then the other.
func (m *pairedMeter) op(run, ref func()) {
	if ref == nil || m.round%2 == 0 {
		m.tRun += timed(run)
		if ref != nil {
			m.tRef += timed(ref)
		}
	} else {
		m.tRef += timed(ref)
		m.tRun += timed(run)
	}
	m.round++
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// report gives the contender's ns/unit and units/s (its own ops only; the
// ns/op of the testing package counts both halves of every op) and, when
// there was a reference, the ratio of the reference's time to the
// contender's in unit ratio ("skein/x": below 1, skein is faster).
func (m *pairedMeter) report(perOp int, unit, ratio string) {
	n := float64(m.b.N) * float64(perOp)
	m.b.ReportMetric(float64(m.tRun.Nanoseconds())/n, "ns/"+unit)
	m.b.ReportMetric(n/m.tRun.Seconds(), unit+"s/s")
	if m.tRef == 0 {
		return
	}
	m.b.ReportMetric(m.tRef.Seconds()/m.tRun.Seconds(), ratio)
}

// measureAllocs runs op three times to warm up (queues grow to their
// working size) and five more times, and returns a function that reports
// the heap allocations per unit of those five, in steady state;
// call it after the b.Loop loop (its first iteration resets the metrics).
// Paired rows measure allocations here because their timed ops also run
// the reference.
func measureAllocs(b *testing.B, perOp int, unit string, op func()) (report func()) {
	const warm, measured = 3, 5
	for range warm {
		op()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range measured {
		op()
	}
	runtime.ReadMemStats(&after)
	n := measured * float64(perOp)
	return func() {
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/"+unit)
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/"+unit)
	}
}

// chanPool is the hand-made worker pool: a fixed set of goroutines
// ranging over a buffered channel of functions.
type chanPool struct {
	jobs chan func()
	wg   sync.WaitGroup
}

func newChanPool(workers, buffer int) *chanPool {
	c := &chanPool{jobs: make(chan func(), buffer)}
	for range workers {
		c.wg.Go(func() {
			for job := range c.jobs {
				job()
			}
		})
	}
	return c
}

// close stops accepting jobs and waits for the workers to finish the rest.
func (c *chanPool) close() {
	close(c.jobs)
	c.wg.Wait()
}

// handFuture is the future people write by hand: a result and a channel
// closed once it is set, so that Wait can also honour a context.
type handFuture[T any] struct {
	done chan struct{}
	v    T
	err  error
}

func newHandFuture[T any]() *handFuture[T] {
	return &handFuture[T]{done: make(chan struct{})}
}

// resolve runs fn and publishes its result; it runs on a worker.
func (f *handFuture[T]) resolve(fn func() (T, error)) {
	f.v, f.err = fn()
	close(f.done)
}

func (f *handFuture[T]) Wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// handSubmit runs fn on the channel pool and returns its hand-made future.
func handSubmit[T any](c *chanPool, fn func() (T, error)) *handFuture[T] {
	f := newHandFuture[T]()
	c.jobs <- func() { f.resolve(fn) }
	return f
}

// newSkeinPool returns a pool of poolWorkers workers with opts, shut down (and
// checked to have run every task it accepted) when b ends.
func newSkeinPool(b *testing.B, opts ...pool.Option) *pool.Pool {
	p, err := pool.New(poolWorkers, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
		s := p.Stats()
		if s.Submitted != s.Completed {
			b.Errorf("skein pool: %d tasks submitted, %d completed", s.Submitted, s.Completed)
		}
	})
	return p
}

func newAntsPool(b *testing.B) *ants.Pool {
	p, err := ants.NewPool(poolWorkers)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.ReleaseTimeout(10 * time.Second); err != nil {
			b.Error(err)
		}
	})
	return p
}

func newPondPool(b *testing.B) pond.Pool {
	p := pond.NewPool(poolWorkers)
	b.Cleanup(p.StopAndWait)
	return p
}

func newPondResultPool[T any](b *testing.B) pond.ResultPool[T] {
	p := pond.NewResultPool[T](poolWorkers)
	b.Cleanup(p.StopAndWait)
	return p
}

func newChanPoolFor(b *testing.B) *chanPool {
	c := newChanPool(poolWorkers, poolChanBuffer)
	b.Cleanup(c.close)
	return c
}

// batchContender runs a batch of identical fire-and-forget tasks and waits
// for all of them, each executor in its own idiom.
type batchContender struct {
	name string
	// open prepares the executor for task and returns run, which submits
	// task n times and returns once all n have finished.
	open func(b *testing.B, task func()) (run func(n int))
}

// poolBatchContenders are the executors of the fire-and-forget and
// CPU-bound rows. Executors without a wait-for-all (goroutines, the
// channel pool, ants, pond's Go) count down a WaitGroup in the task.
var poolBatchContenders = []batchContender{
	{"goroutines", func(b *testing.B, task func()) func(int) {
		return func(n int) {
			var wg sync.WaitGroup
			for range n {
				wg.Go(task)
			}
			wg.Wait()
		}
	}},
	{"chanpool", func(b *testing.B, task func()) func(int) {
		c := newChanPoolFor(b)
		var wg sync.WaitGroup
		job := func() { task(); wg.Done() }
		return func(n int) {
			wg.Add(n)
			for range n {
				c.jobs <- job
			}
			wg.Wait()
		}
	}},
	{"ants", func(b *testing.B, task func()) func(int) {
		p := newAntsPool(b)
		var wg sync.WaitGroup
		job := func() { task(); wg.Done() }
		return func(n int) {
			wg.Add(n)
			for range n {
				if err := p.Submit(job); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
	{"pond", func(b *testing.B, task func()) func(int) {
		p := newPondPool(b)
		var wg sync.WaitGroup
		job := func() { task(); wg.Done() }
		return func(n int) {
			wg.Add(n)
			for range n {
				if err := p.Go(job); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}},
	{"conc", func(b *testing.B, task func()) func(int) {
		return func(n int) {
			p := concpool.New().WithMaxGoroutines(poolWorkers)
			for range n {
				p.Go(task)
			}
			p.Wait()
		}
	}},
	{"errgroup", func(b *testing.B, task func()) func(int) {
		job := func() error { task(); return nil }
		return func(n int) {
			var g errgroup.Group
			g.SetLimit(poolWorkers)
			for range n {
				g.Go(job)
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}},
	{"skein", func(b *testing.B, task func()) func(int) {
		p := newSkeinPool(b)
		ctx := context.Background()
		job := func(context.Context) error { task(); return nil }
		return func(n int) {
			for range n {
				if err := p.Go(ctx, job); err != nil {
					b.Fatal(err)
				}
			}
			if err := p.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}},
}

// tinyTask is the fire-and-forget task: nothing but the call, so the
// row measures the executor alone.
func tinyTask() {}

// BenchmarkPoolFireAndForget (row 1) submits poolTasks tiny tasks without
// futures, then waits for all of them. Every op of a peer is paired with
// one of skein (skein/x below 1: skein is faster). skein's target: faster
// than pond, within 1.3x of chanpool, 0 allocs/task.
func BenchmarkPoolFireAndForget(b *testing.B) {
	skein := poolBatchContenders[len(poolBatchContenders)-1]
	for _, c := range poolBatchContenders {
		b.Run(c.name, func(b *testing.B) {
			run := c.open(b, tinyTask)
			op := func() { run(poolTasks) }
			var ref func()
			if c.name != skein.name {
				runRef := skein.open(b, tinyTask)
				ref = func() { runRef(poolTasks) }
			}
			reportAllocs := measureAllocs(b, poolTasks, "task", op)
			m := &pairedMeter{b: b}
			for b.Loop() {
				m.op(op, ref)
			}
			m.report(poolTasks, "task", "skein/x")
			reportAllocs()
		})
	}
}

// futureValue is what every task of the future rows returns; the sum of
// the results checks that each task ran exactly once.
const futureValue = 3

func futureTask() (int, error)                     { return futureValue, nil }
func skeinFutureTask(context.Context) (int, error) { return futureValue, nil }

// futureContender runs a batch of tasks that each produce a typed result
// and returns the sum of the results.
type futureContender struct {
	name string
	open func(b *testing.B) (run func(n int) int)
}

// poolFutureContenders are the executors of the typed-result row. Where
// the library has no future (goroutines, chanpool, ants) the task resolves
// a handFuture; conc and pond's group return all results at once;
// errgroup writes each result into its slot of a slice.
var poolFutureContenders = []futureContender{
	{"goroutines", func(b *testing.B) func(int) int {
		fs := make([]*handFuture[int], poolTasks)
		return func(n int) int {
			for i := range n {
				f := newHandFuture[int]()
				go f.resolve(futureTask)
				fs[i] = f
			}
			return sumHandFutures(b, fs[:n])
		}
	}},
	{"chanpool", func(b *testing.B) func(int) int {
		c := newChanPoolFor(b)
		fs := make([]*handFuture[int], poolTasks)
		return func(n int) int {
			for i := range n {
				fs[i] = handSubmit(c, futureTask)
			}
			return sumHandFutures(b, fs[:n])
		}
	}},
	{"ants", func(b *testing.B) func(int) int {
		p := newAntsPool(b)
		fs := make([]*handFuture[int], poolTasks)
		return func(n int) int {
			for i := range n {
				f := newHandFuture[int]()
				if err := p.Submit(func() { f.resolve(futureTask) }); err != nil {
					b.Fatal(err)
				}
				fs[i] = f
			}
			return sumHandFutures(b, fs[:n])
		}
	}},
	{"pond-future", func(b *testing.B) func(int) int {
		p := newPondResultPool[int](b)
		fs := make([]pond.ResultTask[int], poolTasks)
		return func(n int) int {
			for i := range n {
				fs[i] = p.SubmitErr(futureTask)
			}
			sum := 0
			for _, f := range fs[:n] {
				v, err := f.Wait()
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			return sum
		}
	}},
	{"pond-group", func(b *testing.B) func(int) int {
		p := newPondResultPool[int](b)
		return func(n int) int {
			g := p.NewGroup()
			for range n {
				g.SubmitErr(futureTask)
			}
			vs, err := g.Wait()
			if err != nil {
				b.Fatal(err)
			}
			return sumInts(vs)
		}
	}},
	{"conc", func(b *testing.B) func(int) int {
		return func(n int) int {
			p := concpool.NewWithResults[int]().WithErrors().WithMaxGoroutines(poolWorkers)
			for range n {
				p.Go(futureTask)
			}
			vs, err := p.Wait()
			if err != nil {
				b.Fatal(err)
			}
			return sumInts(vs)
		}
	}},
	{"errgroup", func(b *testing.B) func(int) int {
		out := make([]int, poolTasks)
		return func(n int) int {
			var g errgroup.Group
			g.SetLimit(poolWorkers)
			for i := range n {
				g.Go(func() (err error) {
					out[i], err = futureTask()
					return err
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
			return sumInts(out[:n])
		}
	}},
	{"skein", func(b *testing.B) func(int) int {
		p := newSkeinPool(b)
		ctx := context.Background()
		fs := make([]*future.Future[int], poolTasks)
		return func(n int) int {
			for i := range n {
				fs[i] = pool.Submit(ctx, p, skeinFutureTask)
			}
			sum := 0
			for _, f := range fs[:n] {
				v, err := f.Wait(ctx)
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			return sum
		}
	}},
}

func sumHandFutures(b *testing.B, fs []*handFuture[int]) int {
	ctx := context.Background()
	sum := 0
	for _, f := range fs {
		v, err := f.Wait(ctx)
		if err != nil {
			b.Fatal(err)
		}
		sum += v
	}
	return sum
}

func sumInts(xs []int) int {
	sum := 0
	for _, x := range xs {
		sum += x
	}
	return sum
}

// BenchmarkPoolFutures (row 2) submits poolTasks tasks that each return a
// typed result, then waits for every result; every op of a peer is paired
// with one of skein. skein's target: at most 2 allocs/task and faster than
// every other contender.
func BenchmarkPoolFutures(b *testing.B) {
	benchFutureRow(b, poolFutureContenders, poolTasks)
}

// benchFutureRow runs each contender's batches of n tasks, paired with
// skein's (the last contender), and checks the sum of the results.
func benchFutureRow(b *testing.B, contenders []futureContender, n int) {
	skein := contenders[len(contenders)-1]
	for _, c := range contenders {
		b.Run(c.name, func(b *testing.B) {
			op := checkedFutureOp(b, c.open(b), n)
			var ref func()
			if c.name != skein.name {
				ref = checkedFutureOp(b, skein.open(b), n)
			}
			reportAllocs := measureAllocs(b, n, "task", op)
			m := &pairedMeter{b: b}
			for b.Loop() {
				m.op(op, ref)
			}
			m.report(n, "task", "skein/x")
			reportAllocs()
		})
	}
}

func checkedFutureOp(b *testing.B, run func(int) int, n int) func() {
	return func() {
		if got := run(n); got != n*futureValue {
			b.Fatalf("sum of results = %d, want %d", got, n*futureValue)
		}
	}
}

// poolRoundTripContenders submit one task and wait for its result, n
// times in a row, and return the sum of the results. conc and errgroup
// need a new group per task.
var poolRoundTripContenders = []futureContender{
	{"goroutines", func(b *testing.B) func(int) int {
		return roundTrips(func() *handFuture[int] {
			f := newHandFuture[int]()
			go f.resolve(futureTask)
			return f
		})
	}},
	{"chanpool", func(b *testing.B) func(int) int {
		c := newChanPoolFor(b)
		return roundTrips(func() *handFuture[int] { return handSubmit(c, futureTask) })
	}},
	{"ants", func(b *testing.B) func(int) int {
		p := newAntsPool(b)
		return roundTrips(func() *handFuture[int] {
			f := newHandFuture[int]()
			if err := p.Submit(func() { f.resolve(futureTask) }); err != nil {
				b.Fatal(err)
			}
			return f
		})
	}},
	{"pond", func(b *testing.B) func(int) int {
		p := newPondResultPool[int](b)
		return func(n int) int {
			sum := 0
			for range n {
				v, err := p.SubmitErr(futureTask).Wait()
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			return sum
		}
	}},
	{"conc", func(b *testing.B) func(int) int {
		return func(n int) int {
			sum := 0
			for range n {
				p := concpool.NewWithResults[int]().WithErrors().WithMaxGoroutines(poolWorkers)
				p.Go(futureTask)
				vs, err := p.Wait()
				if err != nil {
					b.Fatal(err)
				}
				sum += sumInts(vs)
			}
			return sum
		}
	}},
	{"errgroup", func(b *testing.B) func(int) int {
		return func(n int) int {
			sum := 0
			for range n {
				var g errgroup.Group
				g.SetLimit(poolWorkers)
				var v int
				g.Go(func() (err error) {
					v, err = futureTask()
					return err
				})
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			return sum
		}
	}},
	// skein-warm keeps every worker warm (WithMinWorkers), so a parked
	// worker waits on its channel alone, without an idle timer.
	{"skein-warm", func(b *testing.B) func(int) int {
		return skeinRoundTrips(b, newSkeinPool(b, pool.WithMinWorkers(poolWorkers)))
	}},
	{"skein", func(b *testing.B) func(int) int {
		return skeinRoundTrips(b, newSkeinPool(b))
	}},
}

// roundTrips makes n round trips through submit and sums the results.
func roundTrips(submit func() *handFuture[int]) func(int) int {
	ctx := context.Background()
	return func(n int) int {
		sum := 0
		for range n {
			v, _ := submit().Wait(ctx)
			sum += v
		}
		return sum
	}
}

func skeinRoundTrips(b *testing.B, p *pool.Pool) func(int) int {
	ctx := context.Background()
	return func(n int) int {
		sum := 0
		for range n {
			v, err := pool.Submit(ctx, p, skeinFutureTask).Wait(ctx)
			if err != nil {
				b.Fatal(err)
			}
			sum += v
		}
		return sum
	}
}

// roundTripsPerOp is the number of round trips one op makes in a row, so
// that timing an op costs little next to the round trips themselves.
const roundTripsPerOp = 100

// BenchmarkPoolRoundTrip (row 3) submits one task and waits for its
// result before submitting the next: the latency of waking an idle worker
// and being woken by it. Every op of a contender (roundTripsPerOp round
// trips) is paired with one of skein. skein's target: within 1.2x of
// chanpool (the hand-made future).
func BenchmarkPoolRoundTrip(b *testing.B) {
	benchFutureRow(b, poolRoundTripContenders, roundTripsPerOp)
}

// cpuWork is a CPU-bound task body: poolCPUIters rounds of xorshift, whose
// dependency chain the compiler can neither vectorise nor fold.
func cpuWork(seed uint64) uint64 {
	x := seed | 1
	for range poolCPUIters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// cpuCheck accumulates the results of the CPU-bound tasks, so that the
// work cannot be optimised away and every task is seen to have run.
var cpuCheck atomic.Uint64

func cpuTask() { cpuCheck.Add(cpuWork(1)) }

// cpuSequential runs the batch one task after the other on the calling
// goroutine: the yardstick of every speed-up.
func cpuSequential(n int, task func()) {
	for range n {
		task()
	}
}

// cpuIdeal is the ideal split: the batch cut into poolWorkers equal
// shares, run by as many goroutines with no executor at all.
func cpuIdeal(n int, task func()) {
	var wg sync.WaitGroup
	for w := range poolWorkers {
		share := n/poolWorkers + min(1, max(0, n%poolWorkers-w))
		wg.Go(func() {
			for range share {
				task()
			}
		})
	}
	wg.Wait()
}

// cpuIdealContender is the ideal split entered as a contender: its
// speed-up is the parallel capacity the VM gave during the run.
var cpuIdealContender = batchContender{"ideal", func(b *testing.B, task func()) func(int) {
	return func(n int) { cpuIdeal(n, task) }
}}

// BenchmarkPoolCPU (row 4) runs poolTasks CPU-bound tasks of about 10 µs
// each. The parallel capacity of the 2-vCPU VM swings from one second to
// the next, so every op also runs the batch sequentially and with the
// ideal split, in rotating order, and the ratios are taken within the op:
// speedup-x is sequential time over the contender's time, ideal-% is the
// ideal split's time over the contender's (100: as fast as the ideal
// split). ns/task counts the contender's batches only.
func BenchmarkPoolCPU(b *testing.B) {
	want := cpuWork(1)
	check := func(b *testing.B, run func(int)) time.Duration {
		cpuCheck.Store(0)
		start := time.Now()
		run(poolTasks)
		d := time.Since(start)
		if got := cpuCheck.Load(); got != want*poolTasks {
			b.Fatalf("checksum %d, want %d", got, want*poolTasks)
		}
		return d
	}
	for _, c := range slices.Concat([]batchContender{cpuIdealContender}, poolBatchContenders) {
		b.Run(c.name, func(b *testing.B) {
			run := c.open(b, cpuTask)
			seq := func(n int) { cpuSequential(n, cpuTask) }
			ideal := func(n int) { cpuIdeal(n, cpuTask) }
			var tSeq, tIdeal, tRun time.Duration
			round := 0
			for b.Loop() {
				// Rotate the order so that none of the three always runs
				// first, when the VM may have just changed its mind.
				runs := []func(int){seq, ideal, run}
				times := []*time.Duration{&tSeq, &tIdeal, &tRun}
				for i := range runs {
					j := (i + round) % len(runs)
					*times[j] += check(b, runs[j])
				}
				round++
			}
			n := float64(b.N) * poolTasks
			b.ReportMetric(float64(tRun.Nanoseconds())/n, "ns/task")
			b.ReportMetric(tSeq.Seconds()/tRun.Seconds(), "speedup-x")
			b.ReportMetric(100*tIdeal.Seconds()/tRun.Seconds(), "ideal-%")
		})
	}
}

// double is the per-item function of the Map rows.
func double(x int) int { return x * 2 }

func skeinDouble(_ context.Context, x int) (int, error) { return x * 2, nil }

// handMap is the hand-chunked parallel map: the input cut into
// poolWorkers contiguous shares, one goroutine each.
func handMap(in []int, fn func(int) int) []int {
	out := make([]int, len(in))
	share := (len(in) + poolWorkers - 1) / poolWorkers
	var wg sync.WaitGroup
	for lo := 0; lo < len(in); lo += share {
		src, dst := in[lo:min(lo+share, len(in))], out[lo:min(lo+share, len(in))]
		wg.Go(func() {
			for i, x := range src {
				dst[i] = fn(x)
			}
		})
	}
	wg.Wait()
	return out
}

// mapContender maps in with x*2 in input order. It returns the outputs,
// or nil when it consumed them as a stream (checking order and values
// itself). sample, when not nil, is called while the results are live.
type mapContender struct {
	name string
	run  func(b *testing.B, p *pool.Pool, in []int, sample func()) []int
}

var poolMapContenders = []mapContender{
	{"hand", func(b *testing.B, _ *pool.Pool, in []int, sample func()) []int {
		out := handMap(in, double)
		callIf(sample)
		return out
	}},
	{"conc-iter", func(b *testing.B, _ *pool.Pool, in []int, sample func()) []int {
		out := conciter.Map(in, func(x *int) int { return double(*x) })
		callIf(sample)
		return out
	}},
	{"skein-MapSlice", func(b *testing.B, p *pool.Pool, in []int, sample func()) []int {
		out, err := pool.MapSlice(context.Background(), p, in, skeinDouble, pool.WithChunkSize(poolMapChunk))
		if err != nil {
			b.Fatal(err)
		}
		callIf(sample)
		return out
	}},
	{"skein-Map", func(b *testing.B, p *pool.Pool, in []int, sample func()) []int {
		consumeSkeinMap(b, p, slices.Values(in), len(in), sample)
		return nil
	}},
}

func callIf(f func()) {
	if f != nil {
		f()
	}
}

// consumeSkeinMap streams the results of doubling inputs (0, 1, 2, ...,
// n-1 in some form) through pool.Map, checking order and values, and
// calls sample 16 times along the way.
func consumeSkeinMap(b *testing.B, p *pool.Pool, inputs iter.Seq[int], n int, sample func()) {
	every := max(n/16, 1)
	next := 0
	for r := range pool.Map(context.Background(), p, inputs, skeinDouble, pool.WithChunkSize(poolMapChunk)) {
		if r.Err != nil || r.Index != next || r.Value != 2*next {
			b.Fatalf("result %+v at position %d", r, next)
		}
		next++
		if sample != nil && next%every == 0 {
			sample()
		}
	}
	if next != n {
		b.Fatalf("%d results, want %d", next, n)
	}
}

// heapPeak tracks the largest live heap seen above a baseline.
type heapPeak struct{ base, peak uint64 }

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func newHeapPeak() *heapPeak { return &heapPeak{base: liveHeap()} }

func (h *heapPeak) sample() {
	if live := liveHeap(); live > h.base {
		h.peak = max(h.peak, live-h.base)
	}
}

// BenchmarkPoolMap (row 5) maps poolMapItems ints with x*2 in input order.
// skein's target: within 2x of hand, the hand-chunked loop. Unlike the
// other rows its ops are not paired with a reference: every op here
// allocates 8 to 16 MB, and a reference run in between changes the heap
// the next op finds (the other's garbage, pages handed back to the OS and
// faulted in again), which moved hand's time by up to 5x, far more than
// the drift pairing cancels; compare the medians of interleaved rounds.
// peak-live-B is the most live heap (after a forced GC, above the input)
// seen during one untimed run: the output slice costs 8 bytes per item,
// while skein's streaming Map holds only its window (see
// BenchmarkPoolMapWindow).
func BenchmarkPoolMap(b *testing.B) {
	in := make([]int, poolMapItems)
	for i := range in {
		in[i] = i
	}
	for _, c := range poolMapContenders {
		b.Run(c.name, func(b *testing.B) {
			p := newSkeinPool(b)
			h := newHeapPeak()
			checkMapOutput(b, in, c.run(b, p, in, h.sample))
			m := startPoolMeter(b, poolMapItems, "item")
			for b.Loop() {
				checkMapLen(b, in, c.run(b, p, in, nil))
			}
			m.stop()
			b.ReportMetric(float64(h.peak), "peak-live-B")
		})
	}
}

// checkMapOutput checks every output of a slice-returning contender.
func checkMapOutput(b *testing.B, in, out []int) {
	checkMapLen(b, in, out)
	for i, v := range out {
		if v != 2*in[i] {
			b.Fatalf("out[%d] = %d, want %d", i, v, 2*in[i])
		}
	}
}

// checkMapLen checks the length of a contender's outputs; nil means the
// contender streamed them and checked them itself.
func checkMapLen(b *testing.B, in, out []int) {
	if out != nil && len(out) != len(in) {
		b.Fatalf("%d outputs, want %d", len(out), len(in))
	}
}

// BenchmarkPoolMapWindow streams inputs that are generated on the fly
// (no input slice) through skein's ordered Map at growing lengths and
// reports peak-live-B: it stays flat, bounded by the window (4 x workers
// chunks of poolMapChunk items), whatever the number of items.
func BenchmarkPoolMapWindow(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000, 10_000_000} {
		b.Run(fmt.Sprintf("items=%d", n), func(b *testing.B) {
			p := newSkeinPool(b)
			inputs := func(yield func(int) bool) {
				for i := range n {
					if !yield(i) {
						return
					}
				}
			}
			h := newHeapPeak()
			consumeSkeinMap(b, p, inputs, n, h.sample)
			m := startPoolMeter(b, n, "item")
			for b.Loop() {
				consumeSkeinMap(b, p, inputs, n, nil)
			}
			m.stop()
			b.ReportMetric(float64(h.peak), "peak-live-B")
		})
	}
}

package bench

import (
	"context"
	"iter"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/proc"
)

// The proc benchmarks run worker processes of this test binary: proc.Main
// must run before anything else. It runs from init (TestMain belongs to
// bench_test.go); package-level registrations below are made before any
// init function, so workers know them.
func init() { proc.Main() }

var (
	procSquare = proc.Register("bench.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	procPid    = proc.Register("bench.pid", func(_ context.Context, _ int) (int, error) { return os.Getpid(), nil })
	procHang   = proc.Register("bench.hang", func(_ context.Context, _ int) (int, error) { select {} })
)

// BenchmarkProcSubmit is submit-to-result of tiny tasks with many in
// flight (256 submitted, then all awaited), per task: Python's
// ProcessPoolExecutor(2) submit/result loop. The goroutine pool row is
// the same work without crossing a process boundary, for reference.
// Compare with bench/python/process_pool.py ("submit").
// Reproduce: cd bench && go test -run '^$' -bench ProcSubmit -count=5 .
func BenchmarkProcSubmit(b *testing.B) {
	ctx := context.Background()
	b.Run("proc.Pool(2)", func(b *testing.B) {
		p, err := proc.New(2)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		procBurst(b, func(i int) *future.Future[int] { return proc.Submit(ctx, p, procSquare, i) })
	})
	b.Run("pool.Pool(2)", func(b *testing.B) {
		p, err := pool.New(2)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		procBurst(b, func(i int) *future.Future[int] {
			return pool.Submit(ctx, p, func(context.Context) (int, error) { return i * i, nil })
		})
	})
}

// procBurst submits b.N tasks 256 at a time and waits for each batch.
func procBurst(b *testing.B, submit func(int) *future.Future[int]) {
	ctx := context.Background()
	const inflight = 256
	fs := make([]*future.Future[int], 0, inflight)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += inflight {
		fs = fs[:0]
		for j := i; j < min(i+inflight, b.N); j++ {
			fs = append(fs, submit(j))
		}
		for k, f := range fs {
			if v, err := f.Wait(ctx); err != nil || v != (i+k)*(i+k) {
				b.Fatalf("task %d: %v, %v", i+k, v, err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "us/task")
}

// BenchmarkProcMap is proc.Map over b.N tiny tasks in chunks (Python's
// Pool(2).map(square, range(n), chunksize=c)), on two workers.
// Compare with bench/python/process_pool.py ("map", 1e6 tasks, chunks of
// 1000).
// Reproduce: cd bench && go test -run '^$' -bench ProcMap -benchtime=1000000x -count=5 .
func BenchmarkProcMap(b *testing.B) {
	for _, chunk := range []int{100, 1000} {
		b.Run("chunk="+strconv.Itoa(chunk), func(b *testing.B) {
			p, err := proc.New(2)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			n := 0
			for r := range proc.Map(ctx, p, procSquare, procInts(b.N), proc.WithChunkSize(chunk)) {
				if r.Err != nil || r.Value != r.Index*r.Index {
					b.Fatalf("result %+v", r)
				}
				n++
			}
			if n != b.N {
				b.Fatalf("%d results, want %d", n, b.N)
			}
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "tasks/s")
			b.ReportMetric(rate/2, "tasks/s/worker")
		})
	}
}

// BenchmarkProcStart is the time from proc.New(2) to the first result
// (then the pool is closed, off the clock). Python: ProcessPoolExecutor(2)
// with fork and with spawn.
func BenchmarkProcStart(b *testing.B) {
	ctx := context.Background()
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := proc.New(2)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := proc.Submit(ctx, p, procSquare, 3).Wait(ctx); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		p.Close()
		b.StartTimer()
	}
	b.ReportMetric(total.Seconds()*1e3/float64(b.N), "ms/first-result")
}

// BenchmarkProcReplace is the time from SIGKILL of a worker to the first
// result of its replacement, on a pool of one worker: the worker is
// killed while it runs a task that never returns, which fails with a
// *proc.WorkerError; the next task waits for the replacement. Python's
// multiprocessing.Pool notices a dead worker by polling every 0.1 s;
// ProcessPoolExecutor breaks instead (BrokenProcessPool).
func BenchmarkProcReplace(b *testing.B) {
	ctx := context.Background()
	p, err := proc.New(1, proc.WithInflight(1))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		victim, err := proc.Submit(ctx, p, procPid, 0).Wait(ctx)
		if err != nil {
			b.Fatal(err)
		}
		stuck := proc.Submit(ctx, p, procHang, 0)
		b.StartTimer()
		start := time.Now()
		if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
			b.Fatal(err)
		}
		if _, err := stuck.Wait(ctx); err == nil {
			b.Fatal("the task of the killed worker succeeded")
		}
		got, err := proc.Submit(ctx, p, procPid, 0).Wait(ctx)
		if err != nil || got == victim {
			b.Fatalf("after the kill: pid %d (victim %d), %v", got, victim, err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()*1e3/float64(b.N), "ms/replacement")
}

func procInts(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

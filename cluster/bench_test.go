package cluster

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/proc"
)

// The benchmarks run the same tiny task (square) through the cluster
// (an embedded JetStream server and two worker processes) and through a
// proc.Pool of two worker processes, side by side in one run:
//
//	cd cluster && go test -run '^$' -bench . -count 5
//
// Throughput keeps a window of tasks in flight; Latency has one task in
// flight at a time (the submit-to-result round trip).

// benchWorkers is how many tasks each cluster worker process runs at once.
const benchWorkers = "64"

func benchCluster(b *testing.B) *Executor {
	b.Helper()
	ctx := context.Background()
	e, err := New(ctx, WithDataDir(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	for range 2 {
		startChild(b, "worker "+e.URL()+" "+benchWorkers)
	}
	// Warm up: both workers connected and pulling.
	for _, f := range submitSquares(ctx, e, 0, 200) {
		if _, err := f.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

func benchProc(b *testing.B) *proc.Pool {
	b.Helper()
	p, err := proc.New(2)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func BenchmarkThroughput(b *testing.B) {
	b.Run("cluster", func(b *testing.B) {
		e := benchCluster(b)
		runThroughput(b, func(ctx context.Context, i int) *future.Future[int] { return Submit(ctx, e, square, i) })
	})
	b.Run("proc", func(b *testing.B) {
		p := benchProc(b)
		runThroughput(b, func(ctx context.Context, i int) *future.Future[int] { return proc.Submit(ctx, p, procSquare, i) })
	})
}

func BenchmarkLatency(b *testing.B) {
	b.Run("cluster", func(b *testing.B) {
		e := benchCluster(b)
		runLatency(b, func(ctx context.Context, i int) *future.Future[int] { return Submit(ctx, e, square, i) })
	})
	b.Run("proc", func(b *testing.B) {
		p := benchProc(b)
		runLatency(b, func(ctx context.Context, i int) *future.Future[int] { return proc.Submit(ctx, p, procSquare, i) })
	})
}

func BenchmarkMapSlice(b *testing.B) {
	const chunk = 256
	in := make([]int, 10000)
	for i := range in {
		in[i] = i
	}
	b.Run("cluster", func(b *testing.B) {
		e := benchCluster(b)
		runMap(b, in, func(ctx context.Context) ([]int, error) { return MapSlice(ctx, e, square, in, WithChunkSize(chunk)) })
	})
	b.Run("proc", func(b *testing.B) {
		p := benchProc(b)
		runMap(b, in, func(ctx context.Context) ([]int, error) {
			return proc.MapSlice(ctx, p, procSquare, in, proc.WithChunkSize(chunk))
		})
	})
}

// procSquare is square for the proc pool (same function, its own name).
var procSquare = proc.Register("cluster.bench.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

// runThroughput submits b.N tasks with up to window in flight and
// reports tasks/s and the submit-to-result latency percentiles.
func runThroughput(b *testing.B, submit func(context.Context, int) *future.Future[int]) {
	const window = 2048
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	slots := make(chan struct{}, window)
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		slots <- struct{}{}
		wg.Add(1)
		t0 := time.Now()
		submit(ctx, i).OnDone(func(v int, err error) {
			if err != nil || v != i*i {
				b.Errorf("task %d: %v %v", i, v, err)
			}
			lat[i] = time.Since(t0)
			<-slots
			wg.Done()
		})
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(b.N)/el.Seconds(), "tasks/s")
}

// runLatency runs b.N tasks one after the other.
func runLatency(b *testing.B, submit func(context.Context, int) *future.Future[int]) {
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if v, err := submit(ctx, i).Wait(ctx); err != nil || v != i*i {
			b.Fatalf("task %d: %v %v", i, v, err)
		}
		lat[i] = time.Since(t0)
	}
	b.StopTimer()
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

func runMap(b *testing.B, in []int, run func(context.Context) ([]int, error)) {
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		out, err := run(ctx)
		if err != nil || out[len(in)-1] != (len(in)-1)*(len(in)-1) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/time.Since(start).Seconds(), "tasks/s")
}

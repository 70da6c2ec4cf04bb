package pool_test

import (
	"context"
	"runtime"
	"slices"
	"testing"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
)

// The peer comparisons live in the bench module; these benchmarks track
// the pool's own costs. Each op is one task unless stated.

func benchPool(b *testing.B, opts ...pool.Option) *pool.Pool {
	p, err := pool.New(runtime.NumCPU(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func BenchmarkGo(b *testing.B) {
	p := benchPool(b)
	ctx := context.Background()
	task := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		p.Go(ctx, task)
	}
	p.Wait(ctx)
}

func BenchmarkSubmitThenWaitAll(b *testing.B) {
	p := benchPool(b)
	ctx := context.Background()
	task := func(context.Context) (int, error) { return 1, nil }
	fs := make([]*future.Future[int], 0, 10_000)
	b.ReportAllocs()
	for b.Loop() {
		fs = append(fs, pool.Submit(ctx, p, task))
		if len(fs) == cap(fs) {
			for _, f := range fs {
				f.Wait(ctx)
			}
			fs = fs[:0]
		}
	}
	for _, f := range fs {
		f.Wait(ctx)
	}
}

func BenchmarkSubmitRoundTrip(b *testing.B) {
	p := benchPool(b)
	ctx := context.Background()
	task := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		pool.Submit(ctx, p, task).Wait(ctx)
	}
}

func BenchmarkMapSliceChunked(b *testing.B) {
	p := benchPool(b)
	ctx := context.Background()
	in := make([]int, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		pool.MapSlice(ctx, p, in, func(_ context.Context, x int) (int, error) { return 2 * x, nil }, pool.WithChunkSize(4096))
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/item")
}

func BenchmarkMapStreamChunked(b *testing.B) {
	p := benchPool(b)
	ctx := context.Background()
	in := make([]int, 1<<20)
	b.ReportAllocs()
	for b.Loop() {
		for r := range pool.Map(ctx, p, slices.Values(in), func(_ context.Context, x int) (int, error) { return 2 * x, nil }, pool.WithChunkSize(4096)) {
			_ = r
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(in)), "ns/item")
}

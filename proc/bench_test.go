package proc

import (
	"context"
	"iter"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
)

// BenchmarkSubmit measures submit-to-result with many tasks in flight:
// each op is one tiny task (square) on a pool of two workers.
func BenchmarkSubmit(b *testing.B) {
	p := newTestPool(b, 2, benchOpts...)
	ctx := context.Background()
	const inflight = 256
	fs := make([]*future.Future[int], 0, inflight)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += inflight {
		fs = fs[:0]
		for j := i; j < min(i+inflight, b.N); j++ {
			fs = append(fs, Submit(ctx, p, square, j))
		}
		for _, f := range fs {
			if _, err := f.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkMapChunked measures Map over tiny tasks in chunks of 1000.
func BenchmarkMapChunked(b *testing.B) {
	p := newTestPool(b, 2)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for r := range Map(ctx, p, square, count(b.N), WithChunkSize(1000)) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		n++
	}
	if n != b.N {
		b.Fatalf("%d results, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds()/2, "tasks/s/worker")
}

func count(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// BenchmarkStart measures New to the first result, then Close.
func BenchmarkStart(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		p, err := New(2)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Submit(ctx, p, square, 3).Wait(ctx); err != nil {
			b.Fatal(err)
		}
		p.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/start")
}

var _ = time.Second

var benchOpts []Option

package resource_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/skein-go/skein/resource"
)

// BenchmarkAcquireRelease borrows and gives back a resource from a pool of
// 4 shared by 8 goroutines (on 2 CPUs: GOMAXPROCS × 4), reporting loans
// per second.
func BenchmarkAcquireRelease(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []resource.Option
	}{
		{"plain", nil},
		{"with-timeouts", []resource.Option{resource.WithIdleTimeout(time.Minute), resource.WithMaxLifetime(time.Hour)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			p, err := resource.New(4,
				func(context.Context) (*int, error) { return new(int), nil },
				func(*int) {}, tc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b.ReportAllocs()
			b.SetParallelism(8 / max(1, runtime.GOMAXPROCS(0)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r, err := p.Acquire(ctx)
					if err != nil {
						b.Error(err)
						return
					}
					*r.Value()++
					_ = r.Release()
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loans/s")
		})
	}
}

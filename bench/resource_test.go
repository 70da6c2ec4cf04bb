package bench

import (
	"context"
	"runtime"
	"testing"

	"github.com/jackc/puddle/v2"

	"github.com/skein-go/skein/resource"
)

// resourcePoolSize and resourceGoroutines shape BenchmarkResource: more
// borrowers than resources, so that borrowers really wait for each other.
const (
	resourcePoolSize   = 4
	resourceGoroutines = 8
)

// BenchmarkResource borrows and gives back a resource, with
// resourceGoroutines goroutines sharing a pool of resourcePoolSize, side by
// side:
//
//   - skein: resource.Pool (FIFO-fair, context-aware);
//   - puddle: github.com/jackc/puddle/v2, the pool under pgx;
//   - chan: a buffered channel of pre-built resources with a ctx select,
//     the hand-rolled baseline (no lazy creation, health checks or stats).
//
// Compare with bench/python/connection_pool.py (the seed's semaphore pool).
// Reproduce: cd bench && go test -run '^$' -bench Resource -count=5 .
func BenchmarkResource(b *testing.B) {
	newInt := func(context.Context) (*int, error) { return new(int), nil }
	b.Run("skein", func(b *testing.B) {
		p, err := resource.New(resourcePoolSize, newInt, func(*int) {})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close(context.Background())
		resourceBench(b, func(ctx context.Context) error {
			r, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			*r.Value()++
			return r.Release()
		})
	})
	b.Run("puddle", func(b *testing.B) {
		p, err := puddle.NewPool(&puddle.Config[*int]{
			Constructor: newInt,
			Destructor:  func(*int) {},
			MaxSize:     resourcePoolSize,
		})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		resourceBench(b, func(ctx context.Context) error {
			r, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			*r.Value()++
			r.Release()
			return nil
		})
	})
	b.Run("chan", func(b *testing.B) {
		ch := make(chan *int, resourcePoolSize)
		for range resourcePoolSize {
			ch <- new(int)
		}
		resourceBench(b, func(ctx context.Context) error {
			select {
			case v := <-ch:
				*v++
				ch <- v
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	})
}

// resourceBench runs loan (acquire, use, release) in a loop on
// resourceGoroutines goroutines and reports loans per second.
func resourceBench(b *testing.B, loan func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	b.SetParallelism(max(1, resourceGoroutines/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := loan(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loans/s")
}

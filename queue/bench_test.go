package queue_test

import (
	"cmp"
	"context"
	"testing"

	"github.com/skein-go/skein/queue"
)

// benchPutGet moves b.N items from one producer to one consumer through q
// with a cancellable context, reporting items per second.
func benchPutGet(b *testing.B, q *queue.Queue[int]) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if _, err := q.Get(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	for i := range b.N {
		if err := q.Put(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

func BenchmarkPutGetBounded(b *testing.B) {
	for _, tc := range []struct {
		name string
		make func() (*queue.Queue[int], error)
	}{
		{"fifo", func() (*queue.Queue[int], error) { return queue.New[int](queue.WithCapacity(1024)) }},
		{"lifo", func() (*queue.Queue[int], error) { return queue.NewLIFO[int](queue.WithCapacity(1024)) }},
		{"priority", func() (*queue.Queue[int], error) {
			return queue.NewPriority(cmp.Less[int], queue.WithCapacity(1024))
		}},
		{"fifo-cap1", func() (*queue.Queue[int], error) { return queue.New[int](queue.WithCapacity(1)) }},
		{"fifo-unbounded", func() (*queue.Queue[int], error) { return queue.New[int]() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q, err := tc.make()
			if err != nil {
				b.Fatal(err)
			}
			benchPutGet(b, q)
		})
	}
}

func BenchmarkTryPutTryGet(b *testing.B) {
	q, _ := queue.New[int](queue.WithCapacity(64))
	b.ReportAllocs()
	for i := range b.N {
		_ = q.TryPut(i)
		_, _ = q.TryGet()
	}
}

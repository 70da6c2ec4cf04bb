package ipc

import (
	"context"
	"fmt"
	"testing"

	"github.com/skein-go/skein/proc"
)

type queueDrainArg struct {
	Q *Queue[[]byte]
	N int
}

// queueBenchDrain takes N items from the queue and returns how many bytes
// they held.
var queueBenchDrain = proc.Register("ipc.test.queue.drain", func(ctx context.Context, a queueDrainArg) (int, error) {
	total := 0
	for range a.N {
		v, err := a.Q.Get(ctx)
		if err != nil {
			return total, err
		}
		total += len(v)
	}
	return total, nil
})

// BenchmarkQueueTwoProcesses puts b.N messages in this process and gets
// them in a worker process.
func BenchmarkQueueTwoProcesses(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			q, err := NewQueue[[]byte](WithBufferSize(4 << 20))
			if err != nil {
				b.Fatal(err)
			}
			defer q.Release()
			ctx := context.Background()
			msg := make([]byte, size)
			// Warm up: start the worker and attach the queue before timing.
			p, err := proc.Start(ctx, queueBenchDrain, queueDrainArg{Q: q, N: b.N + 1})
			if err != nil {
				b.Fatal(err)
			}
			q.Put(ctx, msg)
			b.ReportAllocs()
			b.SetBytes(int64(size))
			b.ResetTimer()
			for range b.N {
				if err := q.Put(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			total, err := p.Wait(ctx)
			b.StopTimer()
			if err != nil || total != (b.N+1)*size {
				b.Fatalf("worker: %d bytes, %v", total, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkQueueTwoGoroutines is BenchmarkQueueTwoProcesses with the
// consumer on a goroutine of this process: the same shared memory path,
// without a second process.
func BenchmarkQueueTwoGoroutines(b *testing.B) {
	q, err := NewQueue[[]byte](WithBufferSize(4 << 20))
	if err != nil {
		b.Fatal(err)
	}
	defer q.Release()
	ctx := context.Background()
	msg := make([]byte, 64)
	done := make(chan int)
	go func() {
		total := 0
		for range b.N {
			v, _ := q.Get(ctx)
			total += len(v)
		}
		done <- total
	}()
	b.ReportAllocs()
	for range b.N {
		if err := q.Put(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkQueuePutGet is one Put and one Get by the same goroutine: the
// cost of the code path alone, without any cache line crossing cores.
func BenchmarkQueuePutGet(b *testing.B) {
	q, err := NewQueue[[]byte]()
	if err != nil {
		b.Fatal(err)
	}
	defer q.Release()
	ctx := context.Background()
	msg := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		if err := q.Put(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q.Get(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

package bench

import (
	"context"
	"sync"
	"testing"

	"github.com/skein-go/skein/queue"
)

// queueCapacity is the bound of every queue in the BenchmarkQueue rows.
const queueCapacity = 1024

// BenchmarkQueue moves items from one producer goroutine to one consumer
// goroutine through a bounded FIFO of queueCapacity items, side by side:
//
//   - skein: queue.Queue with a cancellable context on every Put and Get;
//   - chan-select-ctx: a buffered channel, each side selecting on ctx.Done()
//     as code that honours cancellation must;
//   - mutex-2cond: a ring under one mutex with two sync.Conds (the seed's
//     BoundedBuffer done right), which cannot honour a context at all;
//   - chan-no-ctx: a bare buffered channel, for reference.
//
// Compare with bench/python/bounded_buffer.py (the seed's BoundedBuffer).
// Reproduce: cd bench && go test -run '^$' -bench Queue -count=5 .
func BenchmarkQueue(b *testing.B) {
	b.Run("skein", func(b *testing.B) {
		q, err := queue.New[int](queue.WithCapacity(queueCapacity))
		if err != nil {
			b.Fatal(err)
		}
		queueBench(b,
			func(ctx context.Context, v int) error { return q.Put(ctx, v) },
			q.Get)
	})
	b.Run("chan-select-ctx", func(b *testing.B) {
		ch := make(chan int, queueCapacity)
		queueBench(b,
			func(ctx context.Context, v int) error {
				select {
				case ch <- v:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			},
			func(ctx context.Context) (int, error) {
				select {
				case v := <-ch:
					return v, nil
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			})
	})
	b.Run("mutex-2cond", func(b *testing.B) {
		q := newCondQueue[int](queueCapacity)
		queueBench(b,
			func(_ context.Context, v int) error { q.put(v); return nil },
			func(context.Context) (int, error) { return q.get(), nil })
	})
	b.Run("chan-no-ctx", func(b *testing.B) {
		ch := make(chan int, queueCapacity)
		queueBench(b,
			func(_ context.Context, v int) error { ch <- v; return nil },
			func(context.Context) (int, error) { return <-ch, nil })
	})
}

// queueBench runs b.N puts on the benchmark goroutine against b.N gets on a
// consumer goroutine and reports items per second.
func queueBench(b *testing.B, put func(context.Context, int) error, get func(context.Context) (int, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	done := make(chan int)
	go func() {
		sum := 0
		for range b.N {
			v, err := get(ctx)
			if err != nil {
				b.Error(err)
				break
			}
			sum += v
		}
		done <- sum
	}()
	for i := range b.N {
		if err := put(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	if sum, want := <-done, b.N*(b.N-1)/2; sum != want {
		b.Fatalf("consumer summed %d, want %d", sum, want)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// condQueue is the classic bounded buffer: a ring guarded by one mutex,
// with one condition for "not full" and one for "not empty".
type condQueue[T any] struct {
	mu                sync.Mutex
	notFull, notEmpty sync.Cond
	ring              []T
	head, n           int
}

func newCondQueue[T any](capacity int) *condQueue[T] {
	q := &condQueue[T]{ring: make([]T, capacity)}
	q.notFull.L, q.notEmpty.L = &q.mu, &q.mu
	return q
}

func (q *condQueue[T]) put(v T) {
	q.mu.Lock()
	for q.n == len(q.ring) {
		q.notFull.Wait()
	}
	i := q.head + q.n
	if i >= len(q.ring) {
		i -= len(q.ring)
	}
	q.ring[i] = v
	q.n++
	q.notEmpty.Signal()
	q.mu.Unlock()
}

func (q *condQueue[T]) get() T {
	q.mu.Lock()
	for q.n == 0 {
		q.notEmpty.Wait()
	}
	v := q.ring[q.head]
	var zero T
	q.ring[q.head] = zero
	q.head++
	if q.head == len(q.ring) {
		q.head = 0
	}
	q.n--
	q.notFull.Signal()
	q.mu.Unlock()
	return v
}

package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/skein-go/skein/queue"
)

// TestQueueMatchesModel drives one queue through random single-goroutine
// operations and checks every answer against a plain slice.
func TestQueueMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		order := rapid.SampledFrom([]string{"fifo", "lifo", "priority"}).Draw(t, "order")
		capacity := rapid.IntRange(0, 40).Draw(t, "capacity")
		var opts []queue.Option
		if capacity > 0 {
			opts = append(opts, queue.WithCapacity(capacity))
		}
		q := mustQueue(t, order, opts...)
		var (
			model      []int
			closed     bool
			unfinished int
		)
		next := func() int { // index in model of the item Get must return
			switch order {
			case "lifo":
				return len(model) - 1
			case "priority":
				return slices.Index(model, slices.Min(model)) // first of equals
			}
			return 0
		}
		t.Repeat(map[string]func(*rapid.T){
			"put": func(t *rapid.T) {
				v := rapid.IntRange(0, 20).Draw(t, "v")
				err := q.TryPut(v)
				switch {
				case closed:
					if !errors.Is(err, queue.ErrClosed) {
						t.Fatalf("TryPut on closed queue: %v", err)
					}
				case capacity > 0 && len(model) == capacity:
					if !errors.Is(err, queue.ErrFull) {
						t.Fatalf("TryPut on full queue: %v", err)
					}
				case err != nil:
					t.Fatalf("TryPut: %v", err)
				default:
					model = append(model, v)
					unfinished++
				}
			},
			"get": func(t *rapid.T) {
				v, err := q.TryGet()
				switch {
				case len(model) > 0:
					i := next()
					if err != nil || v != model[i] {
						t.Fatalf("TryGet = %d, %v; want %d", v, err, model[i])
					}
					model = slices.Delete(model, i, i+1)
				case closed:
					if !errors.Is(err, queue.ErrClosed) {
						t.Fatalf("TryGet on drained closed queue: %v", err)
					}
				default:
					if !errors.Is(err, queue.ErrEmpty) {
						t.Fatalf("TryGet on empty queue: %v", err)
					}
				}
			},
			"taskDone": func(t *rapid.T) {
				err := q.TaskDone()
				if unfinished == 0 {
					if !errors.Is(err, queue.ErrTooManyTaskDone) {
						t.Fatalf("TaskDone with nothing unfinished: %v", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("TaskDone: %v", err)
				}
				unfinished--
			},
			"close": func(t *rapid.T) {
				q.Close()
				closed = true
			},
			"": func(t *rapid.T) {
				if q.Len() != len(model) {
					t.Fatalf("Len = %d, want %d", q.Len(), len(model))
				}
			},
		})
	})
}

// TestConcurrentPutGetCloseNeverLosesOrDuplicates runs producers, consumers
// (some of whose Gets are cancelled mid-wait) and a Close at a random
// moment; every item a Put accepted must come out of exactly one Get.
func TestConcurrentPutGetCloseNeverLosesOrDuplicates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		order := rapid.SampledFrom([]string{"fifo", "lifo", "priority"}).Draw(t, "order")
		capacity := rapid.IntRange(0, 8).Draw(t, "capacity")
		producers := rapid.IntRange(1, 4).Draw(t, "producers")
		consumers := rapid.IntRange(1, 4).Draw(t, "consumers")
		perProducer := rapid.IntRange(0, 60).Draw(t, "perProducer")
		closeAfter := rapid.IntRange(0, producers*perProducer+1).Draw(t, "closeAfter")
		cancelEvery := rapid.IntRange(2, 10).Draw(t, "cancelEvery")
		var opts []queue.Option
		if capacity > 0 {
			opts = append(opts, queue.WithCapacity(capacity))
		}
		q := mustQueue(t, order, opts...)

		var (
			mu       sync.Mutex
			accepted = map[int]bool{}
			puts     int
			got      = map[int]int{}
		)
		var wg sync.WaitGroup
		for p := range producers {
			wg.Go(func() {
				for i := range perProducer {
					v := p*perProducer + i
					err := q.Put(context.Background(), v)
					mu.Lock()
					if err == nil {
						accepted[v] = true
					} else if !errors.Is(err, queue.ErrClosed) {
						t.Errorf("Put(%d): %v", v, err)
					}
					puts++
					if puts == closeAfter {
						q.Close()
					}
					mu.Unlock()
				}
			})
		}
		var cwg sync.WaitGroup
		for range consumers {
			cwg.Go(func() {
				for n := 1; ; n++ {
					ctx, cancel := context.WithCancel(context.Background())
					if n%cancelEvery == 0 {
						// Cancel while this Get may be parked or being served.
						go cancel()
					}
					v, err := q.Get(ctx)
					cancel()
					switch {
					case err == nil:
						mu.Lock()
						got[v]++
						mu.Unlock()
					case errors.Is(err, queue.ErrClosed):
						return
					case !errors.Is(err, context.Canceled):
						t.Errorf("Get: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		q.Close() // consumers stop once the queue is drained
		cwg.Wait()

		for v, n := range got {
			if n != 1 || !accepted[v] {
				t.Fatalf("item %d came out %d times (accepted: %v)", v, n, accepted[v])
			}
		}
		if len(got) != len(accepted) {
			t.Fatalf("%d items accepted, %d came out", len(accepted), len(got))
		}
	})
}

// TestHeavyConcurrentUseNeverLosesOrDuplicates is the property above at a
// volume rapid's small draws rarely reach, for each kind of buffer.
func TestHeavyConcurrentUseNeverLosesOrDuplicates(t *testing.T) {
	for _, tc := range []struct {
		order    string
		capacity int
	}{
		{"fifo", 0}, {"fifo", 1}, {"fifo", 2}, {"fifo", 3}, {"fifo", 64},
		{"lifo", 4}, {"priority", 4},
	} {
		t.Run(fmt.Sprintf("%s capacity %d", tc.order, tc.capacity), func(t *testing.T) {
			const producers, consumers, perProducer = 4, 4, 3000
			var opts []queue.Option
			if tc.capacity > 0 {
				opts = append(opts, queue.WithCapacity(tc.capacity))
			}
			q := mustQueue(t, tc.order, opts...)
			var pwg, cwg sync.WaitGroup
			accepted := make([][]bool, producers)
			for p := range producers {
				accepted[p] = make([]bool, perProducer)
				pwg.Go(func() {
					for i := range perProducer {
						err := q.Put(context.Background(), p*perProducer+i)
						accepted[p][i] = err == nil
						if p == 0 && i == perProducer*3/4 {
							q.Close() // mid-stream: later Puts fail, nothing accepted is lost
						}
					}
				})
			}
			got := make([][]int, consumers)
			for c := range consumers {
				cwg.Go(func() {
					for n := 0; ; n++ {
						ctx, cancel := context.WithCancel(context.Background())
						if n%7 == 0 {
							go cancel()
						}
						v, err := q.Get(ctx)
						cancel()
						if errors.Is(err, queue.ErrClosed) {
							return
						}
						if err == nil {
							got[c] = append(got[c], v)
						}
					}
				})
			}
			pwg.Wait()
			cwg.Wait()
			seen := make([]int, producers*perProducer)
			for _, vs := range got {
				for _, v := range vs {
					seen[v]++
				}
			}
			for v, n := range seen {
				want := 0
				if accepted[v/perProducer][v%perProducer] {
					want = 1
				}
				if n != want {
					t.Fatalf("item %d came out %d times, want %d", v, n, want)
				}
			}
		})
	}
}

package queue_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/queue"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fataler is what mustQueue needs of *testing.T and *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// mustQueue builds a queue of ints for the named order or fails the test.
func mustQueue(t fataler, order string, opts ...queue.Option) *queue.Queue[int] {
	t.Helper()
	var (
		q   *queue.Queue[int]
		err error
	)
	switch order {
	case "fifo":
		q, err = queue.New[int](opts...)
	case "lifo":
		q, err = queue.NewLIFO[int](opts...)
	case "priority":
		q, err = queue.NewPriority(cmp.Less[int], opts...)
	default:
		t.Fatalf("unknown order %q", order)
	}
	if err != nil {
		t.Fatalf("new %s queue: %v", order, err)
	}
	return q
}

func putAll(t *testing.T, q *queue.Queue[int], vs ...int) {
	t.Helper()
	for _, v := range vs {
		if err := q.Put(context.Background(), v); err != nil {
			t.Fatalf("Put(%d): %v", v, err)
		}
	}
}

// fillUp puts 1, 2, ... into a bounded queue until it is full and returns
// what it put.
func fillUp(t *testing.T, q *queue.Queue[int]) []int {
	t.Helper()
	var items []int
	for v := 1; v <= q.Cap(); v++ {
		items = append(items, v)
	}
	putAll(t, q, items...)
	return items
}

// drain takes every item with TryGet until the queue reports empty.
func drain(t *testing.T, q *queue.Queue[int]) []int {
	t.Helper()
	var got []int
	for {
		v, err := q.TryGet()
		if err != nil {
			return got
		}
		got = append(got, v)
	}
}

func TestGetReturnsItemsInTheQueuesOrder(t *testing.T) {
	tests := []struct {
		order string
		want  []int
	}{
		{"fifo", []int{5, 1, 4, 2, 3}},
		{"lifo", []int{3, 2, 4, 1, 5}},
		{"priority", []int{1, 2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.order, func(t *testing.T) {
			q := mustQueue(t, tt.order)
			putAll(t, q, 5, 1, 4, 2, 3)
			var got []int
			for range 5 {
				v, err := q.Get(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPriorityQueueKeepsInsertionOrderAmongEqualItems(t *testing.T) {
	type job struct {
		prio int
		name string
	}
	q, err := queue.NewPriority(func(a, b job) bool { return a.prio < b.prio })
	if err != nil {
		t.Fatal(err)
	}
	in := []job{{2, "a"}, {1, "b"}, {2, "c"}, {1, "d"}, {2, "e"}, {1, "f"}}
	for _, j := range in {
		if err := q.TryPut(j); err != nil {
			t.Fatal(err)
		}
	}
	var got string
	for range in {
		j, err := q.TryGet()
		if err != nil {
			t.Fatal(err)
		}
		got += j.name
	}
	if got != "bdface" {
		t.Fatalf("got order %q, want %q", got, "bdface")
	}
}

func TestConstructorsRejectInvalidArguments(t *testing.T) {
	tests := []struct {
		name string
		make func() error
	}{
		{"zero capacity", func() error { _, err := queue.New[int](queue.WithCapacity(0)); return err }},
		{"negative capacity", func() error { _, err := queue.NewLIFO[int](queue.WithCapacity(-3)); return err }},
		{"nil option", func() error { _, err := queue.New[int](nil); return err }},
		{"nil less", func() error { _, err := queue.NewPriority[int](nil); return err }},
		{"priority with zero capacity", func() error {
			_, err := queue.NewPriority(cmp.Less[int], queue.WithCapacity(0))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.make(); !errors.Is(err, queue.ErrInvalidOption) {
				t.Fatalf("got %v, want an error wrapping ErrInvalidOption", err)
			}
		})
	}
}

func TestTryPutReportsFullAndTryGetReportsEmpty(t *testing.T) {
	for _, order := range []string{"fifo", "lifo", "priority"} {
		t.Run(order, func(t *testing.T) {
			q := mustQueue(t, order, queue.WithCapacity(2))
			if _, err := q.TryGet(); !errors.Is(err, queue.ErrEmpty) {
				t.Fatalf("TryGet on empty queue: got %v, want ErrEmpty", err)
			}
			putAll(t, q, 1, 2)
			if err := q.TryPut(3); !errors.Is(err, queue.ErrFull) {
				t.Fatalf("TryPut on full queue: got %v, want ErrFull", err)
			}
			if q.Len() != 2 || q.Cap() != 2 {
				t.Fatalf("Len, Cap = %d, %d; want 2, 2", q.Len(), q.Cap())
			}
		})
	}
}

func TestClosedQueueRejectsPutsAndDrainsBeforeErrClosed(t *testing.T) {
	for _, order := range []string{"fifo", "lifo", "priority"} {
		t.Run(order, func(t *testing.T) {
			ctx := context.Background()
			q := mustQueue(t, order)
			putAll(t, q, 7, 8)
			q.Close()
			q.Close() // idempotent
			if err := q.Put(ctx, 9); !errors.Is(err, queue.ErrClosed) {
				t.Fatalf("Put after Close: got %v, want ErrClosed", err)
			}
			if err := q.TryPut(9); !errors.Is(err, queue.ErrClosed) {
				t.Fatalf("TryPut after Close: got %v, want ErrClosed", err)
			}
			if _, err := q.Get(ctx); err != nil {
				t.Fatalf("first Get after Close: %v", err)
			}
			if _, err := q.TryGet(); err != nil {
				t.Fatalf("second Get after Close: %v", err)
			}
			if _, err := q.Get(ctx); !errors.Is(err, queue.ErrClosed) {
				t.Fatalf("Get on drained closed queue: got %v, want ErrClosed", err)
			}
			if _, err := q.TryGet(); !errors.Is(err, queue.ErrClosed) {
				t.Fatalf("TryGet on drained closed queue: got %v, want ErrClosed", err)
			}
		})
	}
}

func TestCloseWakesBlockedGettersWithErrClosed(t *testing.T) {
	// Unbounded buffers under the mutex; capacity 8 in the lock-free ring.
	for _, opts := range [][]queue.Option{nil, {queue.WithCapacity(8)}} {
		t.Run(fmt.Sprintf("%d options", len(opts)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := mustQueue(t, "fifo", opts...)
				errs := make(chan error, 3)
				for range 3 {
					go func() {
						_, err := q.Get(context.Background())
						errs <- err
					}()
				}
				synctest.Wait()
				q.Close()
				for range 3 {
					if err := <-errs; !errors.Is(err, queue.ErrClosed) {
						t.Fatalf("blocked Get after Close: got %v, want ErrClosed", err)
					}
				}
			})
		})
	}
}

func TestCloseFailsBlockedPuttersWithoutAddingTheirItems(t *testing.T) {
	// Capacity 1 buffers under the mutex; 2 and more in the lock-free ring.
	for _, capacity := range []int{1, 2} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
				filled := fillUp(t, q)
				errs := make(chan error, 2)
				for v := range 2 {
					go func() { errs <- q.Put(ctx, 10+v) }()
				}
				synctest.Wait()
				q.Close()
				for range 2 {
					if err := <-errs; !errors.Is(err, queue.ErrClosed) {
						t.Fatalf("blocked Put after Close: got %v, want ErrClosed", err)
					}
				}
				if got := drain(t, q); !slices.Equal(got, filled) {
					t.Fatalf("closed queue held %v, want %v", got, filled)
				}
			})
		})
	}
}

func TestPutWaitsWhileFullUntilAGetMakesRoom(t *testing.T) {
	for _, capacity := range []int{1, 2} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
				filled := fillUp(t, q)
				done := make(chan error, 1)
				go func() { done <- q.Put(ctx, 99) }()
				synctest.Wait()
				select {
				case err := <-done:
					t.Fatalf("Put on a full queue returned %v without waiting", err)
				default:
				}
				if v, err := q.Get(ctx); v != 1 || err != nil {
					t.Fatalf("Get = %d, %v; want 1, nil", v, err)
				}
				if err := <-done; err != nil {
					t.Fatalf("waiting Put: %v", err)
				}
				if got := drain(t, q); !slices.Equal(got, append(filled[1:], 99)) {
					t.Fatalf("queue holds %v, want %v", got, append(filled[1:], 99))
				}
			})
		})
	}
}

func TestParkedGettersAreServedInArrivalOrder(t *testing.T) {
	// Unbounded buffers under the mutex; capacity 8 in the lock-free ring.
	for _, opts := range [][]queue.Option{nil, {queue.WithCapacity(8)}} {
		t.Run(fmt.Sprintf("%d options", len(opts)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := mustQueue(t, "fifo", opts...)
				got := make([]chan int, 4)
				for i := range got {
					got[i] = make(chan int, 1)
					go func() {
						v, _ := q.Get(context.Background())
						got[i] <- v
					}()
					synctest.Wait() // getter i is parked before getter i+1 starts
				}
				putAll(t, q, 0, 1, 2, 3)
				for i := range got {
					if v := <-got[i]; v != i {
						t.Fatalf("getter %d got %d", i, v)
					}
				}
			})
		})
	}
}

func TestParkedPuttersAreAcceptedInArrivalOrder(t *testing.T) {
	// Capacity 1 buffers under the mutex; 2 and more in the lock-free ring.
	for _, capacity := range []int{1, 2} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
				filled := fillUp(t, q)
				var wg sync.WaitGroup
				for v := capacity + 1; v <= capacity+3; v++ {
					wg.Go(func() {
						if err := q.Put(ctx, v); err != nil {
							t.Errorf("Put(%d): %v", v, err)
						}
					})
					synctest.Wait()
				}
				for want := 1; want <= len(filled)+3; want++ {
					if v, err := q.Get(ctx); v != want || err != nil {
						t.Fatalf("Get = %d, %v; want %d", v, err, want)
					}
				}
				wg.Wait()
			})
		})
	}
}

func TestBlockedCallsReturnCtxErrWhenCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		empty := mustQueue(t, "fifo")
		if _, err := empty.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get on empty queue past deadline: got %v", err)
		}
		full := mustQueue(t, "lifo", queue.WithCapacity(1))
		putAll(t, full, 1)
		ctx2, cancel2 := context.WithCancel(context.Background())
		errs := make(chan error, 1)
		go func() { errs <- full.Put(ctx2, 2) }()
		synctest.Wait()
		cancel2()
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Put: got %v", err)
		}
		if got := drain(t, full); !slices.Equal(got, []int{1}) {
			t.Fatalf("queue holds %v after a cancelled Put, want [1]", got)
		}
		// The cancelled waiters left their lists: the queues still work.
		putAll(t, empty, 3)
		if v, err := empty.Get(context.Background()); v != 3 || err != nil {
			t.Fatalf("Get after a cancelled Get = %d, %v", v, err)
		}
	})
}

func TestDoneContextFailsBeforeAnythingElse(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := mustQueue(t, "fifo")
	putAll(t, q, 1)
	if err := q.Put(ctx, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put: got %v, want context.Canceled", err)
	}
	if _, err := q.Get(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get: got %v, want context.Canceled", err)
	}
	if err := q.Join(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Join: got %v, want context.Canceled", err)
	}
	if q.Len() != 1 {
		t.Fatalf("Len = %d, want 1", q.Len())
	}
}

// TestLateCancelNeverLosesAnItem races a cancellation against a hand-over
// to a parked getter and to a parked putter: whichever wins, the item ends
// up in exactly one place.
func TestLateCancelNeverLosesAnItem(t *testing.T) {
	// Capacity 1 buffers under the mutex; 2 and more in the lock-free ring.
	for _, capacity := range []int{1, 2} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			for range 200 {
				synctest.Test(t, func(t *testing.T) {
					q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
					ctx, cancel := context.WithCancel(context.Background())
					type result struct {
						v   int
						err error
					}
					res := make(chan result, 1)
					go func() {
						v, err := q.Get(ctx)
						res <- result{v, err}
					}()
					synctest.Wait()
					cancel()
					putAll(t, q, 42)
					r := <-res
					left := drain(t, q)
					switch {
					case r.err == nil && r.v == 42 && len(left) == 0:
					case errors.Is(r.err, context.Canceled) && slices.Equal(left, []int{42}):
					default:
						t.Fatalf("Get returned %d, %v and the queue holds %v", r.v, r.err, left)
					}
				})
				synctest.Test(t, func(t *testing.T) {
					q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
					filled := fillUp(t, q)
					ctx, cancel := context.WithCancel(context.Background())
					errs := make(chan error, 1)
					go func() { errs <- q.Put(ctx, 99) }()
					synctest.Wait()
					cancel()
					if v, err := q.Get(context.Background()); v != 1 || err != nil {
						t.Fatalf("Get = %d, %v; want 1", v, err)
					}
					err := <-errs
					left := drain(t, q)
					switch {
					case err == nil && slices.Equal(left, append(filled[1:], 99)):
					case errors.Is(err, context.Canceled) && slices.Equal(left, filled[1:]):
					default:
						t.Fatalf("Put returned %v and the queue holds %v", err, left)
					}
				})
			}
		})
	}
}

func TestTaskDoneCalledTooOftenFails(t *testing.T) {
	q := mustQueue(t, "fifo")
	if err := q.TaskDone(); !errors.Is(err, queue.ErrTooManyTaskDone) {
		t.Fatalf("TaskDone on a fresh queue: got %v", err)
	}
	putAll(t, q, 1)
	if _, err := q.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); err != nil {
		t.Fatalf("first TaskDone: %v", err)
	}
	if err := q.TaskDone(); !errors.Is(err, queue.ErrTooManyTaskDone) {
		t.Fatalf("second TaskDone: got %v", err)
	}
}

func TestJoinWaitsUntilEveryItemIsMarkedDone(t *testing.T) {
	// Capacity 1 buffers under the mutex; 2 and more in the lock-free ring.
	for _, capacity := range []int{1, 2} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				q := mustQueue(t, "fifo", queue.WithCapacity(capacity))
				fillUp(t, q)
				go func() { _ = q.Put(ctx, 99) }() // parked: its item counts once accepted
				synctest.Wait()
				joined := make(chan error, 1)
				go func() { joined <- q.Join(ctx) }()
				for range capacity + 1 {
					if _, err := q.Get(ctx); err != nil {
						t.Fatal(err)
					}
					synctest.Wait()
					select {
					case err := <-joined:
						t.Fatalf("Join returned %v before every item was done", err)
					default:
					}
					if err := q.TaskDone(); err != nil {
						t.Fatal(err)
					}
				}
				if err := <-joined; err != nil {
					t.Fatalf("Join: %v", err)
				}
				if err := q.Join(ctx); err != nil {
					t.Fatalf("Join with nothing unfinished: %v", err)
				}
			})
		})
	}
}

func TestJoinReturnsCtxErrWhenCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := mustQueue(t, "fifo")
		putAll(t, q, 1)
		q.Close() // Close does not release Join
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := q.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Join: got %v, want DeadlineExceeded", err)
		}
	})
}

func TestAllYieldsUntilClosedAndDrained(t *testing.T) {
	q := mustQueue(t, "fifo")
	putAll(t, q, 1, 2, 3)
	q.Close()
	var got []int
	for v := range q.All(context.Background()) {
		got = append(got, v)
	}
	if !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("got %v", got)
	}
}

func TestAllStopsWhenCtxEndsOrTheLoopBreaks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := mustQueue(t, "fifo")
		putAll(t, q, 1, 2, 3)
		for v := range q.All(context.Background()) {
			if v == 2 {
				break
			}
		}
		if got := drain(t, q); !slices.Equal(got, []int{3}) {
			t.Fatalf("after breaking at 2 the queue holds %v, want [3]", got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n := 0
		for range q.All(ctx) {
			n++
		}
		if n != 0 || ctx.Err() == nil {
			t.Fatalf("All on an empty open queue yielded %d items, ctx.Err() = %v", n, ctx.Err())
		}
	})
}

func TestZeroValueIsAnUnboundedFIFOQueue(t *testing.T) {
	var q queue.Queue[string]
	for _, s := range []string{"a", "b", "c"} {
		if err := q.TryPut(s); err != nil {
			t.Fatal(err)
		}
	}
	if q.Cap() != 0 || q.Len() != 3 {
		t.Fatalf("Cap, Len = %d, %d; want 0, 3", q.Cap(), q.Len())
	}
	if v, err := q.Get(context.Background()); v != "a" || err != nil {
		t.Fatalf("Get = %q, %v", v, err)
	}
}

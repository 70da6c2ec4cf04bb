package queue_test

import (
	"cmp"
	"context"
	"fmt"
	"sync"

	"github.com/skein-go/skein/queue"
)

// A bounded queue between one producer and three consumers. The producer
// closes the queue when it is done; the consumers drain it and stop, with
// no sentinel values.
func Example() {
	ctx := context.Background()
	q, err := queue.New[int](queue.WithCapacity(4))
	if err != nil {
		panic(err)
	}

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		sum int
	)
	for range 3 {
		wg.Go(func() {
			for v := range q.All(ctx) {
				mu.Lock()
				sum += v
				mu.Unlock()
			}
		})
	}
	for i := 1; i <= 100; i++ {
		if err := q.Put(ctx, i); err != nil {
			panic(err)
		}
	}
	q.Close()
	wg.Wait()
	fmt.Println("sum:", sum)
	// Output: sum: 5050
}

// A priority queue hands out the smallest item first; equal priorities keep
// their insertion order.
func ExampleNewPriority() {
	type job struct {
		priority int
		name     string
	}
	q, err := queue.NewPriority(func(a, b job) bool { return cmp.Less(a.priority, b.priority) })
	if err != nil {
		panic(err)
	}
	_ = q.TryPut(job{2, "write report"})
	_ = q.TryPut(job{1, "fix outage"})
	_ = q.TryPut(job{2, "answer mail"})
	q.Close()
	for j := range q.All(context.Background()) {
		fmt.Println(j.priority, j.name)
	}
	// Output:
	// 1 fix outage
	// 2 write report
	// 2 answer mail
}

// Join waits until every item has been processed, not merely taken: the
// workers call TaskDone after each one, as with Python's queue.
func ExampleQueue_Join() {
	ctx := context.Background()
	q, _ := queue.New[string]()
	results := make(chan string, 3)
	var wg sync.WaitGroup
	wg.Go(func() {
		for name := range q.All(ctx) {
			results <- "processed " + name
			_ = q.TaskDone()
		}
	})
	for _, name := range []string{"a", "b", "c"} {
		_ = q.Put(ctx, name)
	}
	if err := q.Join(ctx); err != nil {
		panic(err)
	}
	fmt.Println(len(results), "items processed")
	q.Close()
	wg.Wait()
	// Output: 3 items processed
}

// TryPut and TryGet never block; they report a full or empty queue.
func ExampleQueue_TryPut() {
	q, _ := queue.NewLIFO[int](queue.WithCapacity(2))
	fmt.Println(q.TryPut(1), q.TryPut(2), q.TryPut(3))
	v, err := q.TryGet()
	fmt.Println(v, err)
	// Output:
	// <nil> <nil> queue: full
	// 2 <nil>
}

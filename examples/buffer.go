package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/skein-go/skein/queue"
)

func init() {
	register(Demo{
		Name:    "buffer",
		Summary: "the seed's BoundedBuffer as a queue.Queue: producers, consumers, Join and Close, every item consumed exactly once",
		Run:     bufferDemo,
	})
}

// bufferItem is one piece of work: which producer made it, and its number
// in that producer's sequence.
type bufferItem struct {
	producer, seq int
}

// bufferDemo runs producers and consumers on a small bounded queue. The
// producers block whenever the queue is full; the consumers mark each item
// done; the main goroutine waits for every item to be processed (Join) and
// then closes the queue, which ends the consumers' loops: no sentinel
// values, no polling.
func bufferDemo(ctx context.Context, w io.Writer) (string, error) {
	const producers, consumers, perProducer, capacity = 4, 3, 5000, 8
	const total = producers * perProducer

	q, err := queue.New[bufferItem](queue.WithCapacity(capacity))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(w, "a queue of capacity %d between %d producers and %d consumers, %d items each producer\n",
		q.Cap(), producers, consumers, perProducer)
	fmt.Fprintln(w, "(the seed's BoundedBuffer gives each Condition its own lock and fails on its first put;")
	fmt.Fprintln(w, " queue.Queue keeps its buffer and its waiters under one lock)")

	start := time.Now()
	got := make([][]bufferItem, consumers) // got[c] is written by consumer c only
	var consumersDone sync.WaitGroup
	for c := range consumers {
		consumersDone.Go(func() {
			for item := range q.All(ctx) {
				got[c] = append(got[c], item)
				_ = q.TaskDone() // cannot fail: every item taken was put
			}
		})
	}

	putErrs := make(chan error, producers)
	var producersDone sync.WaitGroup
	for p := range producers {
		producersDone.Go(func() {
			for seq := range perProducer {
				if err := q.Put(ctx, bufferItem{p, seq}); err != nil {
					putErrs <- fmt.Errorf("producer %d: %w", p, err)
					return
				}
			}
		})
	}
	producersDone.Wait()
	close(putErrs)
	err = <-putErrs // the first producer's error, if any
	if err == nil {
		err = q.Join(ctx) // wait until every item put has been processed
	}
	q.Close() // the consumers drain what is left and stop
	consumersDone.Wait()
	elapsed := time.Since(start)
	if err != nil {
		return "", err
	}
	if err := q.Put(ctx, bufferItem{}); !errors.Is(err, queue.ErrClosed) {
		return "", fmt.Errorf("a Put after Close returned %v, want queue.ErrClosed", err)
	}

	if err := bufferCheck(got, producers, perProducer); err != nil {
		return "", err
	}
	for c, items := range got {
		fmt.Fprintf(w, "consumer %d took %5d items\n", c, len(items))
	}
	fmt.Fprintf(w, "%d items in %v (%.1f M items/s); after Close, Put fails with %q\n",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds()/1e6, queue.ErrClosed)
	return fmt.Sprintf("%d items from %d producers consumed exactly once by %d consumers, in each producer's order",
		total, producers, consumers), nil
}

// bufferCheck verifies that every item was consumed exactly once and that
// each consumer saw each producer's items in the order they were put (the
// queue is first in, first out).
func bufferCheck(got [][]bufferItem, producers, perProducer int) error {
	seen := make([][]int, producers)
	for p := range seen {
		seen[p] = make([]int, perProducer)
	}
	for c, items := range got {
		last := make([]int, producers)
		for p := range last {
			last[p] = -1
		}
		for _, it := range items {
			if it.seq <= last[it.producer] {
				return fmt.Errorf("consumer %d got item %d of producer %d after item %d", c, it.seq, it.producer, last[it.producer])
			}
			last[it.producer] = it.seq
			seen[it.producer][it.seq]++
		}
	}
	for p := range seen {
		for seq, n := range seen[p] {
			if n != 1 {
				return fmt.Errorf("item %d of producer %d consumed %d times", seq, p, n)
			}
		}
	}
	return nil
}

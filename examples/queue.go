package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

func init() {
	register(Demo{
		Name:    "queue",
		Summary: "the seed's producer/consumer over multiprocessing.Queue: two producer and two consumer processes share an ipc.Queue; Close replaces the None sentinel",
		Run:     queueDemo,
	})
}

// queueJob is the seed's item, {"id": i, "data": f"item_{i}"}, plus the
// producer that made it (two producers run here).
type queueJob struct {
	Producer int
	ID       int
	Data     string
}

// queueProducerArgs is what a producer process gets: the queue itself
// (a *ipc.Queue travels as a task argument, like Python's), its number,
// and how many items to make.
type queueProducerArgs struct {
	Queue    *ipc.Queue[queueJob]
	Producer int
	N        int
}

// queueConsumed is a consumer's report: its pid and the items it got, in
// the order it got them.
type queueConsumed struct {
	Pid  int
	Jobs []queueJob
}

// queueProducer is the seed's producer(queue, n), minus the sentinel: the
// parent closes the queue once every producer is done.
var queueProducer = proc.Register("queue.producer", func(ctx context.Context, a queueProducerArgs) (int, error) {
	for i := range a.N {
		job := queueJob{Producer: a.Producer, ID: i, Data: fmt.Sprintf("item_%d", i)}
		if err := a.Queue.Put(ctx, job); err != nil {
			return i, err
		}
	}
	return os.Getpid(), nil
})

// queueConsumer is the seed's consumer(queue): it takes items until the
// queue is closed and drained, which Get reports as ipc.ErrClosed.
var queueConsumer = proc.Register("queue.consumer", func(ctx context.Context, q *ipc.Queue[queueJob]) (queueConsumed, error) {
	got := queueConsumed{Pid: os.Getpid()}
	for {
		job, err := q.Get(ctx)
		if errors.Is(err, ipc.ErrClosed) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got.Jobs = append(got.Jobs, job)
		q.TaskDone()
	}
})

func queueDemo(ctx context.Context, w io.Writer) (string, error) {
	const producers, consumers, perProducer = 2, 2, 500

	// A small capacity makes the producers wait for the consumers now
	// and then: backpressure, as with Queue(maxsize=16).
	q, err := ipc.NewQueue[queueJob](ipc.WithCapacity(16))
	if err != nil {
		return "", err
	}
	defer q.Release()

	// Consumers first, so that both are waiting when the items come.
	var cons []*proc.Process[queueConsumed]
	for range consumers {
		c, err := proc.Start(ctx, queueConsumer, q)
		if err != nil {
			return "", err
		}
		defer c.Kill()
		cons = append(cons, c)
	}
	var prods []*proc.Process[int]
	for p := range producers {
		pr, err := proc.Start(ctx, queueProducer, queueProducerArgs{Queue: q, Producer: p, N: perProducer})
		if err != nil {
			return "", err
		}
		defer pr.Kill() // only does something if we return early
		prods = append(prods, pr)
	}
	fmt.Fprintf(w, "started %d producer and %d consumer processes on one ipc.Queue (capacity 16)\n", producers, consumers)

	for i, pr := range prods {
		pid, err := pr.Wait(ctx)
		if err != nil {
			return "", fmt.Errorf("producer %d: %w", i, err)
		}
		fmt.Fprintf(w, "producer %d (pid %d) put %d items\n", i, pid, perProducer)
	}
	// Every item put has been taken and marked done: the JoinableQueue
	// way to know the work is finished, not merely handed out.
	if err := q.Join(ctx); err != nil {
		return "", err
	}
	// No sentinel: Close tells every consumer, in every process, that
	// nothing more will come once the queue is drained.
	if err := q.Close(); err != nil {
		return "", err
	}

	seen := make(map[queueJob]bool)
	for i, c := range cons {
		got, err := c.Wait(ctx)
		if err != nil {
			return "", fmt.Errorf("consumer %d: %w", i, err)
		}
		fmt.Fprintf(w, "consumer %d (pid %d) got %d items, first %+v\n", i, got.Pid, len(got.Jobs), queueFirst(got.Jobs))
		if err := queueCheck(got.Jobs, seen); err != nil {
			return "", fmt.Errorf("consumer %d: %w", i, err)
		}
	}
	if len(seen) != producers*perProducer {
		return "", fmt.Errorf("%d distinct items received, want %d", len(seen), producers*perProducer)
	}
	return fmt.Sprintf("%d items from %d producer processes received exactly once by %d consumer processes, in order per producer; Close ended the consumers",
		len(seen), producers, consumers), nil
}

// queueCheck checks one consumer's items: none seen before, and each
// producer's items in increasing order (items of one producer are
// delivered in the order it put them).
func queueCheck(jobs []queueJob, seen map[queueJob]bool) error {
	last := map[int]int{}
	for _, j := range jobs {
		if seen[j] {
			return fmt.Errorf("item %+v received twice", j)
		}
		seen[j] = true
		if prev, ok := last[j.Producer]; ok && j.ID <= prev {
			return fmt.Errorf("producer %d's item %d came after its item %d", j.Producer, j.ID, prev)
		}
		last[j.Producer] = j.ID
		if j.Data != fmt.Sprintf("item_%d", j.ID) {
			return fmt.Errorf("item %+v carries the wrong data", j)
		}
	}
	return nil
}

func queueFirst(jobs []queueJob) any {
	if len(jobs) == 0 {
		return "none"
	}
	return jobs[0]
}

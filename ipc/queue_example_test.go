package ipc_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

// queueExampleProducer runs in a worker process: it puts three words in
// the queue it was handed.
var queueExampleProducer = proc.Register("ipc.example.producer", func(ctx context.Context, q *ipc.Queue[string]) (int, error) {
	for _, w := range []string{"alpha", "beta", "gamma"} {
		if err := q.Put(ctx, w); err != nil {
			return 0, err
		}
	}
	return 3, nil
})

// A producer process and a consumer (this process) share a queue. The
// program's main (here the test binary's TestMain) calls proc.Main first,
// so that the worker process can run queueExampleProducer.
func ExampleQueue() {
	ctx := context.Background()
	q, err := ipc.NewQueue[string](ipc.WithCapacity(8))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Release() // this process is done with it; the queue stays open for others

	p, err := proc.Start(ctx, queueExampleProducer, q) // the queue is a task argument
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := p.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	q.Close() // no more items: Get drains the queue, then reports ErrClosed
	for {
		w, err := q.Get(ctx)
		if errors.Is(err, ipc.ErrClosed) {
			break
		}
		fmt.Println(w)
	}
	// Output:
	// alpha
	// beta
	// gamma
}

// TaskDone and Join are Python's JoinableQueue: Join returns once every
// item put has been marked done, by whichever process took it.
func ExampleQueue_Join() {
	ctx := context.Background()
	q, err := ipc.NewQueue[int]()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer q.Release()
	for i := range 3 {
		q.Put(ctx, i)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			v, _ := q.Get(ctx)
			fmt.Println("processed", v)
			q.TaskDone()
		}
	}()
	if err := q.Join(ctx); err != nil {
		fmt.Println(err)
	}
	<-done
	fmt.Println("all done")
	// Output:
	// processed 0
	// processed 1
	// processed 2
	// all done
}

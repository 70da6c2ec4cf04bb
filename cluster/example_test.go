package cluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/skein-go/skein/cluster"
	"github.com/skein-go/skein/proc"
)

// Task functions are registered at package level, in every binary that
// submits or serves them.
var Square = proc.Register("example.cluster.square", func(_ context.Context, x int) (int, error) {
	return x * x, nil
})

// An executor with an embedded JetStream server and workers in the same
// process: a whole cluster in one program. Other machines could join it
// with cluster.Serve(ctx, e.URL()).
func Example() {
	ctx := context.Background()
	e, err := cluster.New(ctx, cluster.WithLocalWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	v, err := cluster.Submit(ctx, e, Square, 12).Wait(ctx)
	fmt.Println(v, err)

	out, err := cluster.MapSlice(ctx, e, Square, []int{1, 2, 3, 4, 5})
	fmt.Println(out, err)

	if err := e.Shutdown(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println(e.Stats().Completed)
	// Output:
	// 144 <nil>
	// [1 4 9 16 25] <nil>
	// 6
}

// A Dict is a map every program of the cluster shares; Update is an
// atomic read-modify-write.
func ExampleDict() {
	ctx := context.Background()
	e, err := cluster.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	hits, err := cluster.OpenDict[int](ctx, e, "hits")
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		hits.Update(ctx, "home", func(n int, _ bool) (int, error) { return n + 1, nil })
	}
	n, _, err := hits.Get(ctx, "home")
	fmt.Println(n, err)
	// Output:
	// 3 <nil>
}

// A Lock held by a program that dies is released after its TTL.
func ExampleLock() {
	ctx := context.Background()
	e, err := cluster.New(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()

	l, err := cluster.NewLock(ctx, e, "nightly-report", 10*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := l.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("holding the lock")
	fmt.Println(l.Unlock(ctx))
	// Output:
	// holding the lock
	// <nil>
}

package resource_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/skein-go/skein/resource"
)

// client stands for anything expensive to open: a connection, a session.
type client struct{ id int }

// A pool of at most two clients shared by five workers: clients are built
// on first use and reused after.
func Example() {
	ctx := context.Background()
	var built int
	open := func(context.Context) (*client, error) {
		built++ // constructions never run at the same time here: see below
		return &client{id: built}, nil
	}
	closeClient := func(c *client) { /* c.Close() */ }

	pool, err := resource.New(2, open, closeClient)
	if err != nil {
		panic(err)
	}

	// Build both clients up front, one after the other, to keep the
	// example's counter simple.
	a, _ := pool.Acquire(ctx)
	b, _ := pool.Acquire(ctx)
	_ = a.Release()
	_ = b.Release()

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			res, err := pool.Acquire(ctx)
			if err != nil {
				fmt.Println(err)
				return
			}
			defer res.Release()
			_ = res.Value() // use the client
		})
	}
	wg.Wait()

	if err := pool.Close(ctx); err != nil {
		panic(err)
	}
	s := pool.Stats()
	fmt.Printf("built %d, lent %d times, destroyed %d\n", s.Constructed, s.Acquires, s.Destroyed)
	// Output: built 2, lent 7 times, destroyed 2
}

// Destroy retires a resource the borrower found broken; the next Acquire
// gets a fresh one.
func ExampleResource_Destroy() {
	ctx := context.Background()
	next := 0
	pool, _ := resource.New(1,
		func(context.Context) (int, error) { next++; return next, nil },
		func(int) {})
	defer pool.Close(ctx)

	res, _ := pool.Acquire(ctx)
	fmt.Println("got", res.Value(), "- it is broken")
	_ = res.Destroy()

	res, _ = pool.Acquire(ctx)
	fmt.Println("got", res.Value())
	_ = res.Release()
	// Output:
	// got 1 - it is broken
	// got 2
}

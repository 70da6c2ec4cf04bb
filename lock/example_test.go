package lock_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/skein-go/skein/lock"
)

// account is the seed's bank account, with the balance in cents.
type account struct {
	mu      lock.Mutex // guards balance
	balance int64
}

// transfer moves cents between two accounts; All takes both locks in one
// global order, so opposite transfers cannot deadlock.
func transfer(ctx context.Context, from, to *account, cents int64) error {
	held, err := lock.All(ctx, &from.mu, &to.mu)
	if err != nil {
		return err
	}
	defer held.Unlock()
	if from.balance < cents {
		return errors.New("insufficient funds")
	}
	from.balance -= cents
	to.balance += cents
	return nil
}

func ExampleAll() {
	ctx := context.Background()
	a, b := &account{balance: 10_000}, &account{balance: 10_000}
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { _ = transfer(ctx, a, b, 100) })
		wg.Go(func() { _ = transfer(ctx, b, a, 100) })
	}
	wg.Wait()
	fmt.Println(a.balance + b.balance)
	// Output: 20000
}

func ExampleMutex_Lock() {
	var mu lock.Mutex
	_ = mu.Lock(context.Background())

	// A second Lock waits until the deadline and gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := mu.Lock(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	mu.Unlock()
	// Output: true
}

func ExampleReentrant() {
	var r lock.Reentrant
	ctx, err := r.Lock(context.Background())
	if err != nil {
		return
	}
	// Code holding the owning context may take the lock again.
	inner, _ := r.Lock(ctx)
	fmt.Println("owner re-entered:", r.Owns(inner))
	_ = r.Unlock(inner)

	// A context that does not carry ownership cannot release it.
	err = r.Unlock(context.Background())
	fmt.Println(errors.Is(err, lock.ErrNotOwner))
	_ = r.Unlock(ctx)
	// Output:
	// owner re-entered: true
	// true
}

func ExampleChecker() {
	c, _ := lock.NewChecker(lock.WithReport(func(r lock.Report) {
		fmt.Printf("cycle: %s -> %s -> %s\n", r.Cycle[0].From, r.Cycle[0].To, r.Cycle[1].To)
	}))
	a := lock.NewMutex(lock.WithChecker(c), lock.WithName("A"))
	b := lock.NewMutex(lock.WithChecker(c), lock.WithName("B"))
	ctx := context.Background()

	// A then B ...
	_ = a.Lock(ctx)
	_ = b.Lock(ctx)
	b.Unlock()
	a.Unlock()
	// ... and later B then A: nothing hangs in this run, but two goroutines
	// doing this at the same time would deadlock, so it is reported.
	_ = b.Lock(ctx)
	_ = a.Lock(ctx)
	a.Unlock()
	b.Unlock()
	// Output: cycle: B -> A -> B
}

func ExampleSemaphore() {
	sem, _ := lock.NewSemaphore(2) // at most two connections at once
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if err := sem.Acquire(ctx, 1); err != nil {
				return
			}
			defer func() { _ = sem.Release(1) }()
			// use the connection
		})
	}
	wg.Wait()
	fmt.Println(sem.Available())
	// Output: 2
}

func ExampleEvent() {
	var ready lock.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ready.Wait(context.Background()); err == nil {
			fmt.Println("started")
		}
	}()
	ready.Set()
	<-done
	// Output: started
}

func ExampleBarrier() {
	b, _ := lock.NewBarrier(3, lock.WithAction(func() error {
		fmt.Println("all three arrived")
		return nil
	}))
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { _, _ = b.Wait(context.Background()) })
	}
	wg.Wait()
	// Output: all three arrived
}

//go:build linux

package shm_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/skein-go/skein/shm"
)

// A bounded semaphore of 2 lets two holders in at once; a third waits,
// and a release past the bound is refused, as Python's BoundedSemaphore.
func ExampleSemaphore() {
	seg, err := shm.New(shm.SemaphoreSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	slots, err := shm.SemaphoreAt(seg, 0, 2, 2) // BoundedSemaphore(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	_ = slots.Acquire(ctx)
	_ = slots.Acquire(ctx)
	fmt.Println("held:", 2-slots.Value(), "third gets in:", slots.TryAcquire())
	_ = slots.Release()
	_ = slots.Release()
	err = slots.Release()
	fmt.Println(errors.Is(err, shm.ErrOverRelease), slots.Value())
	// Output:
	// held: 2 third gets in: false
	// true 2
}

// An Event raised by one goroutine (or process) releases everyone waiting
// on it.
func ExampleEvent() {
	seg, err := shm.New(shm.EventSize)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	ready, err := shm.EventAt(seg, 0)
	if err != nil {
		fmt.Println(err)
		return
	}

	done := make(chan error)
	go func() { done <- ready.Wait(context.Background()) }()
	ready.Set()
	fmt.Println(<-done, ready.IsSet())
	ready.Clear()
	fmt.Println(ready.IsSet())
	// Output:
	// <nil> true
	// false
}

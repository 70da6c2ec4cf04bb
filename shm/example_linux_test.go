//go:build linux

package shm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/skein-go/skein/shm"
)

// The seed's shared Value('i') and Array('d'), and the layout a parent
// and its children agree on.
func Example() {
	seg, err := shm.New(64)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()

	mu, _ := shm.MutexAt(seg, 0)                // counter.get_lock()
	counter, _ := shm.ValueAt[int32](seg, 4)    // Value('i', 0)
	array, _ := shm.ArrayAt[float64](seg, 8, 5) // Array('d', [0.0] * 5)
	ctx := context.Background()

	for range 1000 {
		if err := mu.Lock(ctx); err != nil {
			fmt.Println(err)
			return
		}
		counter.Store(counter.Load() + 1)
		mu.Unlock()
	}
	array.Store(2, 3.5)
	fmt.Println(counter.Load(), array.Load(2))
	// Output: 1000 3.5
}

// A parent hands an anonymous segment to a child process through
// exec.Cmd.ExtraFiles; the child maps it with FromFD. The child's side is
// in the comment at the end.
func Example_childProcess() {
	seg, err := shm.New(8)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ROLE=child")
	cmd.ExtraFiles = []*os.File{seg.File()} // descriptor 3 in the child
	if err := cmd.Run(); err != nil {
		fmt.Println(err)
		return
	}
	hits, _ := shm.ValueAt[int64](seg, 0)
	fmt.Println("the child added", hits.Load())

	// In the child (os.Getenv("ROLE") == "child"):
	//
	//	seg, err := shm.FromFD(3)
	//	if err != nil { ... }
	//	defer seg.Close()
	//	hits, _ := shm.ValueAt[int64](seg, 0)
	//	hits.Add(1)
}

func ExampleValue() {
	seg, _ := shm.New(8)
	defer seg.Close()
	hits, _ := shm.ValueAt[int64](seg, 0)

	hits.Add(5)
	hits.Add(-2)
	swapped := hits.CompareAndSwap(3, 10)
	fmt.Println(hits.Load(), swapped)
	// Output: 10 true
}

func ExampleArray() {
	seg, _ := shm.New(32)
	defer seg.Close()
	temps, _ := shm.ArrayAt[float64](seg, 0, 4)

	for i := range temps.Len() {
		temps.Store(i, float64(i)*1.5)
	}
	temps.Add(3, 0.5)
	for i, t := range temps.All() {
		fmt.Println(i, t)
	}
	// Output:
	// 0 0
	// 1 1.5
	// 2 3
	// 3 5
}

// A Mutex whose holder died: Lock succeeds, reports it, and the caller
// repairs what the dead holder left half done before unlocking.
func ExampleMutex() {
	seg, _ := shm.New(16)
	defer seg.Close()
	mu, _ := shm.MutexAt(seg, 0)
	balance, _ := shm.ValueAt[int64](seg, 8)

	err := mu.Lock(context.Background())
	if errors.Is(err, shm.ErrOwnerDead) {
		balance.Store(0) // repair: recompute from a log, or reset
	} else if err != nil {
		fmt.Println(err)
		return
	}
	balance.Add(100)
	if err := mu.Unlock(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(balance.Load(), mu.TryLock() == nil)
	// Output: 100 true
}

// A named segment, Python's shared_memory.SharedMemory: one program
// creates it, any other attaches by name; the creator's Close unlinks it.
func ExampleCreate() {
	name := fmt.Sprintf("skein-example-%d", os.Getpid())
	owner, err := shm.Create(name, 64)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer owner.Close()
	v, _ := shm.ValueAt[uint64](owner, 0)
	v.Store(7)

	// Elsewhere, in an unrelated process:
	other, err := shm.Attach(name, 64)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer other.Close()
	w, _ := shm.ValueAt[uint64](other, 0)
	fmt.Println(w.Load())

	_, err = shm.Attach(name, 128)
	var sizeErr *shm.SizeError
	fmt.Println(errors.As(err, &sizeErr), sizeErr.Got)
	// Output:
	// 7
	// true 64
}

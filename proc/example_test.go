package proc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/skein-go/skein/proc"
)

// Task functions are registered at package level, so that the parent and
// every worker (the same binary) know them before main runs.
var (
	Square = proc.Register("example.square", func(_ context.Context, x int) (int, error) {
		return x * x, nil
	})
	Crash = proc.Register("example.crash", func(_ context.Context, code int) (int, error) {
		os.Exit(code) // the worker dies; only this task fails
		return 0, nil
	})
)

// A program calls proc.Main first in main (here TestMain does), then uses
// pools as it likes.
func Example() {
	ctx := context.Background()
	p, err := proc.New(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	v, err := proc.Submit(ctx, p, Square, 12).Wait(ctx)
	fmt.Println(v, err)

	out, err := proc.MapSlice(ctx, p, Square, []int{1, 2, 3, 4, 5})
	fmt.Println(out, err)
	// Output:
	// 144 <nil>
	// [1 4 9 16 25] <nil>
}

// A task that kills its worker fails alone, with the worker's exit
// status; the pool replaces the worker and goes on.
func Example_crash() {
	ctx := context.Background()
	p, err := proc.New(1, proc.WithStderr(io.Discard))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	_, err = proc.Submit(ctx, p, Crash, 3).Wait(ctx)
	var we *proc.WorkerError
	fmt.Println(errors.As(err, &we), we.ExitCode)

	v, err := proc.Submit(ctx, p, Square, 5).Wait(ctx)
	fmt.Println(v, err, p.Stats().WorkersCrashed)
	// Output:
	// true 3
	// 25 <nil> 1
}

// Map streams results in input order, several chunks in flight per worker.
func ExampleMap() {
	ctx := context.Background()
	p, err := proc.New(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	inputs := func(yield func(int) bool) {
		for i := range 6 {
			if !yield(i) {
				return
			}
		}
	}
	for r := range proc.Map(ctx, p, Square, inputs, proc.WithChunkSize(2)) {
		fmt.Print(r.Index, ":", r.Value, " ")
	}
	fmt.Println()
	// Output:
	// 0:0 1:1 2:4 3:9 4:16 5:25
}

// Start runs one function in a process of its own, like Python's
// multiprocessing.Process.
func ExampleStart() {
	ctx := context.Background()
	pr, err := proc.Start(ctx, Square, 9)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := pr.Wait(ctx)
	fmt.Println(v, err, pr.ExitCode())
	// Output:
	// 81 <nil> 0
}

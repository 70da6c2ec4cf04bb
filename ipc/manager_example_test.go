package ipc_test

import (
	"context"
	"fmt"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

// trackArgs is the argument of the seed's process_with_progress: the
// Map travels to the worker process like any other argument.
type trackArgs struct {
	Task     string
	Items    int
	Progress *ipc.Map[float64]
}

var processWithProgress = proc.Register("ipc.example.progress", func(ctx context.Context, a trackArgs) (string, error) {
	for i := range a.Items {
		// ... process item i ...
		if err := a.Progress.Set(ctx, a.Task, float64(i+1)/float64(a.Items)); err != nil {
			return "", err
		}
	}
	return "Task " + a.Task + " complete", nil
})

// The seed's ProgressTracker: a worker process reports progress into a
// Map its parent serves, and the parent reads it.
func ExampleMap() {
	ctx := context.Background()
	progress, err := ipc.NewMap[float64]()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer progress.Close()

	p, err := proc.Start(ctx, processWithProgress, trackArgs{Task: "resize", Items: 4, Progress: progress})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Wait(ctx))
	fmt.Println(progress.Snapshot(ctx))
	// Output:
	// Task resize complete <nil>
	// map[resize:1] <nil>
}

// Add counts in one atomic step, where Python's Manager needs a lock
// around a get and a set.
func ExampleMap_Add() {
	ctx := context.Background()
	counts, _ := ipc.NewMap[int]()
	defer counts.Close()
	counts.Add(ctx, "done", 2)
	n, err := counts.Add(ctx, "done", 3)
	fmt.Println(n, err)
	// Output: 5 <nil>
}

// A named lock guards a read-modify-write that several processes do. A
// holder that died holding it is reported to the next holder, who then
// holds the lock.
func ExampleMap_Lock() {
	ctx := context.Background()
	accounts, _ := ipc.NewMap[[]string]()
	defer accounts.Close()

	if err := accounts.Lock(ctx, "audit"); err != nil {
		fmt.Println(err) // an *ipc.OwnerDeadError: check the entries, then go on
	}
	log, _, _ := accounts.Get(ctx, "log")
	log = append(log, "opened")   // changes our copy only...
	accounts.Set(ctx, "log", log) // ...until we write it back
	accounts.Unlock("audit")

	fmt.Println(accounts.Get(ctx, "log"))
	// Output: [opened] true <nil>
}

// Python's dict methods: SetDefault, Pop, Update, Len and Keys, each one
// atomic round trip.
func ExampleMap_SetDefault() {
	ctx := context.Background()
	m, err := ipc.NewMap[int]()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer m.Close()

	v, had, _ := m.SetDefault(ctx, "retries", 3)
	fmt.Println("first setdefault:", v, had)
	v, had, _ = m.SetDefault(ctx, "retries", 5)
	fmt.Println("second setdefault:", v, had)

	m.Update(ctx, map[string]int{"a": 1, "b": 2})
	n, _ := m.Len(ctx)
	keys, _ := m.Keys(ctx)
	fmt.Println(n, keys)

	v, found, _ := m.Pop(ctx, "a")
	fmt.Println("pop:", v, found)
	_, found, _ = m.Pop(ctx, "a")
	fmt.Println("pop again:", found)
	// Output:
	// first setdefault: 3 false
	// second setdefault: 3 true
	// 3 [a b retries]
	// pop: 1 true
	// pop again: false
}

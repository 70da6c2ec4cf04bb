package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

func init() {
	register(Demo{
		Name:    "manager",
		Summary: "the seed's ProgressTracker on a Manager dict + Lock, across worker processes: ipc.Map, copies not proxies, and a lock whose holder is SIGKILLed",
		Run:     managerDemo,
	})
}

// managerTask is the argument of the seed's process_with_progress: a task
// id, its data, and the tracker, which travels to the worker process like
// any other argument.
type managerTask struct {
	ID      string
	Data    []int
	Tracker *ipc.Map[float64]
}

// managerProcess is the seed's process_with_progress(task_id, data,
// tracker), in a worker process. Each item reports the task's progress
// (Set is atomic: no lock needed for one key) and counts itself in a
// total (Add: one atomic step, no lock either). The seed's lock is for
// what one call cannot do: here, keeping "max" the largest item seen,
// a read-modify-write of one key by several processes.
var managerProcess = proc.Register("examples.manager.process", func(ctx context.Context, t managerTask) (string, error) {
	for i, item := range t.Data {
		if err := t.Tracker.Set(ctx, t.ID, float64(i+1)/float64(len(t.Data))); err != nil {
			return "", err
		}
		if _, err := t.Tracker.Add(ctx, "items", 1); err != nil {
			return "", err
		}
		if err := managerKeepMax(ctx, t.Tracker, float64(item)); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("Task %s complete", t.ID), nil
})

// managerKeepMax raises "max" to x under the named lock "max".
func managerKeepMax(ctx context.Context, m *ipc.Map[float64], x float64) error {
	if err := m.Lock(ctx, "max"); err != nil {
		return err
	}
	defer m.Unlock("max")
	cur, _, err := m.Get(ctx, "max")
	if err != nil || cur >= x {
		return err
	}
	return m.Set(ctx, "max", x)
}

// managerHold takes the named lock "max", says so and waits to be killed.
var managerHold = proc.Register("examples.manager.hold", func(ctx context.Context, m *ipc.Map[float64]) (int, error) {
	if err := m.Lock(ctx, "max"); err != nil {
		return 0, err
	}
	fmt.Println("locked")
	<-ctx.Done()
	return 0, ctx.Err()
})

const (
	managerTasks = 4
	managerItems = 25
)

func managerDemo(ctx context.Context, w io.Writer) (string, error) {
	tracker, err := ipc.NewMap[float64]() // Manager().dict() and Manager().Lock() in one
	if err != nil {
		return "", err
	}
	defer tracker.Close()

	// Part 1: the ProgressTracker, four tasks on two worker processes.
	pool, err := proc.New(2)
	if err != nil {
		return "", err
	}
	defer pool.Close()
	var futs []*future.Future[string]
	for i := range managerTasks {
		data := make([]int, managerItems)
		for j := range data {
			data[j] = i*managerItems + j
		}
		t := managerTask{ID: fmt.Sprintf("task-%d", i), Data: data, Tracker: tracker}
		futs = append(futs, proc.Submit(ctx, pool, managerProcess, t))
	}
	for _, f := range futs {
		msg, err := f.Wait(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(w, msg)
	}
	progress, err := tracker.Snapshot(ctx) // the seed's get_progress()
	if err != nil {
		return "", err
	}
	for _, k := range slices.Sorted(maps.Keys(progress)) {
		fmt.Fprintf(w, "  %-7s %v\n", k, progress[k])
	}
	for i := range managerTasks {
		if p := progress[fmt.Sprintf("task-%d", i)]; p != 1 {
			return "", fmt.Errorf("task-%d at %v, want 1", i, p)
		}
	}
	if progress["items"] != managerTasks*managerItems || progress["max"] != managerTasks*managerItems-1 {
		return "", fmt.Errorf("items %v, max %v; want %d and %d", progress["items"], progress["max"], managerTasks*managerItems, managerTasks*managerItems-1)
	}

	// Part 2: values are copies. Python's d["k"].append(x) on a Manager
	// dict changes a temporary copy and is silently lost; here there is
	// no proxy to mislead: what you get is yours, and Set writes it back.
	tags, err := ipc.NewMap[[]string]()
	if err != nil {
		return "", err
	}
	defer tags.Close()
	tags.Set(ctx, "k", []string{"a"})
	got, _, _ := tags.Get(ctx, "k")
	got = append(got, "b")
	before, _, _ := tags.Get(ctx, "k")
	tags.Set(ctx, "k", got)
	after, _, _ := tags.Get(ctx, "k")
	fmt.Fprintf(w, "appended to a value got: map still has %v; after Set: %v\n", before, after)
	if len(before) != 1 || len(after) != 2 {
		return "", fmt.Errorf("copies: before %v, after %v", before, after)
	}

	// Part 3: a worker dies holding the lock. The parent's Lock does not
	// hang: it gets the lock, told who died holding it.
	locked := &managerSignal{seen: make(chan struct{})}
	holder, err := proc.Start(ctx, managerHold, tracker, proc.WithStdout(locked))
	if err != nil {
		return "", err
	}
	defer holder.Kill()
	select {
	case <-locked.seen:
	case <-holder.Done():
		_, err := holder.Wait(ctx)
		return "", fmt.Errorf("holder ended early: %v", err)
	}
	fmt.Fprintf(w, "process %d holds lock %q; SIGKILL\n", holder.Pid(), "max")
	holder.Kill()
	err = tracker.Lock(ctx, "max")
	var dead *ipc.OwnerDeadError
	if !errors.As(err, &dead) || dead.PID != holder.Pid() {
		return "", fmt.Errorf("lock after the holder died = %v, want *ipc.OwnerDeadError for pid %d", err, holder.Pid())
	}
	fmt.Fprintf(w, "parent's Lock: %v\n", err)
	if err := tracker.Unlock("max"); err != nil {
		return "", err
	}
	return fmt.Sprintf("%d tasks on 2 worker processes tracked to 100%%, %d items counted, max kept under a named lock; a SIGKILLed holder's lock was recovered", managerTasks, managerTasks*managerItems), nil
}

// managerSignal is a worker's stdout that closes seen at its first write.
type managerSignal struct {
	once sync.Once
	seen chan struct{}
}

func (s *managerSignal) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.seen) })
	return len(p), nil
}

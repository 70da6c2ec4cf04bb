package progress_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/skein-go/skein/progress"
)

// Goroutines report into their own tasks; the program reads the result
// from a snapshot.
func Example() {
	tracker, err := progress.New()
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for _, name := range []string{"resize", "upload"} {
		task, err := tracker.Task(name, 100)
		if err != nil {
			panic(err)
		}
		wg.Go(func() {
			for i := range 100 {
				if name == "upload" && i%25 == 0 {
					task.AddFailed(1) // an item that could not be processed
					continue
				}
				task.Add(1)
			}
			task.Done()
		})
	}
	wg.Wait()

	s := tracker.Snapshot()
	for _, ts := range s.Tasks {
		fmt.Printf("%s: %s, %d done, %d failed, of %d\n", ts.Name, ts.State, ts.Done, ts.Failed, ts.Total)
	}
	fmt.Printf("overall: %d/%d items, %d failed, %d tasks done, ETA %v\n",
		s.Done+s.Failed, s.Total, s.Failed, s.TasksDone, s.ETA)
	// Output:
	// resize: done, 100 done, 0 failed, of 100
	// upload: done, 96 done, 4 failed, of 100
	// overall: 200/200 items, 4 failed, 2 tasks done, ETA 0s
}

// A renderer shows progress while the work runs: bars on a terminal,
// plain lines in a log, nothing with WithMode(progress.Quiet).
func ExampleRenderer() {
	tracker, err := progress.New()
	if err != nil {
		panic(err)
	}
	renderer, err := progress.NewRenderer(tracker, os.Stderr)
	if err != nil {
		panic(err)
	}
	if err := renderer.Start(context.Background()); err != nil {
		panic(err)
	}
	task, err := tracker.Task("work", 1000)
	if err != nil {
		panic(err)
	}
	for range 1000 {
		task.Add(1)
	}
	task.Done()
	// Close draws the final state and stops the renderer's goroutine.
	if err := renderer.Close(); err != nil {
		fmt.Println("progress output failed:", err)
	}
}

// An executor counts its work through the Reporter interface, without
// knowing about trackers; a *Task is one.
func ExampleReporter() {
	runAll := func(jobs []func() error, report progress.Reporter) {
		report.AddTotal(int64(len(jobs)))
		for _, job := range jobs {
			if err := job(); err != nil {
				report.AddFailed(1)
				continue
			}
			report.Add(1)
		}
	}

	tracker, err := progress.New()
	if err != nil {
		panic(err)
	}
	task, err := tracker.Task("jobs", 0)
	if err != nil {
		panic(err)
	}
	ok := func() error { return nil }
	bad := func() error { return errors.New("bad input") }
	runAll([]func() error{ok, bad, ok}, task)
	task.Done()

	ts := tracker.Snapshot().Tasks[0]
	fmt.Printf("%s: %d/%d done, %d failed\n", ts.Name, ts.Done, ts.Total, ts.Failed)
	// Output:
	// jobs: 2/3 done, 1 failed
}

// A worker process keeps its own tracker and sends each task's Update;
// the parent applies them to the tracker it shows.
func ExampleTracker_Apply() {
	worker, err := progress.New()
	if err != nil {
		panic(err)
	}
	task, err := worker.Task("shard-7", 50)
	if err != nil {
		panic(err)
	}
	task.Add(20)
	update := task.Update() // plain data: encode it and send it

	parent, err := progress.New()
	if err != nil {
		panic(err)
	}
	if err := parent.Apply(update); err != nil {
		panic(err)
	}
	ts := parent.Snapshot().Tasks[0]
	fmt.Printf("%s: %s %d/%d\n", ts.Name, ts.State, ts.Done, ts.Total)
	// Output:
	// shard-7: running 20/50
}

// A task reports through its context; the submitter decides where the
// counts go. With a pool the task sees the tracker's Task itself; with a
// proc worker or a cluster worker the executor carries the counts back.
func ExampleFromContext() {
	tracker, _ := progress.New()
	resize := func(ctx context.Context, files []string) {
		rep := progress.FromContext(ctx)
		rep.AddTotal(int64(len(files)))
		for range files {
			rep.Add(1)
		}
	}
	task, _ := tracker.Task("resize", 0)
	resize(progress.NewContext(context.Background(), task), []string{"a.png", "b.png", "c.png"})
	u := task.Update()
	fmt.Printf("%s: %d/%d\n", u.Task, u.Done, u.Total)
	// Output: resize: 3/3
}

package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skein-go/skein/progress"
)

// progressParallelism sets the number of goroutines reporting at once in the
// BenchmarkProgress rows (RunParallel runs progressParallelism per CPU).
const progressParallelism = 4

// BenchmarkProgress counts items reported by many goroutines at once (4
// per CPU), each reporting one item per operation, side by side:
//
//   - skein-shared: every goroutine adds to one progress.Task;
//   - skein-own: each goroutine adds to its own progress.Task;
//   - skein-rendered: skein-shared while a Lines renderer snapshots the
//     tracker every millisecond (to io.Discard), as a live display does;
//   - mutex-map: a map of counts under a sync.Mutex, the seed's
//     ProgressTracker (a lock around a dict) without the Manager process;
//   - chan-collector: updates sent on a buffered channel to a goroutine
//     that owns the counts, the design of channel-driven bar libraries
//     such as mpb, whose increments are channel operations too;
//   - atomic: one atomic.Int64, the floor.
//
// Reproduce: cd bench && go test -run '^$' -bench Progress -count=5 .
func BenchmarkProgress(b *testing.B) {
	b.Run("skein-shared", func(b *testing.B) {
		task := newProgressTask(b, "shared")
		progressBench(b, func() func() { return func() { task.Add(1) } })
	})
	b.Run("skein-own", func(b *testing.B) {
		tracker, err := progress.New()
		if err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		progressBench(b, func() func() {
			task, err := tracker.Task(fmt.Sprint("own-", next.Add(1)), 0)
			if err != nil {
				panic(err)
			}
			return func() { task.Add(1) }
		})
	})
	b.Run("skein-rendered", func(b *testing.B) {
		tracker, err := progress.New()
		if err != nil {
			b.Fatal(err)
		}
		task, err := tracker.Task("rendered", 0)
		if err != nil {
			b.Fatal(err)
		}
		r, err := progress.NewRenderer(tracker, io.Discard,
			progress.WithMode(progress.Lines), progress.WithInterval(time.Millisecond))
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		progressBench(b, func() func() { return func() { task.Add(1) } })
	})
	b.Run("mutex-map", func(b *testing.B) {
		var mu sync.Mutex
		counts := map[string]int64{}
		progressBench(b, func() func() {
			return func() {
				mu.Lock()
				counts["shared"]++
				mu.Unlock()
			}
		})
	})
	b.Run("chan-collector", func(b *testing.B) {
		type update struct {
			task string
			n    int64
		}
		updates := make(chan update, 1024)
		collected := make(chan int64)
		go func() {
			counts := map[string]int64{}
			for u := range updates {
				counts[u.task] += u.n
			}
			collected <- counts["shared"]
		}()
		progressBench(b, func() func() { return func() { updates <- update{"shared", 1} } })
		close(updates)
		if got := <-collected; got != int64(b.N) {
			b.Fatalf("collector counted %d items, want %d", got, b.N)
		}
	})
	b.Run("atomic", func(b *testing.B) {
		var n atomic.Int64
		progressBench(b, func() func() { return func() { n.Add(1) } })
	})
}

// newProgressTask returns a task of a new tracker.
func newProgressTask(b *testing.B, name string) *progress.Task {
	tracker, err := progress.New()
	if err != nil {
		b.Fatal(err)
	}
	task, err := tracker.Task(name, 0)
	if err != nil {
		b.Fatal(err)
	}
	return task
}

// progressBench runs b.N reports over progressParallelism goroutines per
// CPU; newReport is called once per goroutine and returns its report
// function. It reports items per second.
func progressBench(b *testing.B, newReport func() func()) {
	b.ReportAllocs()
	b.SetParallelism(progressParallelism)
	b.RunParallel(func(pb *testing.PB) {
		report := newReport()
		for pb.Next() {
			report()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

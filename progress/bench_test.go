package progress

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// BenchmarkTaskAddShared has every goroutine count into one task: the
// worst case, all on one cache line.
func BenchmarkTaskAddShared(b *testing.B) {
	tr := mustNew(b)
	task := mustTask(b, tr, "shared", 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			task.Add(1)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkTaskAddOwn has each goroutine count into its own task.
func BenchmarkTaskAddOwn(b *testing.B) {
	tr := mustNew(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		task := mustTask(b, tr, fmt.Sprint("own-", next.Add(1)), 0)
		for pb.Next() {
			task.Add(1)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSnapshot100Tasks measures a snapshot of 100 tasks, what a
// renderer pays per interval.
func BenchmarkSnapshot100Tasks(b *testing.B) {
	tr := mustNew(b)
	for i := range 100 {
		mustTask(b, tr, fmt.Sprint("task-", i), 1000).Add(int64(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.Snapshot()
	}
}

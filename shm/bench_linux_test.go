//go:build linux

package shm

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkMutexUncontended is one process locking and unlocking.
func BenchmarkMutexUncontended(b *testing.B) {
	_, l := newBenchLayout(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		l.mu.Lock(ctx)
		l.mu.Unlock()
	}
}

// BenchmarkValueAdd is one process adding to an int64 and a float64.
func BenchmarkValueAdd(b *testing.B) {
	_, l := newBenchLayout(b)
	b.Run("int64", func(b *testing.B) {
		for b.Loop() {
			l.counter.Add(1)
		}
	})
	b.Run("float64", func(b *testing.B) {
		for b.Loop() {
			l.float.Add(1)
		}
	})
}

// BenchmarkTwoProcesses splits b.N operations between two child processes
// working on one segment at once and reports operations per second across
// both; every run checks that no increment was lost.
//
//   - locked-increment: the seed's counter, a load and a store under Mutex;
//   - atomic-add: Value.Add on an int64 plus a float64 and an array element
//     (three atomic adds per operation).
func BenchmarkTwoProcesses(b *testing.B) {
	b.Run("locked-increment", func(b *testing.B) { twoProcesses(b, "locked-inc") })
	b.Run("atomic-add", func(b *testing.B) { twoProcesses(b, "atomic-add") })
}

func twoProcesses(b *testing.B, role string) {
	seg, l := newBenchLayout(b)
	half := b.N / 2
	counts := []int{half, b.N - half}
	var children []*child
	for _, n := range counts {
		children = append(children, startChild(b, role, seg, countEnv+"="+strconv.Itoa(n)))
	}
	for _, c := range children {
		c.waitSignal(b, "R")
	}
	b.ResetTimer()
	start := time.Now()
	for _, c := range children {
		c.stdin.Close() // go
	}
	for _, c := range children {
		c.waitSignal(b, "D")
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for _, c := range children {
		c.wait(b)
	}
	if got := l.counter.Load(); got != int64(b.N) {
		b.Fatalf("counter = %d after %d increments: %d lost", got, b.N, int64(b.N)-got)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

func newBenchLayout(b *testing.B) (*Segment, layout) {
	seg, err := New(layoutSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seg.Close() })
	l, err := newLayout(seg)
	if err != nil {
		b.Fatal(err)
	}
	return seg, l
}

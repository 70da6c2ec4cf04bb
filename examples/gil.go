package examples

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/proc"
)

func init() {
	register(Demo{
		Name:    "gil",
		Summary: "the seed's GIL demo in Go: cpu_bound_task x2 sequential, on goroutines (pool) and on worker processes (proc)",
		Run:     gilDemo,
	})
}

// GILCPUTask is the seed's cpu_bound_task(n): the sum of i*i for i < n,
// computed in uint64, that is modulo 2^64 (Python's integers are
// unbounded; for n = 10^7 the sum exceeds 2^64). It is the one
// computation that the gil demo and `skein bench gil` time; compare its
// result with GILCPUExpected.
func GILCPUTask(n uint64) uint64 { return executorCPUTask(n) }

// GILCPUExpected returns the result GILCPUTask(n) must return: the closed
// form (n-1)·n·(2n-1)/6, computed exactly and reduced modulo 2^64.
func GILCPUExpected(n uint64) uint64 { return executorWant(n) }

// GILCPU is GILCPUTask registered for worker processes (proc.Pool,
// proc.Start) under the name "gil.cpu-bound". Any program that imports
// this package and calls proc.Main first can submit it.
var GILCPU = proc.Register("gil.cpu-bound", func(_ context.Context, n uint64) (uint64, error) {
	return GILCPUTask(n), nil
})

// gilN and gilTasks are the seed's figures: cpu_bound_task(10**7), twice,
// on executors of two workers. gilRounds interleaves the three contenders
// several times, because a shared machine's capacity changes from one
// moment to the next: one run of each would compare moments, not
// executors.
const (
	gilN       = 10_000_000
	gilTasks   = 2
	gilWorkers = 2
	gilRounds  = 5
)

func gilDemo(ctx context.Context, w io.Writer) (string, error) {
	// Go has no GIL: goroutines of one process run on every core. proc
	// is for isolation (code that may crash or leak), and costs a process
	// start and a round trip per task; both pools have two workers, like
	// the seed's executors.
	gp, err := pool.New(gilWorkers)
	if err != nil {
		return "", err
	}
	defer gp.Close()
	start := time.Now()
	pp, err := proc.New(gilWorkers)
	if err != nil {
		return "", err
	}
	defer pp.Close()
	fmt.Fprintf(w, "proc.Pool of %d worker processes started in %v\n", gilWorkers, time.Since(start).Round(time.Microsecond))

	contenders := []struct {
		name string
		run  func(context.Context) ([]uint64, error)
	}{
		{"sequential", gilSequential},
		{fmt.Sprintf("pool.Pool(%d), goroutines", gilWorkers), func(ctx context.Context) ([]uint64, error) {
			return gilOnGoroutines(ctx, gp)
		}},
		{fmt.Sprintf("proc.Pool(%d), processes", gilWorkers), func(ctx context.Context) ([]uint64, error) {
			return gilOnProcesses(ctx, pp)
		}},
	}
	times := make([][]time.Duration, len(contenders))
	want := GILCPUExpected(gilN)
	for round := range gilRounds {
		for k := range contenders {
			idx := (k + round) % len(contenders) // rotate who goes first
			c := contenders[idx]
			start := time.Now()
			sums, err := c.run(ctx)
			took := time.Since(start)
			if err != nil {
				return "", fmt.Errorf("%s: %w", c.name, err)
			}
			if len(sums) != gilTasks {
				return "", fmt.Errorf("%s: %d results, want %d", c.name, len(sums), gilTasks)
			}
			for i, s := range sums {
				if s != want {
					return "", fmt.Errorf("%s: task %d: sum = %d, want %d", c.name, i, s, want)
				}
			}
			times[idx] = append(times[idx], took)
		}
	}

	fmt.Fprintf(w, "cpu_bound_task(%d) x%d, median of %d interleaved rounds, %d CPUs:\n", gilN, gilTasks, gilRounds, runtime.NumCPU())
	seq := gilMedian(times[0])
	speedups := make([]float64, len(contenders))
	for i, c := range contenders {
		m := gilMedian(times[i])
		speedups[i] = seq.Seconds() / m.Seconds()
		fmt.Fprintf(w, "  %-28s %8.1f ms  %.2fx\n", c.name, float64(m.Microseconds())/1000, speedups[i])
	}
	fmt.Fprintln(w, "Python's threads cannot run this loop in parallel (the GIL): `skein bench gil` measures Python and Go side by side.")
	return fmt.Sprintf("%d sums verified; over sequential: goroutines %.2fx, processes %.2fx on %d CPUs",
		gilRounds*gilTasks*len(contenders), speedups[1], speedups[2], runtime.NumCPU()), nil
}

// gilSequential runs the tasks one after the other.
func gilSequential(ctx context.Context) ([]uint64, error) {
	sums := make([]uint64, gilTasks)
	for i := range sums {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sums[i] = GILCPUTask(gilN)
	}
	return sums, nil
}

// gilOnGoroutines submits every task to the goroutine pool, then waits
// for all the results.
func gilOnGoroutines(ctx context.Context, p *pool.Pool) ([]uint64, error) {
	fs := make([]*future.Future[uint64], gilTasks)
	for i := range fs {
		fs[i] = pool.Submit(ctx, p, func(context.Context) (uint64, error) { return GILCPUTask(gilN), nil })
	}
	return future.All(ctx, fs)
}

// gilOnProcesses does the same on worker processes: only the argument
// and the result cross the process boundary.
func gilOnProcesses(ctx context.Context, p *proc.Pool) ([]uint64, error) {
	fs := make([]*future.Future[uint64], gilTasks)
	for i := range fs {
		fs[i] = proc.Submit(ctx, p, GILCPU, gilN)
	}
	return future.All(ctx, fs)
}

// gilMedian returns the median of ds (the upper one for an even count).
func gilMedian(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

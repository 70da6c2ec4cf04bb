package examples

import (
	"context"
	"fmt"
	"io"
	"math/big"
	"runtime"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
)

func init() {
	register(Demo{
		Name:    "executor",
		Summary: "the seed's CPU-bound and IO-bound tasks on a pool, results as completed",
		Run:     executorDemo,
	})
}

// executorCPUTask is the seed's cpu_bound_task: the sum of i*i for i < n.
// Python's integers are unbounded; for n = 10^7 the sum exceeds 2^63, so it
// is computed in uint64, that is modulo 2^64, and checked against the
// closed form reduced the same way.
func executorCPUTask(n uint64) uint64 {
	var total uint64
	for i := range n {
		total += i * i
	}
	return total
}

// executorWant is (n-1)·n·(2n-1)/6 modulo 2^64, the expected result.
func executorWant(n uint64) uint64 {
	b := new(big.Int).SetUint64(n)
	s := new(big.Int).Mul(new(big.Int).Sub(b, big.NewInt(1)), b)
	s.Mul(s, new(big.Int).Sub(new(big.Int).Lsh(b, 1), big.NewInt(1)))
	s.Div(s, big.NewInt(6))
	return s.Uint64() // the low 64 bits
}

func executorDemo(ctx context.Context, w io.Writer) (string, error) {
	const n = 10_000_000
	workers := runtime.NumCPU()
	p, err := pool.New(workers)
	if err != nil {
		return "", err
	}
	defer p.Close()

	// CPU-bound: no GIL, so goroutines on a pool use every core.
	start := time.Now()
	for range 2 {
		if got := executorCPUTask(n); got != executorWant(n) {
			return "", fmt.Errorf("sequential sum = %d, want %d", got, executorWant(n))
		}
	}
	seq := time.Since(start)

	start = time.Now()
	fs := make([]*future.Future[uint64], 2)
	for i := range fs {
		fs[i] = pool.Submit(ctx, p, func(context.Context) (uint64, error) { return executorCPUTask(n), nil })
	}
	sums, err := future.All(ctx, fs)
	if err != nil {
		return "", err
	}
	par := time.Since(start)
	for _, s := range sums {
		if s != executorWant(n) {
			return "", fmt.Errorf("pooled sum = %d, want %d", s, executorWant(n))
		}
	}
	fmt.Fprintf(w, "cpu_bound_task(10^7) x2: sequential %v, pool of %d workers %v (%.2fx)\n",
		seq.Round(time.Millisecond), workers, par.Round(time.Millisecond), seq.Seconds()/par.Seconds())

	// IO-bound: many waits overlap; results arrive as they complete.
	io, err := pool.New(10)
	if err != nil {
		return "", err
	}
	defer io.Close()
	var ios []*future.Future[string]
	for i := range 10 {
		delay := time.Duration(10-i) * 5 * time.Millisecond // the last submitted finishes first
		ios = append(ios, pool.Submit(ctx, io, func(ctx context.Context) (string, error) {
			select {
			case <-time.After(delay):
				return fmt.Sprintf("IO task %d complete after %v", i, delay), nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}))
	}
	done := 0
	for f, err := range future.AsCompleted(ctx, ios) {
		if err != nil {
			return "", err
		}
		msg, err := f.Wait(ctx)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(w, "  as completed:", msg)
		done++
	}
	if done != len(ios) {
		return "", fmt.Errorf("%d of %d IO tasks completed", done, len(ios))
	}
	return fmt.Sprintf("2 CPU sums verified (%.2fx on %d cores), %d IO tasks as completed", seq.Seconds()/par.Seconds(), workers, done), nil
}

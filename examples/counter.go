package examples

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	register(Demo{
		Name:    "counter",
		Summary: "the seed's SafeCounter: a mutex-guarded counter and an atomic one, both checked and timed",
		Run:     counterDemo,
	})
}

// counterSafe is the seed's SafeCounter: a value guarded by a mutex. In Go
// the standard library's sync.Mutex is the right tool; nothing new needed.
type counterSafe struct {
	mu    sync.Mutex // guards value
	value int64
}

func (c *counterSafe) Increment() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.value++
}

func (c *counterSafe) Value() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}

// counterAtomic does the same with one atomic instruction per increment:
// the narrowest correct tool for a lone counter.
type counterAtomic struct {
	value atomic.Int64
}

func (c *counterAtomic) Increment()   { c.value.Add(1) }
func (c *counterAtomic) Value() int64 { return c.value.Load() }

// counterRun increments c from goroutines goroutines, each perEach times,
// and returns how long it took.
func counterRun(ctx context.Context, goroutines, perEach int, increment func()) (time.Duration, error) {
	start := time.Now()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for i := range perEach {
				if i%4096 == 0 && ctx.Err() != nil {
					return
				}
				increment()
			}
		})
	}
	wg.Wait()
	return time.Since(start), ctx.Err()
}

func counterDemo(ctx context.Context, w io.Writer) (string, error) {
	const goroutines, perEach = 8, 100_000
	const want = goroutines * perEach

	var safe counterSafe
	mutexTime, err := counterRun(ctx, goroutines, perEach, safe.Increment)
	if err != nil {
		return "", err
	}
	var fast counterAtomic
	atomicTime, err := counterRun(ctx, goroutines, perEach, fast.Increment)
	if err != nil {
		return "", err
	}

	fmt.Fprintf(w, "%d goroutines x %d increments each\n", goroutines, perEach)
	fmt.Fprintf(w, "  sync.Mutex counter:   %d in %v (%.0f ns/increment)\n",
		safe.Value(), mutexTime.Round(time.Microsecond), float64(mutexTime.Nanoseconds())/want)
	fmt.Fprintf(w, "  atomic.Int64 counter: %d in %v (%.0f ns/increment)\n",
		fast.Value(), atomicTime.Round(time.Microsecond), float64(atomicTime.Nanoseconds())/want)
	if got := safe.Value(); got != want {
		return "", fmt.Errorf("mutex counter = %d, want %d", got, want)
	}
	if got := fast.Value(); got != want {
		return "", fmt.Errorf("atomic counter = %d, want %d", got, want)
	}
	fmt.Fprintln(w, "Both are exact. Use the atomic for a lone counter; use the mutex when")
	fmt.Fprintln(w, "several fields must change together.")
	return fmt.Sprintf("mutex and atomic counters both reached %d", want), nil
}

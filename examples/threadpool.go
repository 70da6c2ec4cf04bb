package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/skein-go/skein/pool"
)

func init() {
	register(Demo{
		Name:    "threadpool",
		Summary: "the seed's hand-made ThreadPool done right: errors reported, join, shutdown",
		Run:     threadpoolDemo,
	})
}

// threadpoolDemo is the seed's ThreadPool (three workers, ten tasks,
// task_done/join/shutdown) on pool.Pool. The seed prints a task's
// exception and forgets it and polls its queue every 0.1 s; here errors,
// panics included, come back from Wait, idle workers block instead of
// polling, and Shutdown runs everything already accepted.
func threadpoolDemo(ctx context.Context, w io.Writer) (string, error) {
	p, err := pool.New(3, pool.WithErrorMode(pool.AllErrors))
	if err != nil {
		return "", err
	}
	var mu sync.Mutex
	ran := map[int]int{}
	for i := range 10 {
		err := p.Go(ctx, func(ctx context.Context) error {
			mu.Lock()
			ran[i]++
			mu.Unlock()
			fmt.Fprintf(w, "task %d running\n", i)
			switch i {
			case 4:
				return fmt.Errorf("task %d: bad input", i)
			case 7:
				panic(fmt.Sprintf("task %d: unexpected state", i))
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	// Join: wait for every submitted task; the errors come back.
	joinErr := p.Wait(ctx)
	var pe *pool.PanicError
	if joinErr == nil || !errors.As(joinErr, &pe) {
		return "", fmt.Errorf("pool.Wait returned %v, want the task error and the panic", joinErr)
	}
	fmt.Fprintf(w, "join reported:\n  %v\n", joinErr)

	// The pool is reusable after Wait; Shutdown runs what was accepted.
	extra := pool.Submit(ctx, p, func(context.Context) (string, error) { return "accepted before shutdown", nil })
	if err := p.Shutdown(ctx); err != nil {
		return "", err
	}
	msg, err := extra.Wait(ctx)
	if err != nil {
		return "", err
	}
	fmt.Fprintln(w, "after shutdown:", msg)
	if err := p.Go(ctx, func(context.Context) error { return nil }); !errors.Is(err, pool.ErrClosed) {
		return "", fmt.Errorf("pool.Go after Shutdown = %v, want ErrClosed", err)
	}

	for i := range 10 {
		if ran[i] != 1 {
			return "", fmt.Errorf("task %d ran %d times", i, ran[i])
		}
	}
	s := p.Stats()
	if s.Submitted != 11 || s.Completed != 9 || s.Failed != 2 || s.Panicked != 1 {
		return "", fmt.Errorf("stats %+v do not match 11 tasks with 2 failures", s)
	}
	return fmt.Sprintf("10 tasks ran once each, 2 errors reported (1 panic), stats %d/%d/%d", s.Submitted, s.Completed, s.Failed), nil
}

package pool

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// defaultIdleTimeout is how long a worker above the minimum stays parked
// without work before it exits.
const defaultIdleTimeout = 5 * time.Second

// Option configures a Pool in New.
type Option interface {
	applyPool(*config) error
}

// MapOption configures Map, MapSlice and Group.
type MapOption interface {
	applyMap(*mapConfig) error
}

// config is a Pool's configuration after options.
type config struct {
	maxWorkers  int
	minWorkers  int
	queueSize   int // -1: unbounded
	idleTimeout time.Duration
	errorMode   ErrorMode
	ctx         context.Context
	progress    Reporter
}

type poolOption func(*config) error

func (o poolOption) applyPool(c *config) error { return o(c) }

// WithQueueSize bounds the queue of tasks waiting for a worker to n. When
// it is full, Submit and Go block (honouring their context) and TrySubmit
// and TryGo fail with ErrFull. n = 0 means no waiting room: a submission
// waits until a worker is free to take it. Default: unbounded. A negative
// n is an error.
func WithQueueSize(n int) Option {
	return poolOption(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("pool: WithQueueSize(%d): size must be >= 0", n)
		}
		c.queueSize = n
		return nil
	})
}

// WithMinWorkers keeps n workers alive even when idle, started by New, so
// the first tasks do not wait for goroutines to start. Default 0; n must
// be between 0 and maxWorkers.
func WithMinWorkers(n int) Option {
	return poolOption(func(c *config) error {
		if n < 0 {
			return fmt.Errorf("pool: WithMinWorkers(%d): must be >= 0", n)
		}
		c.minWorkers = n
		return nil
	})
}

// WithIdleTimeout sets how long a worker above the minimum waits for work
// before it exits: it retires after between d and 1.5 d without a task
// (one goroutine checks twice per d, so parking costs no timer). Default
// 5s; d must be positive.
func WithIdleTimeout(d time.Duration) Option {
	return poolOption(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("pool: WithIdleTimeout(%v): must be positive", d)
		}
		c.idleTimeout = d
		return nil
	})
}

// WithContext sets the pool's context: Go tasks run under it, and when it
// is cancelled every running task's context is cancelled and queued tasks
// of Submit are dropped as cancelled when a worker reaches them (the pool
// itself stays open). Default context.Background().
func WithContext(ctx context.Context) Option {
	return poolOption(func(c *config) error {
		if ctx == nil {
			return errors.New("pool: WithContext(nil)")
		}
		c.ctx = ctx
		return nil
	})
}

// Reporter receives a pool's task counts as they change, for progress
// display; *progress.Task implements it. The pool calls AddTotal(1) when
// it accepts a task, then Add(1) when the task succeeds or AddFailed(1)
// when it fails, panics, is cancelled or is dropped by Close. The methods
// are called from submitters and workers concurrently and must be quick.
type Reporter interface {
	AddTotal(n int64)
	Add(n int64)
	AddFailed(n int64)
}

// WithProgress reports every task's acceptance and outcome to r, for
// example a progress.Task shown by a progress.Renderer. Default: none.
func WithProgress(r Reporter) Option {
	return poolOption(func(c *config) error {
		if r == nil {
			return errors.New("pool: WithProgress(nil)")
		}
		c.progress = r
		return nil
	})
}

// ErrorMode chooses how errors of many tasks are reported.
type ErrorMode int

const (
	// FirstError reports the first error only (the default). In Map,
	// MapSlice and Group the first error also stops the remaining work.
	FirstError ErrorMode = iota
	// AllErrors reports every error, joined with errors.Join, and lets
	// the remaining work run.
	AllErrors
)

// WithErrorMode sets how errors are reported: by Pool.Wait (as an Option
// of New) or by Map, MapSlice and Group (as a MapOption). Default
// FirstError.
func WithErrorMode(m ErrorMode) interface {
	Option
	MapOption
} {
	return errorModeOption(m)
}

type errorModeOption ErrorMode

func (o errorModeOption) check() error {
	if o != errorModeOption(FirstError) && o != errorModeOption(AllErrors) {
		return fmt.Errorf("pool: WithErrorMode(%d): unknown mode", int(o))
	}
	return nil
}

func (o errorModeOption) applyPool(c *config) error {
	c.errorMode = ErrorMode(o)
	return o.check()
}

func (o errorModeOption) applyMap(c *mapConfig) error {
	c.errorMode = ErrorMode(o)
	return o.check()
}

// mapConfig is the configuration of one Map, MapSlice or Group.
type mapConfig struct {
	chunk     int
	window    int // 0: default, 4 × maxWorkers
	unordered bool
	errorMode ErrorMode
}

type mapOption func(*mapConfig) error

func (o mapOption) applyMap(c *mapConfig) error { return o(c) }

// WithChunkSize makes each task process n consecutive inputs, which cuts
// the per-task overhead for tiny functions (Python's chunksize). Default
// 1; n must be at least 1.
func WithChunkSize(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("pool: WithChunkSize(%d): must be >= 1", n)
		}
		c.chunk = n
		return nil
	})
}

// WithWindow bounds how many chunks may be in flight (submitted, or done
// but not yet consumed) at once, so memory is bounded by window × chunk
// items whatever the input size. Default 4 × the pool's maxWorkers; n must
// be at least 1.
func WithWindow(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("pool: WithWindow(%d): must be >= 1", n)
		}
		c.window = n
		return nil
	})
}

// WithUnordered yields results as they complete instead of in input
// order; each Result still carries its input's Index.
func WithUnordered() MapOption {
	return mapOption(func(c *mapConfig) error {
		c.unordered = true
		return nil
	})
}

func newMapConfig(p *Pool, opts []MapOption) (mapConfig, error) {
	c := mapConfig{chunk: 1}
	for _, o := range opts {
		if o == nil {
			return c, errors.New("pool: nil MapOption")
		}
		if err := o.applyMap(&c); err != nil {
			return c, err
		}
	}
	if c.window == 0 {
		c.window = 4 * p.cfg.maxWorkers
	}
	return c, nil
}

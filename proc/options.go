package proc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/pool"
)

// Defaults of the options.
const (
	defaultGrace        = time.Second
	defaultStartTimeout = 30 * time.Second

	// Without WithInflight, a worker's window adapts to its tasks: about
	// windowWork of queued work, between minWindow and maxWindow tasks.
	windowWork  = time.Millisecond
	minWindow   = 2
	maxWindow   = 64
	firstWindow = 8 // before any task has finished
	minMaxFrame = 4 << 10
)

// Option configures a Pool in New (and a Process in Start, where the
// options about many workers do not apply and are rejected).
type Option interface {
	applyProc(*config) error
}

// config is a Pool's configuration after options.
type config struct {
	timeout      time.Duration
	grace        time.Duration
	inflight     int // fixed window per worker; 0 adapts it
	retries      int
	maxTasks     int
	maxRSS       uint64
	init         *initSpec
	stdout       io.Writer
	stderr       io.Writer
	maxFrame     int
	startTimeout time.Duration

	poolOnly []string // names of the options given that only pools take
	single   bool     // a Process: one worker, never replaced
}

// initSpec is the initializer each worker runs before its first task.
type initSpec struct {
	name string
	arg  []byte
}

func defaultConfig() config {
	return config{
		grace:        defaultGrace,
		stdout:       os.Stdout,
		stderr:       os.Stderr,
		maxFrame:     wire.DefaultMaxFrame,
		startTimeout: defaultStartTimeout,
	}
}

func (c *config) apply(opts []Option) error {
	for _, o := range opts {
		if o == nil {
			return errors.New("proc: nil option")
		}
		if err := o.applyProc(c); err != nil {
			return err
		}
	}
	return nil
}

type option func(*config) error

func (o option) applyProc(c *config) error { return o(c) }

// poolOption marks an option that makes sense only for a Pool.
func poolOption(name string, fn func(*config) error) Option {
	return option(func(c *config) error {
		c.poolOnly = append(c.poolOnly, name)
		return fn(c)
	})
}

// WithTimeout limits how long each task (each input of a Map) may run once
// a worker has started it. Past d, the task's context is cancelled; a task
// that returns then, or that has not returned WithStopGrace later (its
// worker is then killed and replaced), fails with an error matching
// ErrTimeout. Default: no limit; d must be positive.
func WithTimeout(d time.Duration) Option {
	return option(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("proc: WithTimeout(%v): must be positive", d)
		}
		c.timeout = d
		return nil
	})
}

// WithStopGrace sets how long a task whose context was cancelled (by its
// caller or by WithTimeout) may go on running before its worker process
// is killed to stop it. Default 1s; d may be 0 (kill at once) but not
// negative.
func WithStopGrace(d time.Duration) Option {
	return option(func(c *config) error {
		if d < 0 {
			return fmt.Errorf("proc: WithStopGrace(%v): must not be negative", d)
		}
		c.grace = d
		return nil
	})
}

// WithInflight fixes how many tasks (or Map chunks) the pool sends to one
// worker ahead of their turn. More hides the round trip for small tasks;
// fewer balances long tasks of uneven length better. By default the
// window adapts to the tasks' duration: about a millisecond of work,
// between 2 and 64 tasks (8 until the first ones finish), so tiny tasks
// are batched and long ones spread evenly. n must be at least 1.
func WithInflight(n int) Option {
	return poolOption("WithInflight", func(c *config) error {
		if n < 1 {
			return fmt.Errorf("proc: WithInflight(%d): must be at least 1", n)
		}
		c.inflight = n
		return nil
	})
}

// WithRetries lets a task that was running when its worker died (crash,
// os.Exit, signal) run again, up to n more times, on another worker,
// before it fails with the *WorkerError. Tasks queued behind it on that
// worker had not started and always go to another worker. In a Map chunk
// the pool cannot tell which input was running, so every unfinished input
// of the chunk counts as running: with retries they are sent again one by
// one, so that an input that crashes its worker fails alone. Default 0: a
// task is never run twice. n must not be negative.
func WithRetries(n int) Option {
	return poolOption("WithRetries", func(c *config) error {
		if n < 0 {
			return fmt.Errorf("proc: WithRetries(%d): must not be negative", n)
		}
		c.retries = n
		return nil
	})
}

// WithMaxTasks replaces each worker after it was given n tasks (each Map
// input counts), for code that leaks: Python's maxtasksperchild. The
// replacement starts at once; the old worker finishes what it holds and
// exits, so the backlog does not stall. Default: never; n must be at
// least 1.
func WithMaxTasks(n int) Option {
	return poolOption("WithMaxTasks", func(c *config) error {
		if n < 1 {
			return fmt.Errorf("proc: WithMaxTasks(%d): must be at least 1", n)
		}
		c.maxTasks = n
		return nil
	})
}

// WithMaxRSS replaces a worker once its resident memory passes bytes
// (checked as it reports results, at most every few milliseconds), the
// same way as WithMaxTasks. Default: no limit; bytes must be positive.
func WithMaxRSS(bytes uint64) Option {
	return poolOption("WithMaxRSS", func(c *config) error {
		if bytes == 0 {
			return errors.New("proc: WithMaxRSS(0): must be positive")
		}
		c.maxRSS = bytes
		return nil
	})
}

// WithInit runs f(in) once in every worker before its first task, for
// state a worker keeps (a connection, a loaded model) in package
// variables. f's result is discarded. If it fails (error or panic) in any
// worker, New fails with an error wrapping ErrInit; if it fails in a
// replacement worker later, the pool stops taking work: queued and new
// tasks fail with that error (it is never retried in a loop). Default: no
// initializer.
func WithInit[In, Out any](f *Func[In, Out], in In) Option {
	return option(func(c *config) error {
		if err := f.usable(); err != nil {
			return fmt.Errorf("proc: WithInit: %w", err)
		}
		arg, err := f.encodeArg(nil, in)
		if err != nil {
			return fmt.Errorf("proc: WithInit: %w", err)
		}
		c.init = &initSpec{name: f.name, arg: arg[4:]} // the value, without its item header
		return nil
	})
}

// WithStdout sets where the workers' standard output goes. Default
// os.Stdout (the parent's, shared directly). w must not be nil; use
// io.Discard to drop it.
func WithStdout(w io.Writer) Option {
	return option(func(c *config) error {
		if w == nil {
			return errors.New("proc: WithStdout(nil): use io.Discard to drop the output")
		}
		c.stdout = w
		return nil
	})
}

// WithStderr sets where the workers' standard error goes. Default
// os.Stderr. Either way the pool keeps the last lines of each worker's
// stderr for its *WorkerError. w must not be nil; use io.Discard to drop
// it.
func WithStderr(w io.Writer) Option {
	return option(func(c *config) error {
		if w == nil {
			return errors.New("proc: WithStderr(nil): use io.Discard to drop the output")
		}
		c.stderr = w
		return nil
	})
}

// WithMaxFrame bounds the size of one message between the pool and a
// worker, in bytes: an argument or result that does not fit fails its
// task with ErrEncoding, and a worker that sends a larger frame is killed
// (*WorkerError). Default 64 MiB; n must be at least 4 KiB.
func WithMaxFrame(n int) Option {
	return option(func(c *config) error {
		if n < minMaxFrame {
			return fmt.Errorf("proc: WithMaxFrame(%d): must be at least %d", n, minMaxFrame)
		}
		c.maxFrame = n
		return nil
	})
}

// WithStartTimeout bounds how long a worker may take to start, handshake
// and run its initializer. Default 30s; d must be positive.
func WithStartTimeout(d time.Duration) Option {
	return option(func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("proc: WithStartTimeout(%v): must be positive", d)
		}
		c.startTimeout = d
		return nil
	})
}

// MapOption configures Map and MapSlice.
type MapOption interface {
	applyMap(*mapConfig) error
}

// mapConfig is the configuration of one Map or MapSlice.
type mapConfig struct {
	chunk     int // 0: the default (1 for Map, a quarter of a worker's share for MapSlice)
	window    int // 0: 4 chunks per worker
	unordered bool
	errorMode pool.ErrorMode
}

type mapOption func(*mapConfig) error

func (o mapOption) applyMap(c *mapConfig) error { return o(c) }

// WithChunkSize sends n consecutive inputs to a worker as one message,
// which divides the per-task cost of tiny functions (Python's chunksize).
// Default 1 for Map; for MapSlice, len(in) divided by four times the
// number of workers, as Python's Pool.map does. n must be at least 1.
func WithChunkSize(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("proc: WithChunkSize(%d): must be at least 1", n)
		}
		c.chunk = n
		return nil
	})
}

// WithWindow bounds the chunks of one Map that are in flight or finished
// but not yet consumed, which bounds its memory however long the input.
// Default four per worker; n must be at least 1.
func WithWindow(n int) MapOption {
	return mapOption(func(c *mapConfig) error {
		if n < 1 {
			return fmt.Errorf("proc: WithWindow(%d): must be at least 1", n)
		}
		c.window = n
		return nil
	})
}

// WithUnordered makes Map yield each chunk's results as soon as the chunk
// completes, instead of in input order (Python's imap_unordered).
func WithUnordered() MapOption {
	return mapOption(func(c *mapConfig) error {
		c.unordered = true
		return nil
	})
}

// WithErrorMode chooses what Map and MapSlice do with failed inputs, as
// in package pool: pool.FirstError (the default) yields or returns the
// first failure and cancels the rest; pool.AllErrors runs every input.
func WithErrorMode(m pool.ErrorMode) MapOption {
	return mapOption(func(c *mapConfig) error {
		if m != pool.FirstError && m != pool.AllErrors {
			return fmt.Errorf("proc: WithErrorMode(%d): unknown mode", int(m))
		}
		c.errorMode = m
		return nil
	})
}

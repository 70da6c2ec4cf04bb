package proc

import (
	"context"
	"fmt"
	"strings"

	"github.com/skein-go/skein/future"
)

// Process is one registered function running in a new process of its
// own: Python's multiprocessing.Process(target=..., args=...). Start makes
// one; its methods are safe for concurrent use.
type Process[Out any] struct {
	pool *Pool
	pid  int
	fut  *future.Future[Out]
	done chan struct{} // closed once the process has exited and the fields below are set
	val  Out
	err  error
	exit *WorkerError // how the process ended
}

// Start runs f(in) in a new process and returns once the process has
// started (passed the handshake and run WithInit's initializer, if given).
// ctx is the task's context, as for Submit: when it ends, the function's
// context is cancelled, and the process is killed if the function has
// not returned within WithStopGrace.
//
// Options about several workers (WithInflight, WithRetries, WithMaxTasks,
// WithMaxRSS) are rejected; WithTimeout, WithStopGrace, WithInit,
// WithStdout, WithStderr, WithMaxFrame and WithStartTimeout apply. Start
// fails like New: ErrNoMain, ErrMismatch, ErrInit, an unusable f or an
// argument that cannot be encoded.
//
// The process ends by itself once f returns; call Wait to collect the
// result, or Kill to end it early. A Process whose function never returns
// lives until it is killed.
func Start[In, Out any](ctx context.Context, f *Func[In, Out], in In, opts ...Option) (*Process[Out], error) {
	if err := f.usable(); err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	if err := cfg.apply(opts); err != nil {
		return nil, err
	}
	if len(cfg.poolOnly) > 0 {
		return nil, fmt.Errorf("proc: Start: %s apply to pools only", strings.Join(cfg.poolOnly, ", "))
	}
	cfg.single, cfg.inflight = true, 1
	// Encode first: a bad argument must not cost a process.
	if _, err := f.encodeArg(nil, in); err != nil {
		return nil, err
	}
	p, err := newPool(1, cfg)
	if err != nil {
		return nil, err
	}
	pr := &Process[Out]{pool: p, done: make(chan struct{})}
	p.mu.Lock()
	pr.pid = p.serving[0].pid
	p.onExit = func(werr *WorkerError) { pr.exit = werr }
	p.mu.Unlock()
	pr.fut = Submit(ctx, p, f, in)
	go pr.wait()
	return pr, nil
}

// wait collects the result, then lets the process exit (it reads EOF) and
// reaps it. It ends once the function has returned or the process died.
func (pr *Process[Out]) wait() {
	pr.val, pr.err = pr.fut.Wait(context.Background())
	_ = pr.pool.Shutdown(context.Background())
	close(pr.done)
}

// Pid returns the process id.
func (pr *Process[Out]) Pid() int { return pr.pid }

// Done returns a channel closed once the process has exited and its
// result is known.
func (pr *Process[Out]) Done() <-chan struct{} { return pr.done }

// Wait waits until the process has exited and returns the function's
// result, or its error: the function's own (*TaskError,
// *future.PanicError), ErrTimeout, the task context's error, or a
// *WorkerError when the process died first (os.Exit, a signal, Kill).
// If ctx ends first, Wait returns ctx.Err() and the process goes on.
func (pr *Process[Out]) Wait(ctx context.Context) (Out, error) {
	select {
	case <-pr.done:
		return pr.val, pr.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// Kill ends the process at once (SIGKILL); a function still running fails
// with a *WorkerError. Killing a process that has exited does nothing.
func (pr *Process[Out]) Kill() {
	p := pr.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	for w := range p.all {
		w.kill()
	}
}

// ExitCode returns the process's exit status once it has exited, or -1
// while it runs or when a signal ended it (see the *WorkerError from
// Wait).
func (pr *Process[Out]) ExitCode() int {
	select {
	case <-pr.done:
	default:
		return -1
	}
	if pr.exit == nil {
		return -1
	}
	return pr.exit.ExitCode
}

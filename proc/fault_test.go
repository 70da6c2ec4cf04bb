package proc

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/wire"
)

// Each fault below must fail only its own task, with a typed error, while
// other tasks complete and the pool replaces the worker.

// runFault submits fault on a pool of two workers among healthy tasks and
// returns the fault's error after checking everything else.
func runFault(t *testing.T, opts []Option, fault func(ctx context.Context, p *Pool) *future.Future[int]) (Stats, error) {
	t.Helper()
	p := newTestPool(t, 2, append([]Option{WithStderr(io.Discard)}, opts...)...)
	ctx := context.Background()
	var healthy []*future.Future[int]
	for i := range 20 {
		healthy = append(healthy, Submit(ctx, p, square, i))
	}
	bad := fault(ctx, p)
	for i := range 20 {
		healthy = append(healthy, Submit(ctx, p, square, 20+i))
	}
	_, err := bad.Wait(ctx)
	for i, f := range healthy {
		if v, err := f.Wait(ctx); err != nil || v != i*i {
			t.Fatalf("healthy task %d: %v, %v", i, v, err)
		}
	}
	// The pool still has two workers that work.
	for i := range 4 {
		if v, err := Submit(ctx, p, square, i).Wait(ctx); err != nil || v != i*i {
			t.Fatalf("after the fault: %v, %v", v, err)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	checkStats(t, s)
	return s, err
}

func TestOsExitFailsItsTaskWithWorkerError(t *testing.T) {
	s, err := runFault(t, nil, func(ctx context.Context, p *Pool) *future.Future[int] {
		return Submit(ctx, p, exit, 7)
	})
	var we *WorkerError
	if !errors.As(err, &we) || we.ExitCode != 7 || we.Signal != nil || !strings.Contains(we.Stderr, "leaving with status 7") {
		t.Fatalf("err = %#v, want *WorkerError with status 7 and the stderr tail", err)
	}
	if s.WorkersCrashed != 1 || s.WorkersStarted != 3 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestSignalFailsItsTaskWithWorkerError(t *testing.T) {
	s, err := runFault(t, nil, func(ctx context.Context, p *Pool) *future.Future[int] {
		return Submit(ctx, p, killSelf, 0)
	})
	var we *WorkerError
	if !errors.As(err, &we) || we.Signal != syscall.SIGKILL || we.ExitCode != -1 {
		t.Fatalf("err = %v, want *WorkerError for SIGKILL", err)
	}
	if s.WorkersCrashed != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestSegfaultFailsItsTaskWithWorkerError(t *testing.T) {
	_, err := runFault(t, nil, func(ctx context.Context, p *Pool) *future.Future[int] {
		return Submit(ctx, p, segfault, 0)
	})
	var we *WorkerError
	if !errors.As(err, &we) || !strings.Contains(we.Stderr, "SIGSEGV") || !strings.Contains(err.Error(), "fault") {
		t.Fatalf("err = %v, want *WorkerError whose stderr shows the SIGSEGV", err)
	}
}

func TestDeathWhileDecodingOrEncodingFailsItsTask(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context, p *Pool) *future.Future[int]
		code int
	}{
		{"decoding the argument", func(ctx context.Context, p *Pool) *future.Future[int] {
			return Submit(ctx, p, decodeTrap, trapArg(1))
		}, 5},
		{"encoding the result", func(ctx context.Context, p *Pool) *future.Future[int] {
			f := Submit(ctx, p, encodeTrap, 3)
			out := future.NewPromise[int]()
			out.Start()
			f.OnDone(func(v trapArg, err error) { out.Resolve(int(v), err) })
			return out.Future()
		}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runFault(t, nil, tt.run)
			var we *WorkerError
			if !errors.As(err, &we) || we.ExitCode != tt.code {
				t.Fatalf("err = %v, want *WorkerError with status %d", err, tt.code)
			}
		})
	}
}

func TestCorruptFrameKillsOnlyThatWorker(t *testing.T) {
	for _, oversized := range []bool{false, true} {
		t.Run("oversized="+strconv.FormatBool(oversized), func(t *testing.T) {
			s, err := runFault(t, nil, func(ctx context.Context, p *Pool) *future.Future[int] {
				return Submit(ctx, p, corrupt, oversized)
			})
			want := wire.ErrCorrupt
			if oversized {
				want = wire.ErrTooLarge
			}
			var we *WorkerError
			if !errors.As(err, &we) || !errors.Is(err, want) {
				t.Fatalf("err = %v, want *WorkerError wrapping %v", err, want)
			}
			if s.WorkersKilled != 1 {
				t.Fatalf("stats: %+v", s)
			}
		})
	}
}

func TestKilledWorkerFailsOnlyItsRunningTask(t *testing.T) {
	p := newTestPool(t, 1, WithInflight(4), WithStderr(io.Discard))
	ctx := context.Background()
	path := fifo(t)
	running := Submit(ctx, p, announce, announcement{FIFO: path, IgnoreContext: true})
	// These wait behind it on the same worker: they never started, so
	// they go to the replacement instead of failing.
	var queued []*future.Future[int]
	for i := range 3 {
		queued = append(queued, Submit(ctx, p, square, i))
	}
	victim := announced(t, path)
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	var we *WorkerError
	if _, err := running.Wait(ctx); !errors.As(err, &we) || we.Pid != victim || we.Signal != syscall.SIGKILL {
		t.Fatalf("running task: %v, want *WorkerError for pid %d killed", err, victim)
	}
	for i, f := range queued {
		if v, err := f.Wait(ctx); err != nil || v != i*i {
			t.Fatalf("queued task %d: %v, %v", i, v, err)
		}
	}
	s := p.Stats()
	checkStats(t, s)
	if s.WorkersCrashed != 1 || s.Retried != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestRetriesRunALostTaskAgain(t *testing.T) {
	p := newTestPool(t, 1, WithRetries(1), WithStderr(io.Discard))
	ctx := context.Background()
	marker := filepath.Join(t.TempDir(), "crashed")
	if v, err := Submit(ctx, p, crashOnce, marker).Wait(ctx); err != nil || v != 42 {
		t.Fatalf("retried task: %v, %v; want 42", v, err)
	}
	if s := p.Stats(); s.Retried != 1 || s.WorkersCrashed != 1 {
		t.Fatalf("stats: %+v", s)
	}
	// A task that always crashes fails after its retries.
	var we *WorkerError
	if _, err := Submit(ctx, p, exit, 9).Wait(ctx); !errors.As(err, &we) || we.ExitCode != 9 {
		t.Fatalf("err = %v, want *WorkerError", err)
	}
	if s := p.Stats(); s.Retried != 2 || s.WorkersCrashed != 3 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestTimeout(t *testing.T) {
	tests := []struct {
		name   string
		ignore bool // the task ignores its context: its worker must be killed
	}{
		{"task returns when its context ends", false},
		{"task ignores its context", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A task that stops gets all the time it needs; one that does not
			// is killed at once.
			grace := time.Hour
			if tt.ignore {
				grace = 0
			}
			opts := []Option{WithTimeout(50 * time.Millisecond), WithStopGrace(grace)}
			var victim int
			s, err := runFault(t, opts, func(ctx context.Context, p *Pool) *future.Future[int] {
				path := fifo(t)
				f := Submit(ctx, p, announce, announcement{FIFO: path, IgnoreContext: tt.ignore})
				victim = announced(t, path)
				return f
			})
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if s.TimedOut != 1 {
				t.Fatalf("stats: %+v", s)
			}
			alive := syscall.Kill(victim, 0) == nil
			if tt.ignore && (s.WorkersKilled != 1 || alive) {
				t.Fatalf("stuck task: worker %d alive %v; stats %+v", victim, alive, s)
			}
			if !tt.ignore && s.WorkersKilled != 0 {
				t.Fatalf("task that stopped: its worker was killed; stats %+v", s)
			}
		})
	}
}

func TestCancelReachesTheWorker(t *testing.T) {
	tests := []struct {
		name   string
		ignore bool
		cancel func(f *future.Future[int], cancel context.CancelFunc)
		want   error
	}{
		{"context, task stops", false, func(_ *future.Future[int], c context.CancelFunc) { c() }, context.Canceled},
		{"context, task ignores it", true, func(_ *future.Future[int], c context.CancelFunc) { c() }, context.Canceled},
		{"Future.Cancel, task stops", false, func(f *future.Future[int], _ context.CancelFunc) { f.Cancel() }, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A task that stops gets all the time it needs; one that does not
			// is killed at once.
			grace := time.Hour
			if tt.ignore {
				grace = 0
			}
			s, err := runFault(t, []Option{WithStopGrace(grace)}, func(ctx context.Context, p *Pool) *future.Future[int] {
				path := fifo(t)
				tctx, cancel := context.WithCancel(ctx)
				t.Cleanup(cancel)
				f := Submit(tctx, p, announce, announcement{FIFO: path, IgnoreContext: tt.ignore})
				announced(t, path)
				tt.cancel(f, cancel)
				return f
			})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if s.Cancelled != 1 || (tt.ignore != (s.WorkersKilled == 1)) {
				t.Fatalf("stats: %+v", s)
			}
		})
	}
}

func TestCancelWhileQueuedNeverRuns(t *testing.T) {
	p := newTestPool(t, 1, WithInflight(1))
	ctx := context.Background()
	path := fifo(t)
	first := Submit(ctx, p, announce, announcement{FIFO: path})
	announced(t, path)
	qctx, cancel := context.WithCancel(ctx)
	queued := Submit(qctx, p, exit, 1) // would kill the worker if it ran
	cancel()
	if _, err := queued.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("queued task: %v, want context.Canceled", err)
	}
	// Future.Cancel of a queued task works the same way.
	queued2 := Submit(ctx, p, exit, 1)
	if !queued2.Cancel() {
		t.Fatal("Cancel of a queued task returned false")
	}
	first.Cancel()
	if _, err := first.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("first: %v", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	checkStats(t, s)
	if s.WorkersCrashed != 0 || s.WorkersStarted != 1 || s.Cancelled != 3 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestDeadlineReachesTheWorker(t *testing.T) {
	p := newTestPool(t, 1, WithStopGrace(0), WithStderr(io.Discard))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Nobody reads this FIFO: the task blocks in open(2), deaf to its
	// context, until the worker ends itself.
	_, err := Submit(ctx, p, announce, announcement{FIFO: fifo(t)}).Wait(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := p.Stats(); s.Cancelled != 1 || s.WorkersKilled != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestShutdownSurvivesAWorkerDying(t *testing.T) {
	p := newTestPool(t, 2, WithInflight(2), WithStderr(io.Discard))
	ctx := context.Background()
	var fs []*future.Future[int]
	for i := range 30 {
		if i == 10 {
			fs = append(fs, Submit(ctx, p, exit, 4))
			continue
		}
		fs = append(fs, Submit(ctx, p, square, i))
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		v, err, ok := f.Result()
		switch {
		case !ok:
			t.Fatalf("task %d unresolved after Shutdown", i)
		case i == 10:
			var we *WorkerError
			if !errors.As(err, &we) {
				t.Fatalf("exit task: %v", err)
			}
		case err != nil || v != i*i:
			t.Fatalf("task %d: %v, %v", i, v, err)
		}
	}
	checkStats(t, p.Stats())
}

package proc

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
)

func TestSubmitReturnsTypedResults(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	if v, err := Submit(ctx, p, square, 7).Wait(ctx); err != nil || v != 49 {
		t.Fatalf("square(7) = %v, %v; want 49", v, err)
	}
	if s, err := Submit(ctx, p, echo, "héllo, 世界").Wait(ctx); err != nil || s != "héllo, 世界" {
		t.Fatalf("echo = %q, %v", s, err)
	}
	if v, err := Submit(ctx, p, decodeTrap, trapArg(77)).Wait(ctx); err != nil || v != 77 {
		t.Fatalf("binary-coded argument: %v, %v", v, err)
	}
	if v, err := Submit(ctx, p, encodeTrap, 78).Wait(ctx); err != nil || v != 78 {
		t.Fatalf("binary-coded result: %v, %v", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkStats(t, p.Stats())
}

func TestManyTasksInFlightAllComplete(t *testing.T) {
	p := newTestPool(t, 2, WithInflight(4))
	ctx := context.Background()
	fs := make([]*future.Future[int], 500)
	for i := range fs {
		fs[i] = Submit(ctx, p, square, i)
	}
	vs, err := future.All(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if v != i*i {
			t.Fatalf("task %d = %d", i, v)
		}
	}
	s := p.Stats()
	checkStats(t, s)
	if s.Submitted != 500 || s.Completed != 500 || s.Workers != 2 {
		t.Fatalf("stats after 500 tasks: %+v", s)
	}
}

func TestTaskErrorKeepsItsMessage(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	_, err := Submit(ctx, p, fail, "disk full").Wait(ctx)
	var te *TaskError
	if !errors.As(err, &te) || te.Error() != "disk full" || te.Func != "test.fail" {
		t.Fatalf("err = %#v, want *TaskError with the task's message", err)
	}
	checkStats(t, p.Stats())
	if s := p.Stats(); s.Failed != 1 || s.WorkersCrashed != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestPanicFailsOnlyItsTaskAndWorkerSurvives(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	before, _ := Submit(ctx, p, pid, 0).Wait(ctx)
	_, err := Submit(ctx, p, boom, "kaboom").Wait(ctx)
	var pe *future.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || !strings.Contains(string(pe.Stack), "main_test.go") {
		t.Fatalf("err = %v, want *future.PanicError with the value and the worker's stack", err)
	}
	after, err := Submit(ctx, p, pid, 0).Wait(ctx)
	if err != nil || after != before {
		t.Fatalf("worker after a panic: pid %d, %v; want the same worker %d", after, err, before)
	}
	if s := p.Stats(); s.Panicked != 1 || s.WorkersStarted != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestCodecFailuresAreErrEncoding(t *testing.T) {
	p := newTestPool(t, 1, WithMaxFrame(minMaxFrame))
	ctx := context.Background()
	tests := []struct {
		name string
		err  func() error
	}{
		{"argument too large", func() error {
			_, err := Submit(ctx, p, echo, strings.Repeat("a", 2*minMaxFrame)).Wait(ctx)
			return err
		}},
		{"result too large", func() error {
			_, err := Submit(ctx, p, repeat, 2*minMaxFrame).Wait(ctx)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); !errors.Is(err, ErrEncoding) {
				t.Fatalf("err = %v, want ErrEncoding", err)
			}
		})
	}
	// The worker is fine: nothing crashed.
	if v, err := Submit(ctx, p, square, 3).Wait(ctx); err != nil || v != 9 {
		t.Fatalf("after codec failures: %v, %v", v, err)
	}
	if s := p.Stats(); s.WorkersStarted != 1 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestPanicInCodecMethodsIsAPanicError(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		run  func() error
	}{
		{"decoding the argument", func() error { _, err := Submit(ctx, p, decodeTrap, trapArg(2)).Wait(ctx); return err }},
		{"encoding the result", func() error { _, err := Submit(ctx, p, encodeTrap, 4).Wait(ctx); return err }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var pe *future.PanicError
			if err := tt.run(); !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *future.PanicError", err)
			}
		})
	}
	if s := p.Stats(); s.WorkersStarted != 1 || s.Panicked != 2 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestSubmitRejectsBadInput(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name string
		fut  *future.Future[int]
		want error
	}{
		{"nil pool", Submit(ctx, nil, square, 1), nil},
		{"zero Func", Submit(ctx, p, &Func[int, int]{}, 1), nil},
		{"nil Func", Submit(ctx, p, (*Func[int, int])(nil), 1), nil},
		{"broken registration", Submit(ctx, p, badRegistration, 1), nil},
		{"context already cancelled", Submit(cancelled, p, square, 1), context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.fut.Wait(ctx)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("err = %v, want an error (%v)", err, tt.want)
			}
		})
	}
}

var (
	badRegistration = Register("", func(_ context.Context, x int) (int, error) { return x, nil })
	dupSquare       = Register("test.square", func(_ context.Context, x int) (int, error) { return -x, nil })
)

func TestRegisterReportsBrokenRegistrations(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"empty name", badRegistration.Err(), "empty name"},
		{"nil function", Register[int, int]("test.nil", nil).usable(), "nil function"},
		{"name taken", dupSquare.usable(), "already registered"},
		{"channel argument", Register("test.chan", func(context.Context, chan int) (int, error) { return 0, nil }).usable(), "cannot cross"},
		{"function result", Register("test.func", func(context.Context, int) (func(), error) { return nil, nil }).usable(), "cannot cross"},
		// Main has run: this registration cannot reach the workers.
		{"after Main", Register("test.late", func(_ context.Context, x int) (int, error) { return x, nil }).usable(), "after proc.Main"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) || !strings.HasPrefix(tt.err.Error(), "proc: register") {
				t.Fatalf("err = %v, want a proc: register error mentioning %q", tt.err, tt.want)
			}
		})
	}
	if square.Name() != "test.square" {
		t.Fatalf("Name() = %q", square.Name())
	}
	if err := square.Err(); err != nil {
		t.Fatalf("Err() of a good registration = %v", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		n    int
		opt  Option
	}{
		{"no workers", 0, nil},
		{"nil option", 1, nil},
		{"zero timeout", 1, WithTimeout(0)},
		{"negative grace", 1, WithStopGrace(-time.Second)},
		{"zero inflight", 1, WithInflight(0)},
		{"negative retries", 1, WithRetries(-1)},
		{"zero max tasks", 1, WithMaxTasks(0)},
		{"zero max RSS", 1, WithMaxRSS(0)},
		{"nil stdout", 1, WithStdout(nil)},
		{"nil stderr", 1, WithStderr(nil)},
		{"tiny frames", 1, WithMaxFrame(100)},
		{"zero start timeout", 1, WithStartTimeout(0)},
		{"initializer not registered", 1, WithInit(badRegistration, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.n, tt.opt)
			if err == nil {
				p.Close()
				t.Fatal("New accepted it")
			}
			if !strings.HasPrefix(err.Error(), "proc: ") {
				t.Fatalf("err = %q, want a proc: prefix", err)
			}
		})
	}
}

func TestInitializerRunsInEveryWorker(t *testing.T) {
	p := newTestPool(t, 2, WithInit(setGreeting, "bonjour"))
	ctx := context.Background()
	for range 4 {
		if g, err := Submit(ctx, p, getGreeting, 0).Wait(ctx); err != nil || g != "bonjour" {
			t.Fatalf("greeting = %q, %v", g, err)
		}
	}
}

func TestFailingInitializerFailsNew(t *testing.T) {
	tests := []struct {
		arg       string
		wantPanic bool
	}{{"fail", false}, {"panic", true}}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			_, err := New(2, WithInit(setGreeting, tt.arg), WithStderr(io.Discard))
			var pe *future.PanicError
			if !errors.Is(err, ErrInit) || errors.As(err, &pe) != tt.wantPanic {
				t.Fatalf("err = %v, want ErrInit (panic %v)", err, tt.wantPanic)
			}
		})
	}
}

func TestInitializerFailingInReplacementStopsThePool(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "refuse")
	p := newTestPool(t, 1, WithInit(setGreeting, marker), WithStderr(io.Discard))
	ctx := context.Background()
	// From now on a new worker's initializer fails.
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Submit(ctx, p, exit, 1).Wait(ctx); err == nil {
		t.Fatal("exit task succeeded")
	}
	// The replacement fails to start: queued and new work fail with the
	// initializer's error instead of waiting forever.
	_, err := Submit(ctx, p, square, 2).Wait(ctx)
	if !errors.Is(err, ErrInit) {
		t.Fatalf("err = %v, want ErrInit", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownRunsEverythingAccepted(t *testing.T) {
	p := newTestPool(t, 2, WithInflight(1))
	ctx := context.Background()
	fs := make([]*future.Future[int], 50)
	for i := range fs {
		fs[i] = Submit(ctx, p, square, i)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if v, err, ok := f.Result(); !ok || err != nil || v != i*i {
			t.Fatalf("task %d after Shutdown: %v, %v, done %v", i, v, err, ok)
		}
	}
	if _, err := Submit(ctx, p, square, 1).Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Shutdown: %v, want ErrClosed", err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	s := p.Stats()
	checkStats(t, s)
	if s.Workers != 0 || s.Completed != 50 {
		t.Fatalf("stats after Shutdown: %+v", s)
	}
}

func TestShutdownHonoursContext(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	path := fifo(t)
	f := Submit(ctx, p, announce, announcement{FIFO: path})
	announced(t, path)
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.Shutdown(short); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown with a cancelled context: %v", err)
	}
	// Close cuts it short: the running task fails with ErrClosed.
	p.Close()
	if _, err := f.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("running task after Close: %v, want ErrClosed", err)
	}
}

func TestCloseFailsQueuedAndRunningTasks(t *testing.T) {
	p := newTestPool(t, 1, WithInflight(1))
	ctx := context.Background()
	path := fifo(t)
	running := Submit(ctx, p, announce, announcement{FIFO: path, IgnoreContext: true})
	announced(t, path)
	queued := Submit(ctx, p, square, 3)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]*future.Future[int]{"running": running, "queued": queued} {
		if _, err := f.Wait(ctx); !errors.Is(err, ErrClosed) {
			t.Fatalf("%s task after Close: %v, want ErrClosed", name, err)
		}
	}
	if queued.State() != future.Cancelled {
		t.Fatalf("queued task state = %v, want Cancelled", queued.State())
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s := p.Stats()
	checkStats(t, s)
	if s.Cancelled != 2 {
		t.Fatalf("stats after Close: %+v", s)
	}
}

func TestMaxTasksRecyclesWorkers(t *testing.T) {
	p := newTestPool(t, 1, WithMaxTasks(3), WithInflight(1))
	ctx := context.Background()
	fs := make([]*future.Future[int], 10)
	for i := range fs {
		fs[i] = Submit(ctx, p, pid, 0)
	}
	pids, err := future.All(ctx, fs)
	if err != nil {
		t.Fatal(err)
	}
	perWorker := map[int]int{}
	for _, pid := range pids {
		perWorker[pid]++
	}
	for pid, n := range perWorker {
		if n > 3 {
			t.Fatalf("worker %d ran %d tasks, limit 3", pid, n)
		}
	}
	if len(perWorker) != 4 {
		t.Fatalf("%d workers ran 10 tasks with 3 each, want 4: %v", len(perWorker), perWorker)
	}
	if s := p.Stats(); s.WorkersRecycled < 3 || s.WorkersCrashed != 0 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestMaxRSSRecyclesWorkers(t *testing.T) {
	// Every worker is over one byte after its first task.
	p := newTestPool(t, 1, WithMaxRSS(1), WithInflight(1))
	ctx := context.Background()
	seen := map[int]bool{}
	for range 3 {
		pid, err := Submit(ctx, p, pid, 0).Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen[pid] = true
	}
	if len(seen) != 3 {
		t.Fatalf("3 tasks ran on %d workers, want a new worker each time", len(seen))
	}
	if s := p.Stats(); s.WorkersRecycled < 2 {
		t.Fatalf("stats: %+v", s)
	}
}

func TestCheckHelloRefusesOtherBuilds(t *testing.T) {
	good := wire.Hello{Version: wire.Version, Build: buildID(), Funcs: registry.Signatures()}
	if err := checkHello(&good); err != nil {
		t.Fatalf("same build refused: %v", err)
	}
	tests := []struct {
		name  string
		hello wire.Hello
		want  string
	}{
		{"version", wire.Hello{Version: 99, Build: good.Build, Funcs: good.Funcs}, "protocol version"},
		{"build", wire.Hello{Version: wire.Version, Build: "go:other", Funcs: good.Funcs}, "build"},
		{"functions", wire.Hello{Version: wire.Version, Build: good.Build, Funcs: append(good.Funcs[1:], "extra(int) int")}, "only in the worker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHello(&tt.hello)
			if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrMismatch mentioning %q", err, tt.want)
			}
		})
	}
}

func TestBuildIDIsStable(t *testing.T) {
	id := buildID()
	if id == "" || id == "unknown" || id != buildID() {
		t.Fatalf("buildID() = %q", id)
	}
	if h := fileHash(os.Args[0]); !strings.HasPrefix(h, "sha256:") {
		t.Fatalf("fileHash = %q", h)
	}
	if goBuildID(filepath.Join(t.TempDir(), "missing")) != "" {
		t.Fatal("goBuildID of a missing file")
	}
}

func TestWorkerErrorDescribesTheExit(t *testing.T) {
	tests := []struct {
		err  *WorkerError
		want string
	}{
		{&WorkerError{Pid: 1, ExitCode: 3, Stderr: "a\nlast words\n"}, "proc: worker 1 exited with status 3 (stderr: last words)"},
		{&WorkerError{Pid: 4, ExitCode: 2, Stderr: "x\npanic: boom\n\ngoroutine 1:\nmain.main()\n"}, "proc: worker 4 exited with status 2 (stderr: panic: boom)"},
		{&WorkerError{Pid: 2, ExitCode: -1, Signal: os.Kill}, "proc: worker 2 killed by signal: killed"},
		{&WorkerError{Pid: 3, Err: wire.ErrCorrupt}, "proc: worker 3 failed: wire: corrupt frame"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	if !errors.Is(ErrTimeout, context.DeadlineExceeded) {
		t.Error("ErrTimeout does not match context.DeadlineExceeded")
	}
}

func TestTailKeepsTheLastLines(t *testing.T) {
	tl := &tail{out: io.Discard}
	for i := range 100 {
		tl.Write([]byte(strings.Repeat("x", i) + "\n"))
	}
	lines := strings.Split(strings.TrimSuffix(tl.String(), "\n"), "\n")
	if len(lines) != tailLines || len(lines[len(lines)-1]) != 99 {
		t.Fatalf("tail has %d lines, last of %d bytes", len(lines), len(lines[len(lines)-1]))
	}
	tl.Write([]byte(strings.Repeat("y", 2*tailSize)))
	if len(tl.String()) > tailSize {
		t.Fatalf("tail of %d bytes, limit %d", len(tl.String()), tailSize)
	}
}

func TestTailKeepsTheHeadOfACrash(t *testing.T) {
	tl := &tail{out: io.Discard}
	tl.Write([]byte("starting\nfatal error: fa"))
	tl.Write([]byte("ult\n[signal SIGSEGV: segmentation violation]\n\ngoroutine 1:\n"))
	for range 2 * tailLines {
		tl.Write([]byte("\truntime.stack()\n"))
	}
	got := tl.String()
	if !strings.HasPrefix(got, "fatal error: fault\n[signal SIGSEGV") || !strings.HasSuffix(got, "runtime.stack()\n") {
		t.Fatalf("tail = %q", got)
	}
	if h := headline(got); h != "fatal error: fault" {
		t.Fatalf("headline = %q", h)
	}
}

func TestWorkerWhoseMainSkipsMainIsAClearError(t *testing.T) {
	t.Setenv(envTestNoMain, "1")
	_, err := New(1)
	if err == nil || !strings.Contains(err.Error(), "does main call proc.Main first?") {
		t.Fatalf("New with a worker that never handshakes: %v", err)
	}
	var werr *WorkerError
	if !errors.As(err, &werr) || werr.ExitCode != 0 || !strings.Contains(werr.Stderr, "forgot proc.Main") {
		t.Fatalf("error %v: want a *WorkerError with exit 0 and the worker's stderr", err)
	}
}

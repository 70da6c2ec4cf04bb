package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/progress"
	"go.uber.org/goleak"
)

// envRole makes the test binary play a part in a crash test: a worker
// ("worker URL") or a server ("server DIR PORT").
const envRole = "SKEIN_CLUSTER_TEST_ROLE"

// TestMain lets the test binary be its own worker and server processes,
// and checks that no goroutine and no child process is left behind.
func TestMain(m *testing.M) {
	proc.Main()
	if role := os.Getenv(envRole); role != "" {
		os.Exit(runRole(role))
	}
	goleak.VerifyTestMain(orphanCheck{m},
		// The NATS server's global helpers, started once per process.
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*Server).logRejectedTLSConns"),
	)
}

// orphanCheck runs the tests, then fails the run if this process still
// has children.
type orphanCheck struct{ m *testing.M }

func (o orphanCheck) Run() int {
	code := o.m.Run()
	if kids := children(); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "cluster tests left child processes behind: %v\n", kids)
		return 1
	}
	return code
}

func children() []string {
	var kids []string
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	return kids
}

// Task functions of the tests, registered at package level like a
// program's.
var (
	square = proc.Register("cluster.test.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	echo   = proc.Register("cluster.test.echo", func(_ context.Context, s string) (string, error) { return s, nil })
	fail   = proc.Register("cluster.test.fail", func(_ context.Context, msg string) (int, error) { return 0, errors.New(msg) })
	boom   = proc.Register("cluster.test.panic", func(_ context.Context, msg string) (int, error) { panic(msg) })
	// block waits for its context, or for the gate named by its argument.
	block = proc.Register("cluster.test.block", func(ctx context.Context, gate string) (string, error) {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-gateFor(gate):
			return "released", nil
		}
	})
	// stubborn ignores its context until its gate opens.
	stubborn = proc.Register("cluster.test.stubborn", func(_ context.Context, gate string) (string, error) {
		<-gateFor(gate)
		return "late", nil
	})
	reportN = proc.Register("cluster.test.report", func(ctx context.Context, n int) (int, error) {
		rep := progress.FromContext(ctx)
		rep.AddTotal(int64(n))
		for range n {
			rep.Add(1)
		}
		return n, nil
	})
)

// gates lets tests release blocked tasks of their own process.
var gates sync.Map // string → chan struct{}

func gateFor(name string) chan struct{} {
	c, _ := gates.LoadOrStore(name, make(chan struct{}))
	return c.(chan struct{})
}

func openGate(name string) { close(gateFor(name)) }

var gateSeq atomic.Int64

// newGate names a fresh gate for a test (tests may run several times).
func newGate(t *testing.T) string { return fmt.Sprintf("%s#%d", t.Name(), gateSeq.Add(1)) }

// testCtx is a generous deadline for a test's waits: it fails a hung test
// instead of hanging the run.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestExecutor starts an executor with an embedded server in a
// temporary directory.
func newTestExecutor(t *testing.T, opts ...Option) *Executor {
	t.Helper()
	opts = append([]Option{WithDataDir(t.TempDir())}, opts...)
	e, err := New(testCtx(t), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

var repeat = proc.Register("cluster.test.repeat", func(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil })

// countingReporter is a progress.Reporter that counts.
type countingReporter struct {
	mu          sync.Mutex
	total, done int64
}

func (r *countingReporter) AddTotal(n int64) { r.mu.Lock(); r.total += n; r.mu.Unlock() }
func (r *countingReporter) Add(n int64)      { r.mu.Lock(); r.done += n; r.mu.Unlock() }
func (r *countingReporter) AddFailed(int64)  {}

func (r *countingReporter) counts() (int64, int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, r.done
}

// waitFor polls cond, yielding to the scheduler, until it holds or ctx
// ends (a test failure, not a hang).
func waitFor(ctx context.Context, t *testing.T, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met before the deadline")
		case <-tick.C:
		}
	}
}

// runningTasks counts the tasks the executor's local workers run now.
func runningTasks(e *Executor) int {
	e.localMu.Lock()
	w := e.localW
	e.localMu.Unlock()
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.running)
}

// crashOnce blocks (until its context ends) in the first process that
// runs it and returns the process ID in any later one: the first run is
// the one a crash test kills. Each run announces itself on stdout.
var crashOnce = proc.Register("cluster.test.crash-once", func(ctx context.Context, dir string) (int, error) {
	earlier, _ := os.ReadDir(dir)
	os.WriteFile(filepath.Join(dir, fmt.Sprint("started.", os.Getpid())), nil, 0o644)
	fmt.Printf("started %d\n", os.Getpid())
	if len(earlier) == 0 {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return os.Getpid(), nil
})

package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
)

// child is a process running the test binary in a role.
type child struct {
	cmd   *exec.Cmd
	lines chan string // its stdout, line by line
}

// startChild runs the test binary in role; the child dies with the test
// process (Pdeathsig) and is stopped and reaped at the end of the test.
func startChild(t testing.TB, role string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envRole+"="+role)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() { c.stop() })
	return c
}

// stop ends the child (SIGTERM) and reaps it; it is idempotent.
func (c *child) stop() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	for range c.lines {
	}
	c.cmd.Wait()
}

// kill ends the child with SIGKILL and reaps it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	for range c.lines {
	}
	c.cmd.Wait()
}

// line waits for the child's next line of output.
func (c *child) line(ctx context.Context, t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			t.Fatal("child exited")
		}
		return l
	case <-ctx.Done():
		t.Fatal("no output from child before the deadline")
	}
	return ""
}

func TestKilledWorkersTaskCompletesOnAnotherOnce(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithAckWait(time.Second))
	workers := map[int]*child{}
	announced := make(chan int, 4)
	for range 2 {
		c := startChild(t, "worker "+e.URL()+" 1")
		workers[c.cmd.Process.Pid] = c
		go func() {
			for l := range c.lines {
				var pid int
				if _, err := fmt.Sscanf(l, "started %d", &pid); err == nil {
					announced <- pid
				}
			}
		}()
	}
	f := Submit(ctx, e, crashOnce, t.TempDir())
	var first int
	select {
	case first = <-announced:
	case <-ctx.Done():
		t.Fatal("the task never started")
	}
	workers[first].cmd.Process.Kill() // SIGKILL, mid-task
	v, err := f.Wait(ctx)
	if err != nil || v == first || workers[v] == nil {
		t.Fatalf("result %v, %v; first ran on %d", v, err, first)
	}
	if s := e.Stats(); s.Completed != 1 || s.Submitted != 1 || s.Duplicates != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestServerRestartLosesNoTaskAndNoResult(t *testing.T) {
	ctx := testCtx(t)
	dir, port := t.TempDir(), freePort(t)
	srv := startChild(t, "server "+dir+" "+port)
	url := srv.line(ctx, t)
	e, err := New(ctx, WithURL(url), WithLocalWorkers(4), WithAckWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	before := submitSquares(ctx, e, 0, 50)
	waitAll(ctx, t, before, 0)

	gate := newGate(t)
	var held []*future.Future[string]
	for range 40 {
		held = append(held, Submit(ctx, e, block, gate))
	}
	waitFor(ctx, t, func() bool { return runningTasks(e) == 4 })

	srv.kill()
	during := submitSquares(ctx, e, 50, 30) // accepted while the server is down
	srv = startChild(t, "server "+dir+" "+port)
	srv.line(ctx, t)
	openGate(gate)
	after := submitSquares(ctx, e, 80, 30)

	waitAll(ctx, t, during, 50)
	waitAll(ctx, t, after, 80)
	for i, f := range held {
		if v, err := f.Wait(ctx); err != nil || v != "released" {
			t.Fatalf("held task %d: %q %v", i, v, err)
		}
	}
	if s := e.Stats(); s.Completed != 150 || s.Pending != 0 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestThreeNodeClusterSurvivesANodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-server cluster takes seconds to elect its leaders")
	}
	ctx := testCtx(t)
	ports := []string{freePort(t), freePort(t), freePort(t)}
	cports := []string{freePort(t), freePort(t), freePort(t)}
	var nodes []*child
	var urls []string
	for i := range 3 {
		var routes []string
		for j := range 3 {
			if j != i {
				routes = append(routes, "nats://127.0.0.1:"+cports[j])
			}
		}
		role := fmt.Sprintf("node n%d %s %s %s %s", i, t.TempDir(), ports[i], cports[i], strings.Join(routes, ","))
		nodes = append(nodes, startChild(t, role))
		urls = append(urls, "nats://127.0.0.1:"+ports[i])
	}
	for _, n := range nodes {
		n.line(ctx, t)
	}
	e, err := New(ctx, WithURL(strings.Join(urls, ",")), WithReplicas(3), WithLocalWorkers(4), WithAckWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	waitAll(ctx, t, submitSquares(ctx, e, 0, 100), 0)

	// Kill the node the executor talks to: it must fail over.
	connected := e.nc.ConnectedUrl()
	for i, u := range urls {
		if u == connected || strings.HasSuffix(connected, ":"+ports[i]) {
			nodes[i].kill()
		}
	}
	waitAll(ctx, t, submitSquares(ctx, e, 100, 100), 100)
	if s := e.Stats(); s.Completed != 200 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func submitSquares(ctx context.Context, e *Executor, from, n int) []*future.Future[int] {
	var fs []*future.Future[int]
	for i := from; i < from+n; i++ {
		fs = append(fs, Submit(ctx, e, square, i))
	}
	return fs
}

func waitAll(ctx context.Context, t *testing.T, fs []*future.Future[int], from int) {
	t.Helper()
	for i, f := range fs {
		x := from + i
		if v, err := f.Wait(ctx); err != nil || v != x*x {
			t.Fatalf("square(%d) = %v, %v", x, v, err)
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

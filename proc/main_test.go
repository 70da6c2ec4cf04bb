package proc

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"
)

// TestMain makes the test binary its own worker: Main serves tasks when
// the binary was started by a pool. It also runs the "parent" of
// TestParentDeathKillsWorkers, and checks after the tests that no worker
// process is left.
func TestMain(m *testing.M) {
	if os.Getenv(envTestNoMain) != "" && os.Getenv(envWorker) != "" {
		fmt.Fprintln(os.Stderr, "a main that forgot proc.Main")
		os.Exit(0)
	}
	Main()
	if os.Getenv(envTestParent) != "" {
		os.Exit(runTestParent())
	}
	goleak.VerifyTestMain(orphanCheck{m})
}

// envTestNoMain makes a worker started by the test binary end before Main,
// as a program whose main forgot to call it does.
const envTestNoMain = "SKEIN_PROC_TEST_NO_MAIN"

// orphanCheck runs the tests, then fails the run if this process still
// has children: every test must leave no worker behind.
type orphanCheck struct{ m *testing.M }

func (o orphanCheck) Run() int {
	code := o.m.Run()
	if kids := children(); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "proc tests left child processes behind: %v\n", kids)
		return 1
	}
	return code
}

// children lists this process's child processes (Linux; nil elsewhere).
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
	square = Register("test.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	echo   = Register("test.echo", func(_ context.Context, s string) (string, error) { return s, nil })
	repeat = Register("test.repeat", func(_ context.Context, n int) (string, error) { return strings.Repeat("x", n), nil })
	fail   = Register("test.fail", func(_ context.Context, msg string) (int, error) { return 0, errors.New(msg) })
	boom   = Register("test.panic", func(_ context.Context, msg string) (int, error) { panic(msg) })
	pid    = Register("test.pid", func(_ context.Context, _ int) (int, error) { return os.Getpid(), nil })
	exit   = Register("test.exit", func(_ context.Context, code int) (int, error) {
		fmt.Fprintf(os.Stderr, "test.exit: leaving with status %d\n", code)
		os.Exit(code)
		return 0, nil
	})
	killSelf = Register("test.kill-self", func(_ context.Context, _ int) (int, error) {
		return 0, syscall.Kill(os.Getpid(), syscall.SIGKILL)
	})
	segfault = Register("test.segfault", func(_ context.Context, _ int) (int, error) {
		// A write to an unmapped address that is not near nil: the Go
		// runtime cannot turn it into a panic and dies of SIGSEGV, the way
		// a crash in C code does.
		addr := uintptr(0xdead0000)
		p := *(**int)(unsafe.Pointer(&addr))
		*p = 1
		return 0, nil
	})
	// announce tells the test (through a FIFO) that it runs and in which
	// process, then waits for its context, or forever if told to ignore it.
	announce = Register("test.announce", func(ctx context.Context, a announcement) (int, error) {
		f, err := os.OpenFile(a.FIFO, os.O_WRONLY, 0)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		if a.IgnoreContext {
			select {}
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
	// crashOnce exits the process the first time it runs (it leaves a
	// marker file), and succeeds after: a task worth retrying.
	crashOnce = Register("test.crash-once", func(_ context.Context, marker string) (int, error) {
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o644)
			os.Exit(3)
		}
		return 42, nil
	})
	decodeTrap = Register("test.decode-trap", func(_ context.Context, a trapArg) (int, error) { return int(a), nil })
	encodeTrap = Register("test.encode-trap", func(_ context.Context, n int) (trapArg, error) { return trapArg(n), nil })
	// corrupt writes a bad frame straight onto the worker's socket.
	corrupt = Register("test.corrupt", func(_ context.Context, oversized bool) (int, error) {
		frame := []byte{0, 0, 0, 1, 99} // a frame of an unknown kind
		if oversized {
			frame = []byte{0x7f, 0xff, 0xff, 0xff, 6}
		}
		theServer.conn.Write(frame)
		select {}
	})
	// failOn fails for 13, exitOn exits for 7 and stuckOn never returns
	// for 3; the other inputs are returned unchanged.
	failOn = Register("test.fail-on", func(_ context.Context, x int) (int, error) {
		if x == 13 {
			return 0, errors.New("unlucky")
		}
		return x, nil
	})
	exitOn = Register("test.exit-on", func(_ context.Context, x int) (int, error) {
		if x == 7 {
			os.Exit(7)
		}
		return x, nil
	})
	stuckOn = Register("test.stuck-on", func(_ context.Context, x int) (int, error) {
		if x == 3 {
			select {}
		}
		return x, nil
	})
	greeting    string
	setGreeting = Register("test.set-greeting", func(_ context.Context, s string) (struct{}, error) {
		if s == "fail" {
			return struct{}{}, errors.New("cannot greet")
		}
		if s == "panic" {
			panic("greeting panicked")
		}
		if _, err := os.Stat(s); err == nil {
			return struct{}{}, errors.New("marker present: refusing to start")
		}
		greeting = s
		return struct{}{}, nil
	})
	getGreeting = Register("test.get-greeting", func(_ context.Context, _ int) (string, error) { return greeting, nil })
)

type announcement struct {
	FIFO          string
	IgnoreContext bool
}

// trapArg is an int carried by its own binary methods, which kill or
// break the worker for some values: 1 exits while decoding, 2 panics
// while decoding, 3 exits while encoding, 4 panics while encoding; -1
// cannot be encoded at all.
type trapArg int64

func (a trapArg) AppendBinary(b []byte) ([]byte, error) {
	if a == -1 {
		return b, errors.New("trapArg: -1 cannot be encoded")
	}
	if isWorker && a == 3 {
		os.Exit(6)
	}
	if isWorker && a == 4 {
		panic("encode trap")
	}
	return binary.AppendVarint(b, int64(a)), nil
}

func (a *trapArg) UnmarshalBinary(b []byte) error {
	v, n := binary.Varint(b)
	if n <= 0 {
		return errors.New("trapArg: bad varint")
	}
	if isWorker && v == 1 {
		os.Exit(5)
	}
	if isWorker && v == 2 {
		panic("decode trap")
	}
	*a = trapArg(v)
	return nil
}

func newTestPool(t testing.TB, n int, opts ...Option) *Pool {
	t.Helper()
	p, err := New(n, opts...)
	if err != nil {
		t.Fatalf("New(%d): %v", n, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// fifo makes a named pipe for announce.
func fifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "announce")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	return path
}

// announced blocks until a task announces itself on path and returns the
// pid of its worker.
func announced(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatalf("reading announcement: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// checkStats fails if the counters break their invariant.
func checkStats(t *testing.T, s Stats) {
	t.Helper()
	if got := uint64(s.Queued+s.InFlight) + s.Completed + s.Failed + s.Cancelled; got != s.Submitted {
		t.Fatalf("stats: Queued+InFlight+Completed+Failed+Cancelled = %d, Submitted = %d: %+v", got, s.Submitted, s)
	}
}

// envTestParent makes the test binary act as the parent process of
// TestParentDeathKillsWorkers.
const envTestParent = "SKEIN_PROC_TEST_PARENT"

// runTestParent starts a pool, makes both workers announce their pids on
// stdout (which the workers share), and waits to be killed.
func runTestParent() int {
	p, err := New(2, WithInflight(1))
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "proc-parent")
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	for i := range 2 {
		path := filepath.Join(dir, strconv.Itoa(i))
		syscall.Mkfifo(path, 0o600)
		// One worker ignores its context, so only the kernel (Pdeathsig) or
		// the control socket's EOF can end it.
		Submit(ctx, p, announce, announcement{FIFO: path, IgnoreContext: i == 0})
		f, err := os.Open(path)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		fmt.Print("worker ", line)
	}
	fmt.Println("ready")
	select {}
}

var _ = time.Second

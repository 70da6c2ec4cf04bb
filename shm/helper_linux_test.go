//go:build linux

package shm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Cross-process tests re-execute the test binary as a child running
// TestHelperProcess, as os/exec's own tests do. The parent passes:
//
//	fd 3   the segment (testLayout), from ExtraFiles[0]
//	fd 4   the write end of a signal pipe, if any (ExtraFiles[1])
//	stdin  a pipe the child reads to EOF as a start barrier, or blocks on
//	env    roleEnv selects the role; the others carry its parameters
const (
	roleEnv  = "SHM_TEST_ROLE"
	countEnv = "SHM_TEST_COUNT"
	nameEnv  = "SHM_TEST_NAME"
	sizeEnv  = "SHM_TEST_SIZE"
	pidEnv   = "SHM_TEST_PID"
)

// testLayout is where the cross-process tests keep their state in a
// segment: the seed's lock-guarded counter, plus what the other roles use.
const (
	offMutex   = 0  // Mutex
	offCounter = 8  // int64, guarded by the mutex (or atomic adds)
	offDirty   = 16 // int64, 1 while a holder is half way through an update
	offFloat   = 24 // float64, atomic adds
	offArray   = 32 // [arrayLen]int64, atomic adds
	arrayLen   = 8
	layoutSize = offArray + 8*arrayLen
)

// layout is the typed view of testLayout.
type layout struct {
	mu      *Mutex
	counter *Value[int64]
	dirty   *Value[int64]
	float   *Value[float64]
	array   *Array[int64]
}

func newLayout(s *Segment) (layout, error) {
	var l layout
	var err1, err2, err3, err4, err5 error
	l.mu, err1 = MutexAt(s, offMutex)
	l.counter, err2 = ValueAt[int64](s, offCounter)
	l.dirty, err3 = ValueAt[int64](s, offDirty)
	l.float, err4 = ValueAt[float64](s, offFloat)
	l.array, err5 = ArrayAt[int64](s, offArray, arrayLen)
	return l, errors.Join(err1, err2, err3, err4, err5)
}

// TestHelperProcess is not a test: it is the child side of the
// cross-process tests, and returns at once when run normally.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(roleEnv)
	if role == "" {
		return
	}
	if err := runRole(role); err != nil {
		fmt.Fprintf(os.Stderr, "child %s (pid %d): %v\n", role, os.Getpid(), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// runRole runs one child role.
func runRole(role string) error {
	count, _ := strconv.Atoi(os.Getenv(countEnv))
	if role == "attach" {
		return roleAttach(count)
	}
	seg, err := FromFD(3)
	if err != nil {
		return err
	}
	defer seg.Close()
	l, err := newLayout(seg)
	if err != nil {
		return err
	}
	switch role {
	case "locked-inc":
		return roleLockedIncrements(l, count)
	case "atomic-add":
		return roleAtomicAdds(l, count)
	case "hold":
		return roleHold(l)
	case "survivor":
		return roleSurvivor(l)
	case "foreign":
		return roleForeign(l)
	}
	return fmt.Errorf("unknown role %q", role)
}

// roleLockedIncrements is the seed's increment_counter: count increments
// of the counter, each a separate load and store under the mutex, so an
// increment is lost if the mutex fails to exclude.
func roleLockedIncrements(l layout, count int) error {
	if err := startBarrier(); err != nil {
		return err
	}
	ctx := context.Background()
	for range count {
		if err := l.mu.Lock(ctx); err != nil {
			return err
		}
		l.counter.Store(l.counter.Load() + 1)
		if err := l.mu.Unlock(); err != nil {
			return err
		}
	}
	return signalParent("D")
}

// roleAtomicAdds adds 1 to the counter, 0.5 to the float and 1 to each
// array element in turn, count times each, without a lock.
func roleAtomicAdds(l layout, count int) error {
	if err := startBarrier(); err != nil {
		return err
	}
	for i := range count {
		l.counter.Add(1)
		l.float.Add(0.5)
		l.array.Add(i%arrayLen, 1)
	}
	return signalParent("D")
}

// startBarrier tells the parent this child is ready ("R") and waits for
// the parent to close its stdin, so that several children start their
// work together and a benchmark's clock leaves process start-up out. The
// child signals "D" when its work is done.
func startBarrier() error {
	if err := signalParent("R"); err != nil {
		return err
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}

// roleHold takes the mutex, starts an update (dirty = 1, counter + 1),
// tells the parent through fd 4 and waits to be killed: it never finishes
// the update. Stdin reaching EOF (the parent gone) ends it.
func roleHold(l layout) error {
	if err := l.mu.Lock(context.Background()); err != nil {
		return err
	}
	l.dirty.Store(1)
	l.counter.Add(1)
	if err := signalParent("L"); err != nil {
		return err
	}
	io.Copy(io.Discard, os.Stdin)
	return errors.New("stdin closed while holding the lock")
}

// roleSurvivor tells the parent it is about to lock, locks, expects the
// owner-dead report naming the pid in pidEnv, repairs the update the dead
// holder left half done (takes its counter increment back) and unlocks.
func roleSurvivor(l layout) error {
	if err := signalParent("W"); err != nil {
		return err
	}
	err := l.mu.Lock(context.Background())
	var dead *OwnerDeadError
	if !errors.As(err, &dead) {
		return fmt.Errorf("Lock = %v, want an *OwnerDeadError", err)
	}
	if want := os.Getenv(pidEnv); strconv.Itoa(dead.PID) != want {
		return fmt.Errorf("dead owner pid %d, want %s", dead.PID, want)
	}
	if l.dirty.Load() == 1 {
		l.counter.Add(-1)
		l.dirty.Store(0)
	}
	l.counter.Add(100) // the survivor's own, complete, update
	return l.mu.Unlock()
}

// roleForeign checks, while the parent holds the mutex, that this process
// can neither take it nor unlock it.
func roleForeign(l layout) error {
	if err := l.mu.TryLock(); !errors.Is(err, ErrBusy) {
		return fmt.Errorf("TryLock = %v, want ErrBusy", err)
	}
	if err := l.mu.Unlock(); !errors.Is(err, ErrNotOwner) {
		return fmt.Errorf("Unlock = %v, want ErrNotOwner", err)
	}
	return nil
}

// roleAttach attaches to the named segment nameEnv of sizeEnv bytes and
// adds count to the int64 at offset 0; an attach error is printed to stdout
// as "notexist" or "size WANT GOT" instead.
func roleAttach(count int) error {
	size, _ := strconv.Atoi(os.Getenv(sizeEnv))
	seg, err := Attach(os.Getenv(nameEnv), size)
	var sizeErr *SizeError
	switch {
	case errors.Is(err, ErrNotExist):
		fmt.Print("notexist")
		return nil
	case errors.As(err, &sizeErr):
		fmt.Printf("size %d %d", sizeErr.Want, sizeErr.Got)
		return nil
	case err != nil:
		return err
	}
	defer seg.Close()
	v, err := ValueAt[int64](seg, 0)
	if err != nil {
		return err
	}
	v.Add(int64(count))
	return nil
}

// signalPipe is the child's end of the signal pipe, fd 4.
var signalPipe = sync.OnceValue(func() *os.File { return os.NewFile(4, "signal") })

// signalParent writes msg to the signal pipe.
func signalParent(msg string) error {
	_, err := io.WriteString(signalPipe(), msg)
	return err
}

// child is a running helper process.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser // closing it releases the start barrier
	signal *os.File       // read end of the signal pipe; nil if none
	stdout bytes.Buffer
	stderr bytes.Buffer
}

// startChild starts the test binary as a child in role, with seg (if not
// nil) on fd 3, a signal pipe on fd 4 and env added to its environment.
// The test's cleanup kills it if it is still running and always reaps it,
// so no test leaves a process behind.
func startChild(t testing.TB, role string, seg *Segment, env ...string) *child {
	t.Helper()
	c := &child{}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	// In race builds a process waits a second at exit unless told not to.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	cmd.Env = append(os.Environ(), "GORACE="+gorace, roleEnv+"="+role)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = &c.stdout, &c.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.stdin = stdin
	var sigW *os.File
	if seg != nil {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c.signal, sigW = r, w
		cmd.ExtraFiles = []*os.File{seg.File(), w}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if sigW != nil {
		sigW.Close() // only the child writes; EOF when it exits
	}
	c.cmd = cmd
	t.Cleanup(func() {
		if c.cmd.ProcessState == nil {
			c.cmd.Process.Kill()
			c.cmd.Wait()
		}
		if c.signal != nil {
			c.signal.Close()
		}
	})
	return c
}

// waitSignal waits for the child to write want on its signal pipe.
func (c *child) waitSignal(t testing.TB, want string) {
	t.Helper()
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c.signal, buf); err != nil || string(buf) != want {
		t.Fatalf("child signal = %q, %v; want %q (stderr: %s)", buf, err, want, c.stderr.String())
	}
}

// wait waits for the child to exit and fails the test unless it succeeded.
func (c *child) wait(t testing.TB) {
	t.Helper()
	c.stdin.Close()
	err := c.cmd.Wait()
	if c.signal != nil {
		c.signal.Close()
		c.signal = nil
	}
	if err != nil {
		t.Fatalf("child %v: %v\nstderr: %s", c.cmd.Args, err, c.stderr.String())
	}
}

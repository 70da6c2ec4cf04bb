package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skein-go/skein/shm"
)

// BenchmarkShm shares one counter between two processes running at once,
// each doing half of b.N operations (a start barrier keeps process
// start-up off the clock), and reports operations per second across both.
// Every run checks that no update was lost.
//
//   - locked-increment: the seed's increment_counter, a load and a store
//     of a shm.Value under a shm.Mutex (Python: `with
//     counter.get_lock(): counter.value += 1`);
//   - atomic-add: lock-free shm.Value.Add on an int64, a float64 (CAS
//     loop) and an Array element, three adds per operation (Python has no
//     atomic add: the script times the same three updates under locks).
//
// The "goroutines" rows do the same work with two goroutines of one
// process on ordinary memory (sync.Mutex, sync/atomic), for reference.
// Compare with bench/python/shared_value.py.
// Reproduce: cd bench && go test -run '^$' -bench Shm -count=5 .
// and python3 python/shared_value.py
func BenchmarkShm(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("shm is Linux only")
	}
	b.Run("locked-increment/processes", func(b *testing.B) { shmTwoProcesses(b, "locked-increment") })
	b.Run("locked-increment/goroutines", func(b *testing.B) {
		var mu sync.Mutex
		counter := 0
		shmTwoGoroutines(b, func(int) {
			mu.Lock()
			counter++
			mu.Unlock()
		})
		if counter != b.N {
			b.Fatalf("counter = %d, want %d", counter, b.N)
		}
	})
	b.Run("atomic-add/processes", func(b *testing.B) { shmTwoProcesses(b, "atomic-add") })
	b.Run("atomic-add/goroutines", func(b *testing.B) {
		var counter atomic.Int64
		var total atomic.Uint64 // float64 bits
		var array [8]atomic.Int64
		shmTwoGoroutines(b, func(i int) {
			counter.Add(1)
			for {
				old := total.Load()
				if total.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+0.5)) {
					break
				}
			}
			array[i%len(array)].Add(1)
		})
		if counter.Load() != int64(b.N) {
			b.Fatalf("counter = %d, want %d", counter.Load(), b.N)
		}
	})
}

// The segment layout the BenchmarkShm processes share.
const (
	shmOffMutex   = 0
	shmOffCounter = 8
	shmOffFloat   = 16
	shmOffArray   = 24
	shmArrayLen   = 8
	shmSize       = shmOffArray + 8*shmArrayLen
)

// shmViews is the typed view of the layout.
type shmViews struct {
	mu      *shm.Mutex
	counter *shm.Value[int64]
	float   *shm.Value[float64]
	array   *shm.Array[int64]
}

func shmViewsOf(seg *shm.Segment) (shmViews, error) {
	var v shmViews
	var err error
	if v.mu, err = shm.MutexAt(seg, shmOffMutex); err != nil {
		return v, err
	}
	if v.counter, err = shm.ValueAt[int64](seg, shmOffCounter); err != nil {
		return v, err
	}
	if v.float, err = shm.ValueAt[float64](seg, shmOffFloat); err != nil {
		return v, err
	}
	v.array, err = shm.ArrayAt[int64](seg, shmOffArray, shmArrayLen)
	return v, err
}

// shmTwoProcesses runs the role in two child processes, b.N operations in
// all, and checks the counter.
func shmTwoProcesses(b *testing.B, role string) {
	seg, err := shm.New(shmSize)
	if err != nil {
		b.Fatal(err)
	}
	defer seg.Close()
	views, err := shmViewsOf(seg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	half := b.N / 2
	var children []*shmChild
	for _, n := range []int{half, b.N - half} {
		c, err := startShmChild(seg, role, n)
		if err != nil {
			b.Fatal(err)
		}
		defer c.stop()
		children = append(children, c)
	}
	for _, c := range children {
		if err := c.expect("R"); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for _, c := range children {
		c.stdin.Close() // go
	}
	for _, c := range children {
		if err := c.expect("D"); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	for _, c := range children {
		if err := c.wait(); err != nil {
			b.Fatal(err)
		}
	}
	if got := views.counter.Load(); got != int64(b.N) {
		b.Fatalf("counter = %d after %d operations: %d lost", got, b.N, int64(b.N)-got)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
}

// shmTwoGoroutines runs op b.N times, split between two goroutines.
func shmTwoGoroutines(b *testing.B, op func(i int)) {
	b.ReportAllocs()
	half := b.N / 2
	var wg sync.WaitGroup
	start := time.Now()
	for _, n := range []int{half, b.N - half} {
		wg.Go(func() {
			for i := range n {
				op(i)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}

// Child processes are the bench test binary re-executed to run
// TestShmHelperProcess, with the segment on fd 3, the write end of a
// signal pipe on fd 4 ("R" when ready, "D" when done) and stdin as the
// start barrier (work starts at EOF).
const (
	shmRoleEnv  = "SKEIN_BENCH_SHM_ROLE"
	shmCountEnv = "SKEIN_BENCH_SHM_COUNT"
)

// shmChild is one running child process.
type shmChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	signal *os.File
	stderr strings.Builder
}

func startShmChild(seg *shm.Segment, role string, n int) (*shmChild, error) {
	c := &shmChild{}
	c.cmd = exec.Command(os.Args[0], "-test.run=^TestShmHelperProcess$", "-test.count=1")
	c.cmd.Env = append(os.Environ(), shmRoleEnv+"="+role, shmCountEnv+"="+strconv.Itoa(n))
	c.cmd.Stderr = &c.stderr
	stdin, err := c.cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	c.stdin = stdin
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.signal = r
	c.cmd.ExtraFiles = []*os.File{seg.File(), w}
	err = c.cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, err
	}
	return c, nil
}

// expect waits for the child to send msg.
func (c *shmChild) expect(msg string) error {
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c.signal, buf); err != nil || string(buf) != msg {
		return fmt.Errorf("child sent %q, %v; want %q; stderr: %s", buf, err, msg, c.stderr.String())
	}
	return nil
}

// wait waits for the child to exit and reports how it failed, if it did.
func (c *shmChild) wait() error {
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		return fmt.Errorf("shm child: %w; stderr: %s", err, c.stderr.String())
	}
	return nil
}

// stop kills the child if it is still running and reaps it.
func (c *shmChild) stop() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
	}
	c.signal.Close()
}

// TestShmHelperProcess is not a test: it is the child side of
// BenchmarkShm, and returns at once when run normally.
func TestShmHelperProcess(t *testing.T) {
	role := os.Getenv(shmRoleEnv)
	if role == "" {
		return
	}
	if err := shmChildMain(role); err != nil {
		fmt.Fprintf(os.Stderr, "shm child %s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func shmChildMain(role string) error {
	n, err := strconv.Atoi(os.Getenv(shmCountEnv))
	if err != nil {
		return err
	}
	seg, err := shm.FromFD(3)
	if err != nil {
		return err
	}
	defer seg.Close()
	v, err := shmViewsOf(seg)
	if err != nil {
		return err
	}
	signal := os.NewFile(4, "signal")
	defer signal.Close()
	if _, err := io.WriteString(signal, "R"); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, os.Stdin); err != nil { // start barrier
		return err
	}
	switch role {
	case "locked-increment":
		ctx := context.Background()
		for range n {
			if err := v.mu.Lock(ctx); err != nil {
				return err
			}
			v.counter.Store(v.counter.Load() + 1)
			if err := v.mu.Unlock(); err != nil {
				return err
			}
		}
	case "atomic-add":
		for i := range n {
			v.counter.Add(1)
			v.float.Add(0.5)
			v.array.Add(i%shmArrayLen, 1)
		}
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	_, err = io.WriteString(signal, "D")
	return err
}

package shm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/skein-go/skein/proc"
)

// handleArgs is what the handle tests pass to their worker processes: the
// seed's counter and get_lock(), plus a flag and an array.
type handleArgs struct {
	Lock    *Mutex
	Counter *Value[int64]
	Dirty   *Value[int64]
	Floats  *Array[float64]
	N       int
}

// Worker functions of the handle tests, registered at package level.
var (
	// handleLockedInc is the seed's increment_counter.
	handleLockedInc = proc.Register("shm.test.handle-locked-inc", func(ctx context.Context, a handleArgs) (int, error) {
		for range a.N {
			if err := a.Lock.Lock(ctx); err != nil {
				return 0, err
			}
			a.Counter.Store(a.Counter.Load() + 1)
			if err := a.Lock.Unlock(); err != nil {
				return 0, err
			}
		}
		return os.Getpid(), nil
	})
	// handleAtomicAdd adds without a lock.
	handleAtomicAdd = proc.Register("shm.test.handle-atomic-add", func(ctx context.Context, a handleArgs) (int, error) {
		for i := range a.N {
			a.Counter.Add(1)
			a.Floats.Add(i%a.Floats.Len(), 0.5)
		}
		return 0, nil
	})
	// handleHold takes the lock, starts an update, says so on stdout and
	// waits to be killed.
	handleHold = proc.Register("shm.test.handle-hold", func(ctx context.Context, a handleArgs) (int, error) {
		if err := a.Lock.Lock(ctx); err != nil {
			return 0, err
		}
		a.Dirty.Store(1)
		a.Counter.Add(1)
		fmt.Println("locked")
		<-ctx.Done()
		return 0, ctx.Err()
	})
	// handleSurvivor says it is about to lock, locks, and repairs what a
	// dead holder left; it returns the dead holder's pid.
	handleSurvivor = proc.Register("shm.test.handle-survivor", func(ctx context.Context, a handleArgs) (int, error) {
		fmt.Println("locking")
		err := a.Lock.Lock(ctx)
		var dead *OwnerDeadError
		if !errors.As(err, &dead) {
			return 0, fmt.Errorf("Lock = %v, want an *OwnerDeadError", err)
		}
		if a.Dirty.Load() == 1 {
			a.Counter.Add(-1)
			a.Dirty.Store(0)
		}
		a.Counter.Add(100)
		return dead.PID, a.Lock.Unlock()
	})
)

// newHandleArgs makes a segment holding handleArgs' views.
func newHandleArgs(t *testing.T, n int) (*Segment, handleArgs) {
	t.Helper()
	seg, err := New(64)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	a := handleArgs{N: n}
	var e1, e2, e3, e4 error
	a.Lock, e1 = MutexAt(seg, 0)
	a.Counter, e2 = ValueAt[int64](seg, 8)
	a.Dirty, e3 = ValueAt[int64](seg, 16)
	a.Floats, e4 = ArrayAt[float64](seg, 32, 4)
	if err := errors.Join(e1, e2, e3, e4); err != nil {
		t.Fatal(err)
	}
	return seg, a
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// signalWriter is a worker's stdout that closes seen at the first write.
type signalWriter struct {
	once sync.Once
	seen chan struct{}
}

func newSignalWriter() *signalWriter { return &signalWriter{seen: make(chan struct{})} }

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.seen) })
	return len(p), nil
}

// The seed's shared_memory_example through handles: the parent makes a
// Value and a Mutex, passes them to two processes as arguments, each does
// 1000 locked increments: exactly 2000, and no descriptor left open.
func TestHandleTwoProcessesLockedIncrementsReachExactly2000(t *testing.T) {
	before := openFDs(t)
	_, a := newHandleArgs(t, 1000)
	ctx := context.Background()
	var ps []*proc.Process[int]
	for range 2 {
		p, err := proc.Start(ctx, handleLockedInc, a)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for _, p := range ps {
		if pid, err := p.Wait(ctx); err != nil || pid != p.Pid() {
			t.Fatalf("worker: %v, %v", pid, err)
		}
	}
	if got := a.Counter.Load(); got != 2000 {
		t.Fatalf("counter = %d, want 2000", got)
	}
	if err := a.Lock.TryLock(); err != nil {
		t.Fatalf("lock left held: %v", err)
	}
	a.Lock.Unlock()
	// The segment's descriptor is the test's own, closed by its cleanup.
	if after := openFDs(t); after != before+1 {
		t.Fatalf("%d descriptors open after the workers, %d before (+1 for the segment)", after, before)
	}
}

// Lock-free adds from two processes and this one lose nothing.
func TestHandleAtomicAddsAcrossProcessesLoseNothing(t *testing.T) {
	_, a := newHandleArgs(t, 4000)
	ctx := context.Background()
	var ps []*proc.Process[int]
	for range 2 {
		p, err := proc.Start(ctx, handleAtomicAdd, a)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	for i := range a.N {
		a.Counter.Add(1)
		a.Floats.Add(i%a.Floats.Len(), 0.5)
	}
	for _, p := range ps {
		if _, err := p.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.Counter.Load(); got != 3*4000 {
		t.Errorf("counter = %d, want %d", got, 3*4000)
	}
	for i, v := range a.Floats.All() {
		if v != 1500 {
			t.Errorf("floats[%d] = %v, want 1500", i, v)
		}
	}
}

// A process SIGKILLed while it holds the lock passed to it: the process
// waiting for the lock gets it with *OwnerDeadError naming the holder,
// and repairs the half-done update.
func TestHandleHolderKilledSurvivorGetsOwnerDeadAndRepairs(t *testing.T) {
	_, a := newHandleArgs(t, 0)
	ctx := context.Background()
	held := newSignalWriter()
	holder, err := proc.Start(ctx, handleHold, a, proc.WithStdout(held))
	if err != nil {
		t.Fatal(err)
	}
	<-held.seen
	waiting := newSignalWriter()
	survivor, err := proc.Start(ctx, handleSurvivor, a, proc.WithStdout(waiting))
	if err != nil {
		t.Fatal(err)
	}
	<-waiting.seen
	holder.Kill()
	if _, err := holder.Wait(ctx); err == nil {
		t.Fatal("killed holder returned no error")
	}
	deadPID, err := survivor.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if deadPID != holder.Pid() {
		t.Fatalf("OwnerDeadError.PID = %d, want the holder's %d", deadPID, holder.Pid())
	}
	if got, dirty := a.Counter.Load(), a.Dirty.Load(); got != 100 || dirty != 0 {
		t.Fatalf("counter, dirty = %d, %d; want 100, 0", got, dirty)
	}
	if err := a.Lock.Lock(ctx); err != nil {
		t.Fatalf("Lock after the repair = %v", err)
	}
	a.Lock.Unlock()
}

// In the process that made it, a handle decodes to the same memory, and
// closing the decoded Segment leaves the original open.
func TestHandleDecodesInTheSameProcess(t *testing.T) {
	seg, a := newHandleArgs(t, 0)
	b, err := a.Counter.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var v Value[int64]
	if err := v.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	v.Add(5)
	if got := a.Counter.Load(); got != 5 {
		t.Fatalf("original sees %d after the decoded copy added 5", got)
	}
	sb, err := seg.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var s2 Segment
	if err := s2.UnmarshalBinary(sb); err != nil {
		t.Fatal(err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if seg.File() == nil {
		t.Fatal("closing a decoded Segment closed the original")
	}
	if _, err := ValueAt[int64](seg, 8); err != nil {
		t.Fatalf("original after the decoded copy's Close: %v", err)
	}
	if _, err := ValueAt[int64](&s2, 8); !errors.Is(err, ErrClosed) {
		t.Fatalf("view of a closed decoded Segment = %v, want ErrClosed", err)
	}
}

// Decoding a handle as the wrong kind or element type is a clear
// *HandleError naming both.
func TestHandleWrongTypeIsClearError(t *testing.T) {
	_, a := newHandleArgs(t, 0)
	vb, _ := a.Counter.MarshalBinary()
	mb, _ := a.Lock.MarshalBinary()
	ab, _ := a.Floats.MarshalBinary()
	tests := []struct {
		name   string
		decode func() error
		want   string
	}{
		{"value as int32", func() error { return new(Value[int32]).UnmarshalBinary(vb) }, "Value[int64]"},
		{"value as float64", func() error { return new(Value[float64]).UnmarshalBinary(vb) }, "Value[int64]"},
		{"mutex as value", func() error { return new(Value[int64]).UnmarshalBinary(mb) }, "Mutex"},
		{"array as value", func() error { return new(Value[float64]).UnmarshalBinary(ab) }, "Array"},
		{"array as float32", func() error { return new(Array[float32]).UnmarshalBinary(ab) }, "Array[float64]"},
		{"value as mutex", func() error { return new(Mutex).UnmarshalBinary(vb) }, "Value"},
		{"value as segment", func() error { return new(Segment).UnmarshalBinary(vb) }, "Value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode()
			var he *HandleError
			if !errors.As(err, &he) || !errors.Is(err, ErrHandle) || he.Got != tt.want {
				t.Fatalf("decode = %v, want a *HandleError holding %s", err, tt.want)
			}
		})
	}
}

// A handle whose recorded size differs from its segment's (bytes from
// another version of the program, or corrupted) is refused.
func TestHandleSizeMismatchIsClearError(t *testing.T) {
	_, a := newHandleArgs(t, 0)
	b, err := a.Counter.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	h, err := parseHandle(b, kindValue, "Value")
	if err != nil {
		t.Fatal(err)
	}
	h.size *= 2
	var he *HandleError
	if err := new(Value[int64]).UnmarshalBinary(appendHandle(nil, h)); !errors.As(err, &he) || !errors.Is(err, ErrHandle) {
		t.Fatalf("decode with a wrong size = %v, want a *HandleError", err)
	}
}

// A closed segment cannot be encoded, and a handle encoded before Close no
// longer decodes.
func TestHandleOfClosedSegmentFails(t *testing.T) {
	seg, a := newHandleArgs(t, 0)
	b, err := a.Counter.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	seg.Close()
	if _, err := a.Counter.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("MarshalBinary after Close = %v, want ErrClosed", err)
	}
	if _, err := seg.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Segment.MarshalBinary after Close = %v, want ErrClosed", err)
	}
	if err := new(Value[int64]).UnmarshalBinary(b); err == nil {
		t.Fatal("decoding a handle of a closed segment succeeded")
	}
}

// Handles of every kind survive a round trip of their bytes unchanged.
func TestHandleEncodingRoundTrips(t *testing.T) {
	_, a := newHandleArgs(t, 0)
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{a.Lock, a.Counter, a.Floats} {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseHandle(b, b[1], "x")
		if err != nil {
			t.Fatal(err)
		}
		if again := appendHandle(nil, h); !bytes.Equal(again, b) {
			t.Fatalf("re-encoded %x, want %x", again, b)
		}
	}
}

// Arbitrary bytes never panic a decoder.
func FuzzHandleDecode(f *testing.F) {
	seg, err := New(64)
	if err != nil {
		f.Fatal(err)
	}
	defer seg.Close()
	v, _ := ValueAt[int64](seg, 8)
	arr, _ := ArrayAt[float64](seg, 16, 4)
	mu, _ := MutexAt(seg, 0)
	sem, _ := SemaphoreAt(seg, 48, 1, 2)
	ev, _ := EventAt(seg, 60)
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{seg, v, arr, mu, sem, ev} {
		b, _ := m.MarshalBinary()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var (
			s  Segment
			v  Value[int64]
			a  Array[float64]
			mu Mutex
			sm Semaphore
			e  Event
		)
		_ = s.UnmarshalBinary(b)
		_ = v.UnmarshalBinary(b)
		_ = a.UnmarshalBinary(b)
		_ = mu.UnmarshalBinary(b)
		_ = sm.UnmarshalBinary(b)
		_ = e.UnmarshalBinary(b)
	})
}

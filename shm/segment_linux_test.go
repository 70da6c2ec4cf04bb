//go:build linux

package shm

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestNewRejectsNonPositiveSize(t *testing.T) {
	for _, size := range []int{0, -1, math.MinInt} {
		if s, err := New(size); !errors.Is(err, ErrInvalidSize) {
			t.Errorf("New(%d) = %v, %v; want ErrInvalidSize", size, s, err)
		}
	}
}

func TestNewSegmentIsZeroedAndSealed(t *testing.T) {
	s, err := New(100)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Size() != 100 || s.Name() != "" {
		t.Fatalf("Size, Name = %d, %q; want 100, \"\"", s.Size(), s.Name())
	}
	for i, b := range s.Bytes() {
		if b != 0 {
			t.Fatalf("byte %d = %d, want 0", i, b)
		}
	}
	// Another process holding the descriptor cannot resize it under us.
	if err := s.File().Truncate(10); err == nil {
		t.Fatal("shrinking the memfd succeeded; want it sealed")
	}
	if err := s.File().Truncate(1000); err == nil {
		t.Fatal("growing the memfd succeeded; want it sealed")
	}
}

// Views are checked against the segment's bounds and their alignment.
func TestViewsRejectOutOfRangeAndMisalignedOffsets(t *testing.T) {
	s, err := New(64)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name string
		make func() error
		want error
	}{
		{"value negative offset", func() error { _, err := ValueAt[int64](s, -8); return err }, ErrRange},
		{"value past end", func() error { _, err := ValueAt[int64](s, 64); return err }, ErrRange},
		{"value straddles end", func() error { _, err := ValueAt[int32](s, 62); return err }, ErrRange},
		{"value int64 at 4", func() error { _, err := ValueAt[int64](s, 4); return err }, ErrAlign},
		{"value float32 at 2", func() error { _, err := ValueAt[float32](s, 2); return err }, ErrAlign},
		{"array too long", func() error { _, err := ArrayAt[int64](s, 8, 8); return err }, ErrRange},
		{"array huge", func() error { _, err := ArrayAt[int64](s, 0, math.MaxInt/4); return err }, ErrRange},
		{"array empty", func() error { _, err := ArrayAt[int64](s, 0, 0); return err }, ErrInvalidSize},
		{"array negative", func() error { _, err := ArrayAt[int64](s, 0, -1); return err }, ErrInvalidSize},
		{"array misaligned", func() error { _, err := ArrayAt[uint64](s, 12, 2); return err }, ErrAlign},
		{"mutex misaligned", func() error { _, err := MutexAt(s, 2); return err }, ErrAlign},
		{"mutex past end", func() error { _, err := MutexAt(s, 64); return err }, ErrRange},
	}
	for _, tt := range tests {
		if err := tt.make(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The edges themselves are fine.
	if _, err := ValueAt[int64](s, 56); err != nil {
		t.Errorf("last int64: %v", err)
	}
	if _, err := ArrayAt[float32](s, 0, 16); err != nil {
		t.Errorf("whole-segment array: %v", err)
	}
}

// Close releases the descriptor and refuses new views, while views made
// before keep working; a second Close is a no-op.
func TestCloseKeepsExistingViewsAndRefusesNewOnes(t *testing.T) {
	s, err := New(16)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ValueAt[uint64](s, 0)
	if err != nil {
		t.Fatal(err)
	}
	mu, err := MutexAt(s, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if s.File() != nil || s.Bytes() != nil {
		t.Fatal("File or Bytes not nil after Close")
	}
	if _, err := ValueAt[uint64](s, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("ValueAt after Close = %v, want ErrClosed", err)
	}
	if _, err := MutexAt(s, 8); !errors.Is(err, ErrClosed) {
		t.Fatalf("MutexAt after Close = %v, want ErrClosed", err)
	}
	if _, err := ArrayAt[uint64](s, 0, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("ArrayAt after Close = %v, want ErrClosed", err)
	}
	v.Store(7)
	if v.Add(1) != 8 {
		t.Fatal("value made before Close stopped working")
	}
	if err := mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := mu.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// Two mappings of one descriptor (what a child gets) share their memory.
func TestOpenMapsTheSameMemory(t *testing.T) {
	a, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fd, err := unix.Dup(int(a.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromFD(uintptr(fd))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	va, _ := ValueAt[int64](a, 0)
	vb, _ := ValueAt[int64](b, 0)
	va.Store(42)
	if got := vb.Load(); got != 42 {
		t.Fatalf("other mapping reads %d, want 42", got)
	}
	if b.Size() != 8 {
		t.Fatalf("opened Size = %d, want 8", b.Size())
	}
}

func TestOpenRejectsNilEmptyAndBadDescriptors(t *testing.T) {
	if _, err := Open(nil); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Open(nil) = %v, want fs.ErrInvalid", err)
	}
	empty, err := os.CreateTemp(t.TempDir(), "empty")
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, err := Open(empty); !errors.Is(err, ErrInvalidSize) {
		t.Errorf("Open(empty file) = %v, want ErrInvalidSize", err)
	}
	if _, err := empty.Stat(); err != nil {
		t.Errorf("Open closed the file it failed on: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.Close()
	fd, err := unix.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromFD(uintptr(fd)); err == nil {
		t.Error("FromFD(pipe) succeeded, want an error")
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
		t.Errorf("descriptor after a failed FromFD: %v, want it closed (EBADF)", err)
	}
	if _, err := FromFD(^uintptr(0)); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("FromFD(-1) = %v, want fs.ErrInvalid", err)
	}
}

// No descriptor stays open after segments and the processes given them
// are closed.
func TestNoDescriptorLeaks(t *testing.T) {
	round := func() {
		seg, l := newTestLayout(t)
		startChild(t, "atomic-add", seg, countEnv+"=10").wait(t)
		if l.counter.Load() != 10 {
			t.Fatal("child did not run")
		}
		seg.Close()
		named, err := Create(testName(t), 64)
		if err != nil {
			t.Fatal(err)
		}
		other, err := Attach(named.Name(), 64)
		if err != nil {
			t.Fatal(err)
		}
		other.Close()
		named.Close()
	}
	round() // let the runtime open what it keeps open (epoll, pidfd support)
	before := openDescriptors(t)
	round()
	round()
	if after := openDescriptors(t); after != before {
		t.Fatalf("open descriptors: %d before, %d after", before, after)
	}
}

// openDescriptors counts this process's open descriptors.
func openDescriptors(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestNilAndZeroSegmentsAreErrorsNotPanics(t *testing.T) {
	var zero Segment
	if zero.Size() != 0 {
		t.Errorf("zero Segment Size = %d", zero.Size())
	}
	if _, err := ValueAt[int64](nil, 0); err == nil {
		t.Error("ValueAt on a nil segment succeeded")
	}
	if _, err := ArrayAt[int32](&zero, 0, 2); err == nil {
		t.Error("ArrayAt on a zero segment succeeded")
	}
	if _, err := MutexAt(nil, 0); err == nil {
		t.Error("MutexAt on a nil segment succeeded")
	}
	if _, err := Create("skein-test-nil-option", 64, nil); err == nil {
		t.Error("Create with a nil option succeeded")
	}
}

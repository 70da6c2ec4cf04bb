// Package shm shares memory between processes: the Go home of Python's
// multiprocessing Value, Array, get_lock(), Semaphore and Event, and of
// multiprocessing.shared_memory.SharedMemory.
//
// A Segment is a block of memory mapped into every process that opens it.
// Typed views are placed in it at fixed byte offsets that every process
// agrees on:
//
//	seg, err := shm.New(64)                      // anonymous, zero-filled
//	mu, err := shm.MutexAt(seg, 0)               // 4 bytes at offset 0
//	counter, err := shm.ValueAt[int64](seg, 8)   // 8 bytes at offset 8
//	temps, err := shm.ArrayAt[float64](seg, 16, 5)
//
// Value and Array operations are atomic (Load, Store, Add, Swap,
// CompareAndSwap), so a counter needs no lock; Mutex guards invariants
// over several fields, like Python's get_lock(), and survives the death of
// the process holding it (see Mutex). Semaphore (SemaphoreAt) and Event
// (EventAt) are Python's multiprocessing.Semaphore, BoundedSemaphore and
// Event, placed in a segment the same way.
//
// # Handing a segment to another process
//
// An anonymous segment (New) has no name; a process gets it by inheriting
// its file descriptor, and maps it with FromFD or Open:
//
//	cmd.ExtraFiles = []*os.File{seg.File()} // parent: fd 3 in the child
//	seg, err := shm.FromFD(3)               // child
//
// To a process that is already running, send the descriptor over a Unix
// socket: unix.UnixRights(int(seg.File().Fd())) as the control message of
// a sendmsg; the receiver passes the descriptor it gets from
// unix.ParseUnixRights to FromFD. Either way the receiving process owns a
// descriptor of its own, and the sender may Close its Segment right after.
//
// Both sides then see the same bytes; the layout (which offset holds
// what) is the programs' contract, as with a C struct. A named segment
// (Create, Attach) is found by name instead, by any process of a user
// allowed to open it, the way shared_memory.SharedMemory(name=...) is; an
// Array in a named segment plays the part of a ShareableList of numbers.
//
// # Passing a segment or a view to a proc worker
//
// Segment, Value, Array, Mutex, Semaphore and Event implement
// encoding.BinaryMarshaler and encoding.BinaryUnmarshaler, so they travel
// to proc workers as task arguments (proc.Start, proc.Submit), the way
// Python passes a Value and its get_lock() to a Process:
//
//	type incArgs struct {
//		Counter *shm.Value[int64]
//		Lock    *shm.Mutex
//	}
//	var inc = proc.Register("inc", func(ctx context.Context, a incArgs) (int, error) { ... })
//	p, err := proc.Start(ctx, inc, incArgs{counter, mu})
//
// The bytes name the segment (a token of internal/fdpass), the view's
// offset and, for Value and Array, the element type. The worker receives
// a descriptor of its own for the segment, once per process: every
// handle of one segment decoded in a worker shares one mapping and one
// descriptor, kept for the life of the worker. Closing a decoded Segment
// stops it making new views but leaves that shared descriptor alone.
//
// Rules: the sender's segment must be open when the handle is encoded and
// when the worker decodes it (Close stops sharing it: ErrClosed when
// encoding, an error saying the handle is no longer exported when
// decoding); a handle decodes only in the process that made it and in
// that process's proc workers; a Value or Array decodes only as the
// element type it was encoded with, and a handle only as its own kind
// (*HandleError otherwise, matching ErrHandle).
//
// # Lifetime
//
// Segment.Close releases the segment's file descriptor (and, for the
// creator of a named segment, its name). The mapping itself stays valid
// for as long as the Segment or any view (Value, Array, Mutex, Semaphore,
// Event) made from it is reachable, and is unmapped after that, so a view
// can never point at unmapped memory. The memory goes back to the system once every process
// has closed and dropped it.
//
// Views use sync/atomic on memory the Go runtime does not manage, so the
// race detector does not see accesses to it. A Mutex does tell the race
// detector about the ordering it gives the goroutines of one process (Go
// data guarded by it is not reported); Value and Array operations do not,
// so do not publish Go data through them alone. Plain (non-atomic) access
// through Segment.Bytes must be ordered by a Mutex or an atomic.
//
// Linux only for now: on other systems every constructor returns an error
// wrapping errors.ErrUnsupported.
package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/skein-go/skein/internal/fdpass"
)

var (
	// ErrClosed is returned when a view is made from a closed Segment.
	ErrClosed = errors.New("shm: segment closed")
	// ErrInvalidSize is returned for a segment or array size that is zero
	// or negative.
	ErrInvalidSize = errors.New("shm: invalid size")
	// ErrRange is returned for a view that does not fit inside its
	// segment.
	ErrRange = errors.New("shm: view out of segment range")
	// ErrAlign is returned for a view whose offset is not a multiple of
	// its element size (atomic access needs natural alignment).
	ErrAlign = errors.New("shm: misaligned offset")
)

// Segment is a shared memory region mapped into this process. Its methods
// are safe for concurrent use. Make one with New, Open, FromFD, Create or
// Attach; the zero Segment is not usable.
type Segment struct {
	m    *mapping // immutable; shared with every view
	name string   // "" for an anonymous segment
	path string   // file system path of a named segment

	// shared marks a Segment decoded from a handle (see handle.go): its
	// descriptor belongs to the process-wide attachment, which every
	// Segment decoded from the same handle shares, so Close leaves it open.
	shared bool

	mu     sync.Mutex
	f      *os.File     // guarded by mu; nil once closed
	unlink bool         // guarded by mu; Close removes the name (creator, not WithKeep)
	tok    fdpass.Token // guarded by mu; set by the first MarshalBinary, zero before
}

// mapping is one mmap of a segment. It is unmapped by a cleanup once no
// Segment or view refers to it any more, never explicitly, so no view can
// outlive its memory.
type mapping struct {
	base unsafe.Pointer
	size int
}

// New creates an anonymous segment of size bytes, filled with zeros. Its
// size is fixed for good (sealed): no process holding it can grow or
// shrink it. Hand it to other processes with File (see the package
// documentation). size <= 0 returns ErrInvalidSize.
func New(size int) (*Segment, error) {
	if size <= 0 {
		return nil, fmt.Errorf("shm: new segment of %d bytes: %w", size, ErrInvalidSize)
	}
	f, err := newAnonymous(size)
	if err != nil {
		return nil, err
	}
	return newSegment(f, size, "", "")
}

// Open maps the whole of f, a descriptor of shared memory such as a
// Segment's File received from another process. The Segment takes f over
// and closes it on Close; the caller must not close or use f afterwards.
// A nil f returns an error wrapping fs.ErrInvalid, an empty file
// ErrInvalidSize. On error f is left open.
//
// f must not shrink while mapped: an access past its end would raise
// SIGBUS. Segments from New are sealed against it; for other files it is
// the owner's contract.
func Open(f *os.File) (*Segment, error) {
	if f == nil {
		return nil, fmt.Errorf("shm: open nil file: %w", fs.ErrInvalid)
	}
	size, err := fileSize(f)
	if err != nil {
		return nil, fmt.Errorf("shm: open %s: %w", f.Name(), err)
	}
	if size <= 0 || int64(int(size)) != size {
		return nil, fmt.Errorf("shm: open %s of %d bytes: %w", f.Name(), size, ErrInvalidSize)
	}
	return newSegment(f, int(size), "", "")
}

// FromFD maps the shared memory open as descriptor fd, typically one
// inherited from a parent (descriptor 3 is the parent's
// exec.Cmd.ExtraFiles[0]). The Segment takes the descriptor over; on error
// FromFD closes it.
func FromFD(fd uintptr) (*Segment, error) {
	f := os.NewFile(fd, fmt.Sprintf("fd %d", int(fd)))
	if f == nil {
		return nil, fmt.Errorf("shm: open fd %d: %w", int(fd), fs.ErrInvalid)
	}
	s, err := Open(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// newSegment maps f and wraps it.
func newSegment(f *os.File, size int, name, path string) (*Segment, error) {
	base, err := mapFile(f, size)
	if err != nil {
		return nil, fmt.Errorf("shm: map %d bytes of %s: %w", size, f.Name(), err)
	}
	m := &mapping{base: base, size: size}
	runtime.AddCleanup(m, func(mm mapping) { unmap(mm.base, mm.size) }, *m)
	return &Segment{m: m, name: name, path: path, f: f}, nil
}

// Size returns the segment's size in bytes (0 for a nil or zero Segment).
func (s *Segment) Size() int {
	if s == nil || s.m == nil {
		return 0 // not a usable segment
	}
	return s.m.size
}

// Name returns the name of a segment made by Create or Attach, without a
// leading slash, and "" for an anonymous one.
func (s *Segment) Name() string { return s.name }

// File returns the segment's descriptor for handing it to another process
// (exec.Cmd.ExtraFiles, or its Fd over a Unix socket), or nil after Close.
// The Segment still owns it: do not close it.
func (s *Segment) File() *os.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f
}

// Bytes returns the segment's memory, or nil after Close. Other processes
// change it concurrently: order plain reads and writes with a Mutex or
// atomics. The slice stays valid only while s (or a view of it) is
// reachable; keep s alive (runtime.KeepAlive) for as long as the slice is
// used.
func (s *Segment) Bytes() []byte {
	if s.closed() {
		return nil
	}
	return unsafe.Slice((*byte)(s.m.base), s.m.size)
}

// Close closes the segment's descriptor and, if this process created a
// named segment without WithKeep, removes the name (if it still names this
// segment), so no new process can attach. Views made from s keep working
// (see the package documentation); no new views can be made. Other
// processes are not affected. Close is idempotent; later calls return nil.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	if s.tok.ID != 0 {
		fdpass.Unexport(s.tok) // workers that attached keep their mapping
	}
	if s.shared {
		s.f = nil
		return nil
	}
	var errs []error
	if s.unlink && sameFile(s.f, s.path) {
		if err := removeNamed(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("shm: unlink %q: %w", s.name, err))
		}
	}
	if err := s.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("shm: close: %w", err))
	}
	s.f = nil
	return errors.Join(errs...)
}

// closed reports whether Close has been called.
func (s *Segment) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f == nil
}

// view returns a pointer to size bytes at off, checked against the
// segment's bounds and against align.
func (s *Segment) view(off, size, align int) (unsafe.Pointer, error) {
	if s == nil || s.m == nil {
		return nil, errors.New("shm: nil or zero *Segment (make one with New, Open, FromFD, Create or Attach)")
	}
	if s.closed() {
		return nil, ErrClosed
	}
	if off < 0 || size > s.m.size || off > s.m.size-size {
		return nil, fmt.Errorf("shm: %d bytes at offset %d in a %d-byte segment: %w", size, off, s.m.size, ErrRange)
	}
	if off%align != 0 {
		return nil, fmt.Errorf("shm: offset %d is not a multiple of %d: %w", off, align, ErrAlign)
	}
	return unsafe.Add(s.m.base, off), nil
}

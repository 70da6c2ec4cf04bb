package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/shm"
)

// ring is the untyped, shared part of a Queue: a header and a circular
// byte buffer in one shared memory segment, mapped by every process that
// uses the queue. One ring exists per segment per process; every Queue
// handle of that process points to it.
//
// # Layout
//
// The header holds, at fixed offsets (see the off* constants): the
// queue's identity (magic, version, type fingerprint, sizes); the
// producers' side, a robust shm.Mutex with the tail position and the
// closed flag; the consumers' side, another shm.Mutex with the head
// position; the TaskDone count; and three futex words on which waiting
// processes sleep. Each side has a cache line of its own. The buffer
// follows the header: records of a 4-byte little-endian length and that
// many bytes of encoded value, wrapping around the end of the buffer.
//
// Producers exclude each other with the tail lock, consumers with the
// head lock; a producer and a consumer never wait for each other's lock.
// Each side keeps, on its own cache line, the last position it read from
// the other side (headSeen, tailSeen) and reads the other side's line only
// when that copy shows no room or no item: in steady state a message
// costs the two sides no shared cache line but the buffer's. A copy is
// always a position the other side really had, and positions only move
// forward, so a stale copy shows less room or fewer items than there are,
// never more; and since every Put checks its room against headSeen, the
// bytes from headSeen to the tail never exceed the buffer, so the
// wrapping offsets stay unambiguous.
//
// # Commits
//
// Every change to the queue's state is one atomic store, made last, with
// the side's lock held: a Put writes its record beyond the tail, then
// stores the new tail; a Get copies its record out, then stores the new
// head. A process killed at any point therefore leaves either the old
// state or the new one, never a mix: the next locker, told by shm.Mutex
// that the owner died, finds consistent state and goes on (a half-written
// record beyond the tail is simply overwritten later). The head and tail
// words each pack a byte offset in the buffer (high 32 bits) with a
// running count of records (low 32 bits), so the number of queued items
// is tail.seq - head.seq and needs no word of its own; the number of
// unfinished items (for Join) is tail.seq - done, and TaskDone is one
// compare-and-swap of done.
//
// # Waiting
//
// A caller that cannot proceed first spins briefly on the word that would
// change (the tail for a Get, the head for a Put), then sets the waiters
// bit of the matching futex word, checks once more, and sleeps on it. The
// process that makes progress stores its commit, then checks that bit,
// and only if it is set bumps the word and wakes every sleeper; sequential
// consistency of the atomics guarantees that one of the two sees the
// other. So a queue whose consumers keep up makes no system call per
// message. Sleeps last at most waitSlice, so a process that died between
// its commit and its wake-up delays the others by one slice at most.
type ring struct {
	seg    *shm.Segment // keeps the mapping alive; its descriptor is closed by release
	tailMu *shm.Mutex   // producers' lock: guards writes of tail, closed and the free part of buf
	headMu *shm.Mutex   // consumers' lock: guards writes of head

	closed   *atomic.Uint32 // 1 once Close was called by any process
	tail     *atomic.Uint64 // pos where the next record goes
	headSeen *atomic.Uint64 // a past head, written with the tail lock held
	head     *atomic.Uint64 // pos of the next record to get
	tailSeen *atomic.Uint64 // a past tail, written with the head lock held
	done     *atomic.Uint32 // TaskDone calls, a running count
	notEmpty *atomic.Uint32 // futex: Get waiters sleep here
	notFull  *atomic.Uint32 // futex: Put waiters sleep here
	joined   *atomic.Uint32 // futex: Join waiters sleep here

	buf         []byte // the circular buffer, len(buf) == size
	size        uint32
	capacity    uint32 // item limit; 0 for none
	fingerprint uint64

	// local is this process's bookkeeping of the ring, not shared.
	local struct {
		sync.Mutex // guards the fields below
		token      fdpass.Token
		exported   bool
	}
	released atomic.Bool // Release was called in this process
}

// Header layout, one cache line per concern.
const (
	offMagic       = 0   // uint32
	offVersion     = 4   // uint32
	offFingerprint = 8   // uint64
	offSize        = 16  // uint32: buffer bytes
	offCapacity    = 20  // uint32: item limit, 0 for none
	offTailLock    = 64  // shm.Mutex
	offClosed      = 68  // uint32
	offTail        = 72  // uint64 pos
	offHeadSeen    = 80  // uint64 pos
	offHeadLock    = 128 // shm.Mutex
	offHead        = 136 // uint64 pos
	offTailSeen    = 144 // uint64 pos
	offDone        = 192 // uint32
	offNotEmpty    = 256 // uint32 futex
	offNotFull     = 320 // uint32 futex
	offJoined      = 384 // uint32 futex
	headerSize     = 448

	ringMagic   = 0x516e6b73 // "sknQ" in little-endian bytes
	ringVersion = 1

	recordHeader = 4 // bytes of a record's length prefix

	// waitersBit is set in a futex word while some process may sleep on it.
	waitersBit = 1 << 31

	// waitSlice bounds one futex sleep.
	waitSlice = 50 * time.Millisecond

	// spinRounds is how many times a caller re-reads the word it waits on
	// before it sleeps: long enough to cover a peer's critical section and
	// a message or two, far shorter than a futex round trip.
	spinRounds = 4000
)

// Bounds of the buffer size a queue accepts.
const (
	minBufferSize = 64
	maxBufferSize = 1 << 30
)

// pos is a position in the ring: a byte offset in the buffer and the
// number of records that went past it since the queue was made (modulo
// 2^32).
type pos struct{ off, seq uint32 }

func unpack(w uint64) pos  { return pos{off: uint32(w >> 32), seq: uint32(w)} }
func (p pos) pack() uint64 { return uint64(p.off)<<32 | uint64(p.seq) }

// newRing makes a segment for a ring of size buffer bytes holding at most
// capacity items (0: no item limit) of the type with the given fingerprint.
func newRing(size, capacity uint32, fingerprint uint64) (*ring, error) {
	seg, err := shm.New(headerSize + int(size))
	if err != nil {
		return nil, fmt.Errorf("ipc: new queue: %w", err)
	}
	b := seg.Bytes()
	binary.LittleEndian.PutUint32(b[offVersion:], ringVersion)
	binary.LittleEndian.PutUint64(b[offFingerprint:], fingerprint)
	binary.LittleEndian.PutUint32(b[offSize:], size)
	binary.LittleEndian.PutUint32(b[offCapacity:], capacity)
	// The magic goes last: a segment is a queue once it is complete.
	(*atomic.Uint32)(unsafe.Pointer(&b[offMagic])).Store(ringMagic)
	r, err := mapRing(seg)
	if err != nil {
		seg.Close()
		return nil, err
	}
	return r, nil
}

// openRing maps the queue segment open as f (received from the process
// that made it) and checks its header. It takes f over, also on error.
func openRing(f *os.File) (*ring, error) {
	seg, err := shm.Open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ipc: attach queue: %w", err)
	}
	r, err := mapRing(seg)
	if err != nil {
		seg.Close()
		return nil, err
	}
	return r, nil
}

// mapRing checks the header of seg and builds the ring over it. Every
// field another process could have written is checked before use.
func mapRing(seg *shm.Segment) (*ring, error) {
	b := seg.Bytes()
	if len(b) < headerSize+minBufferSize {
		return nil, fmt.Errorf("%w: segment of %d bytes is too small for a queue", ErrCorrupt, len(b))
	}
	if m := (*atomic.Uint32)(unsafe.Pointer(&b[offMagic])).Load(); m != ringMagic {
		return nil, fmt.Errorf("%w: segment is not a queue (magic %#x)", ErrCorrupt, m)
	}
	if v := binary.LittleEndian.Uint32(b[offVersion:]); v != ringVersion {
		return nil, fmt.Errorf("%w: queue layout version %d, want %d", ErrCorrupt, v, ringVersion)
	}
	size := binary.LittleEndian.Uint32(b[offSize:])
	if int(size) != len(b)-headerSize {
		return nil, fmt.Errorf("%w: queue buffer of %d bytes in a %d-byte segment", ErrCorrupt, size, len(b))
	}
	tailMu, err := shm.MutexAt(seg, offTailLock)
	if err != nil {
		return nil, fmt.Errorf("ipc: queue lock: %w", err)
	}
	headMu, err := shm.MutexAt(seg, offHeadLock)
	if err != nil {
		return nil, fmt.Errorf("ipc: queue lock: %w", err)
	}
	word32 := func(off int) *atomic.Uint32 { return (*atomic.Uint32)(unsafe.Pointer(&b[off])) }
	word64 := func(off int) *atomic.Uint64 { return (*atomic.Uint64)(unsafe.Pointer(&b[off])) }
	return &ring{
		seg:         seg,
		tailMu:      tailMu,
		headMu:      headMu,
		closed:      word32(offClosed),
		tail:        word64(offTail),
		headSeen:    word64(offHeadSeen),
		head:        word64(offHead),
		tailSeen:    word64(offTailSeen),
		done:        word32(offDone),
		notEmpty:    word32(offNotEmpty),
		notFull:     word32(offNotFull),
		joined:      word32(offJoined),
		buf:         b[headerSize:],
		size:        size,
		capacity:    binary.LittleEndian.Uint32(b[offCapacity:]),
		fingerprint: binary.LittleEndian.Uint64(b[offFingerprint:]),
	}, nil
}

// lock takes one side's lock. A previous owner's death needs no repair
// (see Commits in the type's comment), only a check that the state is
// sane, which every operation makes anyway.
func (r *ring) lock(ctx context.Context, mu *shm.Mutex) error {
	if r.released.Load() {
		return ErrReleased
	}
	err := mu.Lock(ctx)
	if err != nil && !errors.Is(err, shm.ErrOwnerDead) {
		return err
	}
	return nil
}

// check checks a head and a tail that one side read (one exact, the
// other its copy of the other side's) and returns the number of items and
// bytes between them.
func (r *ring) check(h, t pos) (count, used uint32, err error) {
	count = t.seq - h.seq
	if h.off >= r.size || t.off >= r.size {
		return 0, 0, fmt.Errorf("%w: queue positions %d, %d beyond a %d-byte buffer", ErrCorrupt, h.off, t.off, r.size)
	}
	used = (t.off + r.size - h.off) % r.size
	if used == 0 && count > 0 {
		used = r.size
	}
	// Every record takes at least recordHeader bytes.
	if uint64(count)*recordHeader > uint64(used) || (r.capacity > 0 && count > r.capacity) {
		return 0, 0, fmt.Errorf("%w: %d queued items in %d bytes", ErrCorrupt, count, used)
	}
	return count, used, nil
}

// signal wakes the sleepers on word, if it has any: it clears the
// waiters bit (bumping the word, so that a sleeper about to sleep does
// not) and wakes them all. The caller has committed the change they wait
// for.
func signal(word *atomic.Uint32) {
	for {
		v := word.Load()
		if v&waitersBit == 0 {
			return
		}
		if word.CompareAndSwap(v, (v+1)&^waitersBit) {
			futexWakeAll(word)
			return
		}
	}
}

// errRetry tells wait's loop to sleep and try again.
var errRetry = errors.New("ipc: try again")

// put appends rec as one record, waiting for room until ctx ends. The
// caller has checked that the record fits in an empty buffer.
func (r *ring) put(ctx context.Context, rec []byte) error {
	err := r.putOnce(ctx, rec)
	if err != errRetry {
		return err
	}
	room := func() bool {
		h, t := unpack(r.head.Load()), unpack(r.tail.Load())
		return r.hasRoom(h, t, uint32(len(rec))) || r.closed.Load() != 0
	}
	return r.wait(ctx, r.notFull, r.head.Load, room, func() error { return r.putOnce(ctx, rec) })
}

// tryPut appends rec if there is room now.
func (r *ring) tryPut(rec []byte) error {
	err := r.putOnce(context.Background(), rec)
	if err == errRetry {
		return ErrFull
	}
	return err
}

// putOnce appends rec if the queue is open and has room, or returns
// errRetry.
func (r *ring) putOnce(ctx context.Context, rec []byte) error {
	if err := r.lock(ctx, r.tailMu); err != nil {
		return err
	}
	err := r.putLocked(rec)
	_ = r.tailMu.Unlock()
	if err == nil {
		signal(r.notEmpty)
	}
	return err
}

// putLocked appends rec, holding the tail lock.
func (r *ring) putLocked(rec []byte) error {
	if r.closed.Load() != 0 {
		return ErrClosed
	}
	t := unpack(r.tail.Load())
	h := unpack(r.headSeen.Load())
	n := uint32(len(rec))
	if !r.hasRoom(h, t, n) {
		h = unpack(r.head.Load())
		r.headSeen.Store(h.pack())
		if !r.hasRoom(h, t, n) {
			return errRetry
		}
	}
	if _, _, err := r.check(h, t); err != nil {
		return err
	}
	var hdr [recordHeader]byte
	binary.LittleEndian.PutUint32(hdr[:], uint32(len(rec)))
	off := r.write(t.off, hdr[:])
	off = r.write(off, rec)
	r.tail.Store(pos{off: off, seq: t.seq + 1}.pack()) // the commit
	return nil
}

// hasRoom reports whether a record of n bytes fits between t and h.
func (r *ring) hasRoom(h, t pos, n uint32) bool {
	count := t.seq - h.seq
	used := (t.off + r.size - h.off) % r.size
	if used == 0 && count > 0 {
		used = r.size
	}
	return (r.capacity == 0 || count < r.capacity) && uint64(r.size-used) >= uint64(n)+recordHeader
}

// get removes the next record and appends its bytes to dst, waiting for
// one until ctx ends.
func (r *ring) get(ctx context.Context, dst []byte) ([]byte, error) {
	out, err := r.getOnce(ctx, dst)
	if err != errRetry {
		return out, err
	}
	ready := func() bool { return r.tail.Load() != r.head.Load() || r.closed.Load() != 0 }
	err = r.wait(ctx, r.notEmpty, r.tail.Load, ready, func() (err error) {
		out, err = r.getOnce(ctx, dst)
		return err
	})
	return out, err
}

// tryGet removes the next record if there is one.
func (r *ring) tryGet(dst []byte) ([]byte, error) {
	out, err := r.getOnce(context.Background(), dst)
	if err == errRetry {
		return out, ErrEmpty
	}
	return out, err
}

// getOnce removes the next record, if any, appending it to dst; an empty
// queue returns errRetry, or ErrClosed once closed.
func (r *ring) getOnce(ctx context.Context, dst []byte) ([]byte, error) {
	if err := r.lock(ctx, r.headMu); err != nil {
		return dst, err
	}
	out, err := r.getLocked(dst)
	_ = r.headMu.Unlock()
	if err == nil {
		signal(r.notFull)
	}
	return out, err
}

// getLocked removes the next record, holding the head lock.
func (r *ring) getLocked(dst []byte) ([]byte, error) {
	h := unpack(r.head.Load())
	t := unpack(r.tailSeen.Load())
	if t.seq == h.seq {
		// Read the flag before the tail: Close is stored after the last
		// Put's commit, so a closed queue read empty is empty for good.
		closed := r.closed.Load() != 0
		t = unpack(r.tail.Load())
		r.tailSeen.Store(t.pack())
		if t.seq == h.seq {
			if closed {
				return dst, ErrClosed
			}
			return dst, errRetry
		}
	}
	_, used, err := r.check(h, t)
	if err != nil {
		return dst, err
	}
	var hdr [recordHeader]byte
	off := r.read(h.off, hdr[:])
	n := binary.LittleEndian.Uint32(hdr[:])
	if uint64(n)+recordHeader > uint64(used) {
		return dst, fmt.Errorf("%w: record of %d bytes with %d bytes queued", ErrCorrupt, n, used)
	}
	start := len(dst)
	dst = slices.Grow(dst, int(n))[:start+int(n)]
	off = r.read(off, dst[start:])
	r.head.Store(pos{off: off, seq: h.seq + 1}.pack()) // the commit
	return dst, nil
}

// write copies p into the buffer at off, wrapping around its end, and
// returns the offset after it.
func (r *ring) write(off uint32, p []byte) uint32 {
	n := copy(r.buf[off:], p)
	copy(r.buf, p[n:])
	return uint32((uint64(off) + uint64(len(p))) % uint64(r.size))
}

// read fills p from the buffer at off, wrapping around its end, and
// returns the offset after it.
func (r *ring) read(off uint32, p []byte) uint32 {
	n := copy(p, r.buf[off:])
	copy(p[n:], r.buf)
	return uint32((uint64(off) + uint64(len(p))) % uint64(r.size))
}

// wait calls attempt until it returns something other than errRetry,
// sleeping on word in between. ready reports, without a lock, whether
// attempt may succeed now; watch reads the position whose change may make
// it so, which wait spins on before it first sleeps.
func (r *ring) wait(ctx context.Context, word *atomic.Uint32, watch func() uint64, ready func() bool, attempt func() error) error {
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for spun := false; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !spun {
			seen := watch()
			for i := 0; i < spinRounds && watch() == seen && r.closed.Load() == 0; i++ {
			}
			spun = true
		} else {
			v := word.Load()
			if v&waitersBit == 0 && !word.CompareAndSwap(v, v|waitersBit) {
				continue
			}
			v |= waitersBit
			if !ready() {
				if stop == nil && ctx.Done() != nil {
					// Cancellation wakes every sleeper on the word; the
					// others find nothing changed and sleep again.
					stop = context.AfterFunc(ctx, func() { futexWakeAll(word) })
				}
				d, err := sliceFor(ctx)
				if err != nil {
					return err
				}
				futexWait(word, v, d)
			}
		}
		if err := attempt(); err != errRetry {
			return err
		}
	}
}

// sliceFor returns how long to sleep next: waitSlice, or less if ctx's
// deadline is nearer; or ctx's error.
func sliceFor(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return waitSlice, nil
	}
	d := time.Until(dl)
	if d <= 0 {
		return 0, context.DeadlineExceeded
	}
	return min(d, waitSlice), nil
}

// close marks the queue closed for every process and wakes all waiters.
// It takes the tail lock, so that no Put commits after the flag is set.
func (r *ring) close() error {
	if err := r.lock(context.Background(), r.tailMu); err != nil {
		return err
	}
	r.closed.Store(1)
	_ = r.tailMu.Unlock()
	signal(r.notEmpty)
	signal(r.notFull)
	return nil
}

// taskDone counts one finished item.
func (r *ring) taskDone() error {
	if r.released.Load() {
		return ErrReleased
	}
	for {
		d, t := r.done.Load(), unpack(r.tail.Load())
		if d == t.seq {
			return ErrTooManyTaskDone
		}
		if r.done.CompareAndSwap(d, d+1) { // the commit
			if d+1 == t.seq {
				signal(r.joined)
			}
			return nil
		}
	}
}

// join waits until every item put has been marked done.
func (r *ring) join(ctx context.Context) error {
	if r.released.Load() {
		return ErrReleased
	}
	finished := func() bool { return r.done.Load() == unpack(r.tail.Load()).seq }
	if finished() {
		return nil
	}
	return r.wait(ctx, r.joined, func() uint64 { return uint64(r.done.Load()) }, finished, func() error {
		if !finished() {
			return errRetry
		}
		return nil
	})
}

// len returns the number of queued items.
func (r *ring) len() int {
	h, t := unpack(r.head.Load()), unpack(r.tail.Load())
	n := t.seq - h.seq
	if n > math.MaxInt32 {
		return 0 // a head read after the tail moved past it; never a real length
	}
	return int(n)
}

// export returns the token under which this process hands the ring's
// segment to its proc workers, exporting it on first use.
func (r *ring) export() (fdpass.Token, error) {
	r.local.Lock()
	defer r.local.Unlock()
	if r.released.Load() {
		return fdpass.Token{}, ErrReleased
	}
	if !r.local.exported {
		r.local.token = fdpass.Export(r, r.provide)
		r.local.exported = true
	}
	return r.local.token, nil
}

// provide is the ring's fdpass.Provider: the segment's descriptor.
func (r *ring) provide(*fdpass.Peer) ([]*os.File, func(), error) {
	r.local.Lock()
	defer r.local.Unlock()
	f := r.seg.File()
	if f == nil || r.released.Load() {
		return nil, nil, ErrReleased
	}
	return []*os.File{f}, nil, nil
}

// release ends this process's use of the ring: it stops exporting it and
// closes the segment's descriptor. The mapping goes when the ring is
// garbage.
func (r *ring) release() error {
	r.local.Lock()
	defer r.local.Unlock()
	if r.released.Swap(true) {
		return nil
	}
	if r.local.exported {
		fdpass.Unexport(r.local.token)
	}
	return r.seg.Close()
}

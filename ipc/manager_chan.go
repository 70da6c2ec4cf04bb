package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/skein-go/skein/shm"
)

// How a worker talks to the Map's server: shared memory, not a socket.
//
// Every worker gets a channel segment of its own, cut into slots; a slot
// carries one call at a time, request then reply, in the same buffer. Its
// turn word says whose turn it is: an even count the worker's, an odd
// count the server's. The worker writes a request and counts the word up
// to odd; the server (one goroutine in the parent for every worker of a
// Map) writes the reply and counts it up to even. Both spin for a short
// while before sleeping on the word (a futex), and mark the word when they
// sleep, so that a hand-over only makes a system call when the other side
// is actually asleep. Under a steady stream of calls neither side sleeps.
//
// Why not a socket: measured between two processes on the 2-vCPU VM this
// was built on, a round trip over a Unix socket took 94 µs through Go's
// netpoller and 26–36 µs with blocking reads; through shared memory, 15–21
// µs when the waiting side sleeps on a futex, and 0.3–1 µs when it polls
// (on an idle machine). Python's Manager makes four socket round trips
// for a locked update (about 4,000 a second here), so only polling leaves
// room for the 20× the design asked for (bench/ipc_manager_test.go has
// the figures).
//
// The server sleeps on one word for all workers, the bell in the hub
// segment that every worker maps: a worker rings it (counts it up) after
// every hand-over.
//
// Turn word bits: the count in the low 29 bits, and
const (
	mgrSleep  = 1 << 31 // the worker sleeps on the word: wake it
	mgrClosed = 1 << 30 // the Map was closed: no more calls
	mgrCancel = 1 << 29 // the worker withdraws its parked Lock request
	mgrCount  = mgrCancel - 1
)

// Channel segment layout: a header, then slots of mgrSlotHeader bytes and
// a buffer each, every slot on its own cache lines.
const (
	mgrMagic      = 0x534b4d50 // "SKMP"
	mgrVersion    = 1
	mgrHeader     = 64
	mgrSlotHeader = 64
	mgrHubSize    = 64 // the bell, alone on its cache line
	mgrMaxSlots   = 64
)

// Spin budgets: how long a side polls before it sleeps. A reply usually
// comes within a few microseconds, while a sleep and a wake cost 15–30 µs
// on a VM, so polling for a while pays. But on a machine with fewer free
// CPUs than polling threads, the side being waited for may need this very
// CPU, so a poll gives the CPU away (sched_yield) every mgrYieldEvery
// loads. Measured with two busy workers and the server on 2 vCPUs
// (bench/ipc_manager_test.go): never yielding made contended named locks
// 5× slower (a waiter's poll kept the holder off the CPU); yielding every
// 64 loads halved Add's throughput (the syscalls delayed noticing the
// reply); every 4096 loads (some 10–20 µs) was best on both.
const (
	mgrSpinClient = 50 * time.Microsecond
	mgrSpinServer = 50 * time.Microsecond
	mgrYieldEvery = 4096
)

// mgrChan is a mapped channel segment.
type mgrChan struct {
	seg   *shm.Segment // keeps the mapping alive
	slots []mgrSlot
}

// mgrSlot is one slot of a channel.
type mgrSlot struct {
	turn *atomic.Uint32
	n    *atomic.Uint32 // bytes of the message in buf
	buf  []byte
}

// mgrChanSize is the size of a channel of slots slots of msg bytes.
func mgrChanSize(slots, msg int) int {
	return mgrHeader + slots*(mgrSlotHeader+mgrRoundUp(msg))
}

func mgrRoundUp(n int) int { return (n + 63) &^ 63 }

// newMgrChan makes a channel segment.
func newMgrChan(slots, msg int) (*mgrChan, error) {
	seg, err := shm.New(mgrChanSize(slots, msg))
	if err != nil {
		return nil, err
	}
	mem := seg.Bytes()
	binary.LittleEndian.PutUint32(mem[0:], mgrMagic)
	binary.LittleEndian.PutUint32(mem[4:], mgrVersion)
	binary.LittleEndian.PutUint32(mem[8:], uint32(slots))
	binary.LittleEndian.PutUint32(mem[12:], uint32(msg))
	return mapMgrChan(seg)
}

// openMgrChan maps a channel segment received from the parent, checking
// its header. It owns f: on error f is closed.
func openMgrChan(f *os.File) (*mgrChan, error) {
	seg, err := shm.Open(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	c, err := mapMgrChan(seg)
	if err != nil {
		seg.Close()
		return nil, err
	}
	return c, nil
}

// mapMgrChan makes the slot views of seg after checking its header.
func mapMgrChan(seg *shm.Segment) (*mgrChan, error) {
	mem := seg.Bytes()
	if len(mem) < mgrHeader {
		return nil, fmt.Errorf("%w: map channel of %d bytes", ErrCorrupt, len(mem))
	}
	magic := binary.LittleEndian.Uint32(mem[0:])
	version := binary.LittleEndian.Uint32(mem[4:])
	slots := int(binary.LittleEndian.Uint32(mem[8:]))
	msg := int(binary.LittleEndian.Uint32(mem[12:]))
	if magic != mgrMagic || version != mgrVersion || slots < 2 || slots > mgrMaxSlots ||
		msg < mgrMinMessage || msg > mgrMaxMessage || mgrChanSize(slots, msg) != len(mem) {
		return nil, fmt.Errorf("%w: map channel header", ErrCorrupt)
	}
	c := &mgrChan{seg: seg, slots: make([]mgrSlot, slots)}
	for i := range c.slots {
		base := mgrHeader + i*(mgrSlotHeader+mgrRoundUp(msg))
		c.slots[i] = mgrSlot{
			turn: (*atomic.Uint32)(unsafe.Pointer(&mem[base])),
			n:    (*atomic.Uint32)(unsafe.Pointer(&mem[base+4])),
			buf:  mem[base+mgrSlotHeader : base+mgrSlotHeader+msg : base+mgrSlotHeader+msg],
		}
	}
	return c, nil
}

// mgrHandOver counts word up to the other side's turn, keeping the closed
// bit and dropping the sleep and cancel bits, and wakes the other side if
// it sleeps. It returns false, changing nothing, if the word is closed and
// closedStops is set.
func mgrHandOver(word *atomic.Uint32, closedStops bool) bool {
	for {
		old := word.Load()
		if closedStops && old&mgrClosed != 0 {
			return false
		}
		if word.CompareAndSwap(old, old&mgrClosed|(old+1)&mgrCount) {
			if old&mgrSleep != 0 {
				mgrFutexWake(word, 1)
			}
			return true
		}
	}
}

// mgrRing counts the bell up and wakes the server if it sleeps.
func mgrRing(bell *atomic.Uint32) {
	for {
		old := bell.Load()
		if bell.CompareAndSwap(old, (old+1)&^mgrSleep) {
			if old&mgrSleep != 0 {
				mgrFutexWake(bell, 1)
			}
			return
		}
	}
}

// mgrSpin polls done for up to budget, giving the CPU away every
// mgrYieldEvery polls (to another thread of this process or to another
// process, such as the one it waits for), and reports whether done came
// true.
func mgrSpin(done func() bool, budget time.Duration) bool {
	var start time.Time
	for i := 0; ; i++ {
		if done() {
			return true
		}
		if i%64 != 63 {
			continue
		}
		if start.IsZero() {
			start = time.Now() // not before: most waits end in the first polls
		} else if time.Since(start) > budget {
			return false
		}
		if i%mgrYieldEvery == mgrYieldEvery-1 {
			mgrYield()
		}
	}
}

// mgrClient is a worker's side of a Map: its channel, shared by the
// goroutines of the worker process (one per slot at a time).
type mgrClient struct {
	hub  *shm.Segment // keeps the bell mapped
	bell *atomic.Uint32
	ch   *mgrChan
	free chan int // indices of the slots not in use
	// lockers bounds the slots that Lock calls may hold while they wait,
	// to one fewer than there are slots: an Unlock always finds one, so
	// goroutines waiting for a lock cannot starve the one that would
	// release it.
	lockers chan struct{}
}

// openMgrClient maps the hub and the channel a worker received.
func openMgrClient(files []*os.File) (*mgrClient, error) {
	if len(files) != 2 {
		closeAll(files)
		return nil, fmt.Errorf("%w: map handle with %d files", ErrCorrupt, len(files))
	}
	hub, err := shm.Open(files[0])
	if err != nil {
		closeAll(files)
		return nil, err
	}
	if hub.Size() < mgrHubSize {
		hub.Close()
		files[1].Close()
		return nil, fmt.Errorf("%w: map hub of %d bytes", ErrCorrupt, hub.Size())
	}
	ch, err := openMgrChan(files[1])
	if err != nil {
		hub.Close()
		return nil, err
	}
	// The mappings outlive the descriptors: this process needs no more
	// of them.
	bell := (*atomic.Uint32)(unsafe.Pointer(&hub.Bytes()[0]))
	hub.Close()
	ch.seg.Close()
	c := &mgrClient{hub: hub, bell: bell, ch: ch, free: make(chan int, len(ch.slots)), lockers: make(chan struct{}, len(ch.slots)-1)}
	for i := range ch.slots {
		c.free <- i
	}
	return c, nil
}

// call sends req and returns a copy of the reply. ctx bounds the wait for
// a free slot; once sent, a request is answered promptly, except a Lock
// (lock set), whose wait ctx ends by withdrawing it.
func (c *mgrClient) call(ctx context.Context, req []byte, lock bool) ([]byte, error) {
	if lock {
		select {
		case c.lockers <- struct{}{}:
			defer func() { <-c.lockers }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var i int
	select {
	case i = <-c.free:
		defer func() { c.free <- i }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	sl := &c.ch.slots[i]
	if len(req) > len(sl.buf) {
		return nil, fmt.Errorf("%w: map request of %d bytes, the limit is %d (WithMapMaxMessage)", ErrTooLarge, len(req), len(sl.buf))
	}
	copy(sl.buf, req)
	sl.n.Store(uint32(len(req)))
	if !mgrHandOver(sl.turn, true) {
		return nil, ErrClosed
	}
	mgrRing(c.bell)
	if lock && ctx.Done() != nil {
		withdrawn := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(withdrawn)
			c.withdraw(sl)
		})
		defer func() {
			if !stop() {
				<-withdrawn
			}
		}()
	}
	if err := c.wait(sl); err != nil {
		return nil, err
	}
	n := int(sl.n.Load())
	if n > len(sl.buf) {
		return nil, fmt.Errorf("%w: map reply of %d bytes in a %d-byte slot", ErrCorrupt, n, len(sl.buf))
	}
	return append([]byte(nil), sl.buf[:n]...), nil
}

// wait waits until the server has replied in sl (ErrClosed if the Map was
// closed first).
func (c *mgrClient) wait(sl *mgrSlot) error {
	ready := func() bool { return sl.turn.Load()&(1|mgrClosed) != 1 }
	mgrSpin(ready, mgrSpinClient)
	for {
		v := sl.turn.Load()
		if v&1 == 0 {
			return nil
		}
		if v&mgrClosed != 0 {
			return ErrClosed
		}
		if v&mgrSleep == 0 {
			if !sl.turn.CompareAndSwap(v, v|mgrSleep) {
				continue
			}
			v |= mgrSleep
		}
		mgrFutexWait(sl.turn, v)
	}
}

// withdraw asks the server to give up the Lock request parked in sl: it
// replies with mgrCodeCancelled, or with the grant if that came first.
func (c *mgrClient) withdraw(sl *mgrSlot) {
	for {
		v := sl.turn.Load()
		if v&1 == 0 || v&(mgrCancel|mgrClosed) != 0 {
			return
		}
		if sl.turn.CompareAndSwap(v, v|mgrCancel) {
			mgrRing(c.bell)
			return
		}
	}
}

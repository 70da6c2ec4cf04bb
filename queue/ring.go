package queue

import "sync/atomic"

// ring is the lock-free buffer of a bounded FIFO queue of capacity 2 or
// more: a circular array of cells, each with a sequence number that says
// whether the cell is ready for the producer or the consumer of a given
// position (Dmitry Vyukov's bounded multi-producer, multi-consumer queue).
// Producers only contend on tail and consumers only on head, which sit on
// different cache lines: a producer and a consumer running at the same
// time do not pass a lock back and forth.
//
// Closing sets closedBit in tail, so that no push can succeed after it and
// consumers can tell "empty for good" from "a push is being completed".
type ring[T any] struct {
	cells []cell[T]
	size  uint64
	_     [64]byte      // the padding keeps head and tail on lines of their own
	head  atomic.Uint64 // next position to pop
	_     [64]byte
	tail  atomic.Uint64 // next position to push, | closedBit once closed
	_     [64]byte
}

// cell holds one item. seq == pos: free for the push of position pos;
// seq == pos+1: holds the item of position pos.
type cell[T any] struct {
	seq atomic.Uint64
	v   T
}

const closedBit = 1 << 63

// ringStatus is the result of a push or a pop.
type ringStatus uint8

const (
	ringOK     ringStatus = iota
	ringFull              // push: no free cell
	ringEmpty             // pop: nothing buffered, queue open
	ringBusy              // pop: a push has claimed the next position and is completing it
	ringClosed            // push: closed; pop: closed and nothing left
)

func newRing[T any](size int) *ring[T] {
	r := &ring[T]{cells: make([]cell[T], size), size: uint64(size)}
	for i := range r.cells {
		r.cells[i].seq.Store(uint64(i))
	}
	return r
}

func (r *ring[T]) push(v T) ringStatus {
	for {
		t := r.tail.Load()
		if t&closedBit != 0 {
			return ringClosed
		}
		c := &r.cells[t%r.size]
		switch s := c.seq.Load(); {
		case s == t:
			if r.tail.CompareAndSwap(t, t+1) {
				c.v = v
				c.seq.Store(t + 1)
				return ringOK
			}
		case s < t: // still holds the item of the previous lap
			return ringFull
		}
		// Another producer took position t: try the next one.
	}
}

func (r *ring[T]) pop() (T, ringStatus) {
	var zero T
	for {
		h := r.head.Load()
		c := &r.cells[h%r.size]
		switch s := c.seq.Load(); {
		case s == h+1:
			if r.head.CompareAndSwap(h, h+1) {
				v := c.v
				c.v = zero // let the garbage collector have what the item holds
				c.seq.Store(h + r.size)
				return v, ringOK
			}
		case s < h+1:
			t := r.tail.Load()
			switch {
			case h != t&^closedBit:
				if r.head.Load() == h {
					return zero, ringBusy
				}
			case t&closedBit != 0:
				return zero, ringClosed
			default:
				return zero, ringEmpty
			}
		}
		// Another consumer took position h: try the next one.
	}
}

// close makes every later push fail with ringClosed.
func (r *ring[T]) close() { r.tail.Or(closedBit) }

// pushed returns the number of pushes that succeeded or are completing.
func (r *ring[T]) pushed() uint64 { return r.tail.Load() &^ closedBit }

// drained reports whether nothing is buffered or being pushed.
func (r *ring[T]) drained() bool { return r.head.Load() == r.pushed() }

// len returns the number of items buffered or being pushed.
func (r *ring[T]) len() int {
	h := r.head.Load() // first: tail never falls behind a head read earlier
	return int(r.pushed() - h)
}

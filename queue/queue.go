// Package queue provides Queue[T], a typed blocking queue for handing work
// between goroutines: Go's counterpart of Python's queue.Queue,
// queue.LifoQueue and queue.PriorityQueue behind one API.
//
// A Queue is bounded ([WithCapacity]) or unbounded (the default). [Queue.Put]
// and [Queue.Get] block until they can proceed or their context ends;
// [Queue.TryPut] and [Queue.TryGet] never block and report [ErrFull] and
// [ErrEmpty] instead. Items come out first-in first-out ([New]), last-in
// first-out ([NewLIFO]) or smallest first ([NewPriority]).
//
// Any goroutine may [Queue.Close] the queue, once or many times. Close wakes
// every blocked caller: putters fail with [ErrClosed], getters first drain
// what is left and only then see [ErrClosed]. That replaces the sentinel
// values Python programs push to stop their consumers.
//
// Like Python's queue, a Queue counts unfinished tasks: every accepted item
// adds one, [Queue.TaskDone] removes one, and [Queue.Join] waits until the
// count is zero, so a producer can wait until every item has been processed,
// not merely taken.
//
// Internally a bounded FIFO queue keeps its items in a lock-free ring, so
// that a producer and a consumer running side by side never wait for each
// other; the other kinds keep theirs in a ring or a heap under a mutex.
// Callers that must wait park in first-come first-served lists under the
// mutex: an item put while a getter is parked goes straight to the
// longest-parked getter, and room made while a putter is parked goes to the
// longest-parked putter, so neither has to compete again after waking.
package queue

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// Errors returned by the queue. Compare with errors.Is.
var (
	// ErrClosed is returned by Put and TryPut on a closed queue, and by Get
	// and TryGet on a closed queue that has been drained.
	ErrClosed = errors.New("queue: closed")
	// ErrFull is returned by TryPut when a bounded queue is at capacity.
	ErrFull = errors.New("queue: full")
	// ErrEmpty is returned by TryGet when the queue holds no item.
	ErrEmpty = errors.New("queue: empty")
	// ErrTooManyTaskDone is returned by TaskDone when it is called more
	// times than items were put (Python raises ValueError there).
	ErrTooManyTaskDone = errors.New("queue: TaskDone called more times than items were put")
	// ErrInvalidOption is wrapped by the constructors' errors for an option
	// or argument that makes no sense.
	ErrInvalidOption = errors.New("queue: invalid option")
)

// Option configures a Queue in New, NewLIFO or NewPriority.
type Option func(*options)

type options struct {
	capacity int
	err      error
}

// WithCapacity bounds the queue to n items: Put blocks and TryPut fails with
// ErrFull while n items are queued. n must be at least 1. Default: unbounded.
func WithCapacity(n int) Option {
	return func(o *options) {
		if n < 1 {
			o.err = fmt.Errorf("%w: capacity %d, want at least 1", ErrInvalidOption, n)
			return
		}
		o.capacity = n
	}
}

// order is the order in which a queue hands out its items.
type order uint8

const (
	fifo order = iota
	lifo
	priority
)

// initialBuf is the number of slots a mutex-guarded FIFO or LIFO buffer
// allocates first; it doubles from there, never beyond the capacity.
const initialBuf = 16

// Queue is a typed blocking queue safe for use by any number of goroutines.
//
// The zero value is an empty, unbounded, open FIFO queue ready to use. A
// Queue must not be copied after first use.
type Queue[T any] struct {
	// fast is the lock-free buffer of a bounded FIFO queue of capacity 2 or
	// more; nil for the other kinds, which buffer under mu. While nobody
	// is parked (parked == 0), Put and Get on fast take no lock at all.
	fast   *ring[T]
	parked atomic.Int32 // parked Get and Put calls, for the lock-free paths

	mu sync.Mutex
	// Guarded by mu.
	buf      []T // FIFO and LIFO items without fast: n items from head, wrapping
	head, n  int
	heap     []ranked[T] // priority items, a binary min-heap
	seq      uint64      // next insertion number, for stable priority
	getters  waitList[T] // parked Get calls, oldest first
	putters  waitList[T] // parked Put calls, oldest first
	accepted int64       // items accepted, not counting pushes to fast (fast counts those)
	done     int64       // TaskDone calls
	joined   chan struct{}
	closed   bool

	// Set by the constructor, read-only afterwards.
	capacity int // 0: unbounded
	order    order
	less     func(a, b T) bool // priority order only

	// waiters recycles parked-caller records so that blocking costs no
	// allocation in steady state.
	waiters sync.Pool
}

// New returns an empty FIFO queue: Get returns items in the order they were
// put. It fails with an error wrapping ErrInvalidOption when an option is
// invalid.
func New[T any](opts ...Option) (*Queue[T], error) {
	return newQueue[T](fifo, nil, opts)
}

// NewLIFO returns an empty LIFO queue (a stack): Get returns the item put
// most recently. It fails with an error wrapping ErrInvalidOption when an
// option is invalid.
func NewLIFO[T any](opts ...Option) (*Queue[T], error) {
	return newQueue[T](lifo, nil, opts)
}

// NewPriority returns an empty priority queue: Get returns the smallest
// item according to less, which must be a strict weak order (cmp.Less
// works for ordered types). Items that are equal under less come out in the
// order they were put. It fails with an error wrapping ErrInvalidOption when
// less is nil or an option is invalid.
func NewPriority[T any](less func(a, b T) bool, opts ...Option) (*Queue[T], error) {
	if less == nil {
		return nil, fmt.Errorf("%w: nil less function", ErrInvalidOption)
	}
	return newQueue(priority, less, opts)
}

func newQueue[T any](ord order, less func(a, b T) bool, opts []Option) (*Queue[T], error) {
	var o options
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		opt(&o)
		if o.err != nil {
			return nil, o.err
		}
	}
	q := &Queue[T]{capacity: o.capacity, order: ord, less: less}
	if ord == fifo && o.capacity >= 2 { // the ring needs two cells to tell full from empty
		q.fast = newRing[T](o.capacity)
	}
	return q, nil
}

// Put adds v to the queue, waiting while a bounded queue is full. It returns
// nil once v is accepted, ErrClosed if the queue is or becomes closed before
// that, and ctx.Err() if ctx is done first (checked before anything else).
// A Put that returns an error did not add v.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if q.fast != nil && q.parked.Load() == 0 {
		switch q.fast.push(v) {
		case ringOK:
			q.settle()
			return nil
		case ringClosed:
			return ErrClosed
		}
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return ErrClosed
	}
	if q.offer(v) {
		q.mu.Unlock()
		return nil
	}
	w := q.newWaiter()
	w.item = v
	q.enlist(&q.putters, w)
	q.serve() // room made by a Get that did not see us yet
	q.mu.Unlock()
	return q.waitPut(ctx, w)
}

// TryPut adds v if that needs no waiting. It returns ErrFull if a bounded
// queue is at capacity and ErrClosed if the queue is closed.
func (q *Queue[T]) TryPut(v T) error {
	if q.fast != nil && q.parked.Load() == 0 {
		switch q.fast.push(v) {
		case ringOK:
			q.settle()
			return nil
		case ringClosed:
			return ErrClosed
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	if !q.offer(v) {
		return ErrFull
	}
	return nil
}

// Get removes and returns the next item, waiting while the queue is empty.
// On a closed queue it keeps returning the remaining items and then
// ErrClosed. It returns ctx.Err() if ctx is done first (checked before
// anything else); if ctx ends just as an item is handed over, Get returns
// the item with a nil error rather than lose it.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if q.fast != nil && q.parked.Load() == 0 {
		switch v, st := q.fast.pop(); st {
		case ringOK:
			q.settle()
			return v, nil
		case ringClosed:
			return zero, ErrClosed
		}
	}
	q.mu.Lock()
	if v, ok := q.take(); ok {
		q.mu.Unlock()
		return v, nil
	}
	if q.closed && q.drained() {
		q.mu.Unlock()
		return zero, ErrClosed
	}
	w := q.newWaiter()
	q.enlist(&q.getters, w)
	q.serve() // an item put by a Put that did not see us yet
	q.mu.Unlock()
	return q.waitGet(ctx, w)
}

// TryGet removes and returns the next item if there is one. It returns
// ErrEmpty if the queue is empty and open, ErrClosed if it is empty and
// closed.
func (q *Queue[T]) TryGet() (T, error) {
	var zero T
	if q.fast != nil && q.parked.Load() == 0 {
		switch v, st := q.fast.pop(); st {
		case ringOK:
			q.settle()
			return v, nil
		case ringClosed:
			return zero, ErrClosed
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if v, ok := q.take(); ok {
		return v, nil
	}
	if q.closed && q.drained() {
		return zero, ErrClosed
	}
	return zero, ErrEmpty
}

// All returns an iterator over the items of q: each step is a Get. The
// iteration ends when the queue is closed and drained, or when ctx is done;
// check ctx.Err() after the loop to tell the two apart. Breaking out of the
// loop loses no item: every item removed from the queue has been yielded.
// All does not call TaskDone.
func (q *Queue[T]) All(ctx context.Context) iter.Seq[T] {
	return func(yield func(T) bool) {
		for {
			v, err := q.Get(ctx)
			if err != nil || !yield(v) {
				return
			}
		}
	}
}

// Close closes the queue. Later Put and TryPut calls fail with ErrClosed,
// and so do Put calls blocked on a full queue (their items are not added).
// Items already queued stay available: Get returns them and only then
// ErrClosed, and blocked Get calls on an empty queue wake with ErrClosed.
// Close never blocks and may be called any number of times, from any
// goroutine.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	if q.fast != nil {
		q.fast.close()
	}
	for w := q.delistFront(&q.putters); w != nil; w = q.delistFront(&q.putters) {
		w.wake(closedOut)
	}
	q.serve() // parked getters wake with ErrClosed once nothing is left
}

// TaskDone marks one item taken from the queue as processed. When every
// accepted item has been marked, Join calls return. It returns
// ErrTooManyTaskDone, and changes nothing, when called more times than items
// were put.
func (q *Queue[T]) TaskDone() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	accepted := q.acceptedCount()
	if q.done >= accepted {
		return ErrTooManyTaskDone
	}
	q.done++
	if q.done == accepted && q.joined != nil {
		close(q.joined)
		q.joined = nil
	}
	return nil
}

// Join waits until every item ever accepted has been marked with TaskDone.
// It returns nil then, or ctx.Err() if ctx is done first (checked before
// anything else). Closing the queue does not release Join: items still
// queued must be taken and marked first.
func (q *Queue[T]) Join(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	if q.done == q.acceptedCount() {
		q.mu.Unlock()
		return nil
	}
	if q.joined == nil {
		q.joined = make(chan struct{})
	}
	joined := q.joined
	q.mu.Unlock()
	select {
	case <-joined:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len returns the number of items in the queue. Other goroutines may change
// it as soon as it is returned.
func (q *Queue[T]) Len() int {
	if q.fast != nil {
		return q.fast.len()
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.length()
}

// Cap returns the capacity set with WithCapacity, or 0 for an unbounded
// queue (as Python's maxsize).
func (q *Queue[T]) Cap() int { return q.capacity }

// settle follows a lock-free push or pop: if someone has parked meanwhile,
// it serves them. A parker raises parked before it looks at the ring, and
// the push or pop changed the ring before settle reads parked: whichever
// came second sees the other (the atomics are sequentially consistent), so
// nobody stays parked next to an item or a free cell.
func (q *Queue[T]) settle() {
	if q.parked.Load() == 0 {
		return
	}
	q.mu.Lock()
	q.serve()
	q.mu.Unlock()
}

// serve hands buffered items to parked getters and free room to parked
// putters, longest-parked first, and wakes the parked getters with
// ErrClosed once a closed queue is drained. Under mu alone nobody parks
// next to an item or a free cell; serve restores that after lock-free
// pushes and pops. q.mu must be held.
func (q *Queue[T]) serve() {
	for {
		if q.getters.head != nil {
			if v, ok := q.tryPop(); ok {
				w := q.delistFront(&q.getters)
				w.item = v
				w.wake(served)
				continue
			}
		}
		if w := q.putters.head; w != nil && q.tryPush(w.item) {
			q.delistFront(&q.putters).wake(served)
			continue
		}
		break
	}
	if q.closed && q.getters.head != nil && q.drained() {
		for w := q.delistFront(&q.getters); w != nil; w = q.delistFront(&q.getters) {
			w.wake(closedOut)
		}
	}
}

// offer accepts v without waiting if it can: straight to the longest-parked
// getter, or into the buffer when there is room and no putter is ahead. It
// reports whether v was accepted. q.mu must be held and q must be open.
func (q *Queue[T]) offer(v T) bool {
	q.serve()
	if w := q.delistFront(&q.getters); w != nil {
		w.item = v
		q.accepted++
		w.wake(served)
		return true
	}
	return q.putters.head == nil && q.tryPush(v)
}

// take removes the next item if nobody parked is ahead of the caller, and
// refills the room it leaves from the parked putters. q.mu must be held.
func (q *Queue[T]) take() (T, bool) {
	q.serve()
	if q.getters.head != nil {
		var zero T
		return zero, false
	}
	v, ok := q.tryPop()
	if ok {
		q.serve()
	}
	return v, ok
}

// waitPut parks a Put until a getter accepts its item, Close rejects it, or
// ctx ends. A Put whose item was accepted just as ctx ended reports
// success, so the caller never believes an accepted item was dropped.
func (q *Queue[T]) waitPut(ctx context.Context, w *waiter[T]) error {
	if !q.park(ctx, &q.putters, w) {
		q.freeWaiter(w)
		return ctx.Err()
	}
	out := w.outcome
	q.freeWaiter(w)
	if out == closedOut {
		return ErrClosed
	}
	return nil
}

// waitGet parks a Get until a putter hands it an item, Close wakes it, or
// ctx ends. A Get handed an item just as ctx ended returns the item.
func (q *Queue[T]) waitGet(ctx context.Context, w *waiter[T]) (T, error) {
	if !q.park(ctx, &q.getters, w) {
		q.freeWaiter(w)
		var zero T
		return zero, ctx.Err()
	}
	v, out := w.item, w.outcome
	q.freeWaiter(w)
	if out == closedOut {
		return v, ErrClosed
	}
	return v, nil
}

// park blocks until w is woken or ctx ends. It reports false if ctx ended
// first, in which case w has been removed from list; otherwise w carries its
// outcome. A waiter woken under the lock while ctx was ending counts as
// woken: its wake signal is consumed so that w can be reused.
func (q *Queue[T]) park(ctx context.Context, list *waitList[T], w *waiter[T]) bool {
	select {
	case <-w.ready:
		return true
	case <-ctx.Done():
	}
	q.mu.Lock()
	if w.outcome == waiting {
		q.delist(list, w)
		q.mu.Unlock()
		return false
	}
	q.mu.Unlock()
	<-w.ready // sent under the lock before outcome was visible to us
	return true
}

// tryPush adds v to the buffer if there is room. q.mu must be held.
func (q *Queue[T]) tryPush(v T) bool {
	if q.fast != nil {
		return q.fast.push(v) == ringOK // counted by the ring
	}
	if q.capacity > 0 && q.length() >= q.capacity {
		return false
	}
	q.push(v)
	q.accepted++
	return true
}

// tryPop removes the next buffered item, if any. q.mu must be held.
func (q *Queue[T]) tryPop() (T, bool) {
	if q.fast != nil {
		v, st := q.fast.pop()
		return v, st == ringOK
	}
	if q.length() == 0 {
		var zero T
		return zero, false
	}
	return q.pop(), true
}

// drained reports whether nothing is buffered, nor being pushed to the
// ring. q.mu must be held.
func (q *Queue[T]) drained() bool {
	if q.fast != nil {
		return q.fast.drained()
	}
	return q.length() == 0
}

// acceptedCount returns the number of items ever accepted. q.mu must be
// held.
func (q *Queue[T]) acceptedCount() int64 {
	n := q.accepted
	if q.fast != nil {
		n += int64(q.fast.pushed())
	}
	return n
}

// length returns the number of buffered items. q.mu must be held.
func (q *Queue[T]) length() int {
	if q.order == priority {
		return len(q.heap)
	}
	return q.n
}

// push adds v to the buffer, growing it if needed. q.mu must be held and
// the buffer must have room under the capacity.
func (q *Queue[T]) push(v T) {
	if q.order == priority {
		q.heap = append(q.heap, ranked[T]{v: v, seq: q.seq})
		q.seq++
		q.siftUp(len(q.heap) - 1)
		return
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	i := q.head + q.n
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = v
	q.n++
}

// pop removes the next item from a non-empty buffer. q.mu must be held.
func (q *Queue[T]) pop() T {
	var zero T
	switch q.order {
	case priority:
		return q.popHeap()
	case lifo:
		i := q.head + q.n - 1
		if i >= len(q.buf) {
			i -= len(q.buf)
		}
		v := q.buf[i]
		q.buf[i] = zero // let the garbage collector have what the item holds
		q.n--
		return v
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head++
	if q.head == len(q.buf) {
		q.head = 0
	}
	q.n--
	return v
}

// grow doubles the buffer, up to the capacity of a bounded queue, and
// straightens it so that the items start at index 0.
func (q *Queue[T]) grow() {
	size := max(2*len(q.buf), initialBuf)
	if q.capacity > 0 {
		size = min(size, q.capacity)
	}
	buf := make([]T, size)
	k := copy(buf, q.buf[q.head:])
	copy(buf[k:], q.buf[:q.head])
	q.buf, q.head = buf, 0
}

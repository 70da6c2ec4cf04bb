package queue

// outcome is what happened to a parked caller.
type outcome uint8

const (
	waiting   outcome = iota // still parked
	served                   // Get: handed an item; Put: item accepted
	closedOut                // woken by Close
)

// waiter is a parked Get or Put call. Its fields are guarded by the queue's
// mutex until it is woken; after the wake signal only its owner touches it.
type waiter[T any] struct {
	prev, next *waiter[T]
	item       T // Put: the item on offer; Get: the item handed over
	outcome    outcome
	ready      chan struct{} // buffered(1): the single wake signal
}

// wake records the outcome and signals the parked owner. The send never
// blocks: ready has room for one signal and each waiter is woken once.
func (w *waiter[T]) wake(out outcome) {
	w.outcome = out
	w.ready <- struct{}{}
}

// newWaiter returns a clean waiter, recycled when possible.
func (q *Queue[T]) newWaiter() *waiter[T] {
	if w, ok := q.waiters.Get().(*waiter[T]); ok {
		return w
	}
	return &waiter[T]{ready: make(chan struct{}, 1)}
}

// freeWaiter recycles w, which must be off every list with its signal
// consumed.
func (q *Queue[T]) freeWaiter(w *waiter[T]) {
	var zero T
	w.item = zero
	w.outcome = waiting
	q.waiters.Put(w)
}

// enlist parks w at the end of list. q.mu must be held.
func (q *Queue[T]) enlist(list *waitList[T], w *waiter[T]) {
	list.pushBack(w)
	q.parked.Add(1)
}

// delistFront removes and returns the longest-parked waiter of list, or
// nil. q.mu must be held.
func (q *Queue[T]) delistFront(list *waitList[T]) *waiter[T] {
	w := list.head
	if w != nil {
		q.delist(list, w)
	}
	return w
}

// delist removes w from list. q.mu must be held.
func (q *Queue[T]) delist(list *waitList[T], w *waiter[T]) {
	list.remove(w)
	q.parked.Add(-1)
}

// waitList is a first-in first-out list of parked callers, doubly linked so
// that a caller whose context ends can leave from the middle.
type waitList[T any] struct {
	head, tail *waiter[T]
}

func (l *waitList[T]) pushBack(w *waiter[T]) {
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
}

func (l *waitList[T]) remove(w *waiter[T]) {
	if w.prev == nil {
		l.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		l.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.prev, w.next = nil, nil
}

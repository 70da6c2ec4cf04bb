package resource

// outcome is what happened to a parked Acquire.
type outcome uint8

const (
	waiting   outcome = iota // still parked
	served                   // handed a resource
	failed                   // handed a construction error
	closedOut                // woken by Close
)

// waiter is a parked Acquire. Its fields are guarded by the pool's mutex
// until it is woken; after the wake signal only its owner touches it.
type waiter[T any] struct {
	prev, next *waiter[T]
	r          Resource[T] // served: the loan
	err        error       // failed: the construction error
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
func (p *Pool[T]) newWaiter() *waiter[T] {
	if w, ok := p.waiterPool.Get().(*waiter[T]); ok {
		return w
	}
	return &waiter[T]{ready: make(chan struct{}, 1)}
}

// freeWaiter recycles w, which must be off the list with its signal
// consumed.
func (p *Pool[T]) freeWaiter(w *waiter[T]) {
	w.r, w.err, w.outcome = Resource[T]{}, nil, waiting
	p.waiterPool.Put(w)
}

// waitList is a first-in first-out list of parked Acquire calls, doubly
// linked so that a caller whose context ends can leave from the middle.
type waitList[T any] struct {
	head, tail *waiter[T]
	n          int
}

func (l *waitList[T]) pushBack(w *waiter[T]) {
	w.prev, w.next = l.tail, nil
	if l.tail == nil {
		l.head = w
	} else {
		l.tail.next = w
	}
	l.tail = w
	l.n++
}

// popFront removes and returns the longest-parked waiter, or nil.
func (l *waitList[T]) popFront() *waiter[T] {
	w := l.head
	if w != nil {
		l.remove(w)
	}
	return w
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
	l.n--
}

// wakeAll empties the list, waking every waiter with out.
func (l *waitList[T]) wakeAll(out outcome) {
	for w := l.popFront(); w != nil; w = l.popFront() {
		w.wake(out)
	}
}

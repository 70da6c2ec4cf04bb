package queue

// ranked is an item in a priority queue with its insertion number, which
// breaks ties so that equal items leave in the order they came.
type ranked[T any] struct {
	v   T
	seq uint64
}

// before reports whether a leaves the priority queue before b.
func (q *Queue[T]) before(a, b ranked[T]) bool {
	if q.less(a.v, b.v) {
		return true
	}
	if q.less(b.v, a.v) {
		return false
	}
	return a.seq < b.seq
}

func (q *Queue[T]) siftUp(i int) {
	h := q.heap
	for i > 0 {
		parent := (i - 1) / 2
		if !q.before(h[i], h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// popHeap removes and returns the smallest item of a non-empty heap.
func (q *Queue[T]) popHeap() T {
	h := q.heap
	last := len(h) - 1
	v := h[0].v
	h[0] = h[last]
	h[last] = ranked[T]{} // let the garbage collector have what the item holds
	q.heap = h[:last]
	q.siftDown(0)
	return v
}

func (q *Queue[T]) siftDown(i int) {
	h := q.heap
	for {
		smallest := i
		if l := 2*i + 1; l < len(h) && q.before(h[l], h[smallest]) {
			smallest = l
		}
		if r := 2*i + 2; r < len(h) && q.before(h[r], h[smallest]) {
			smallest = r
		}
		if smallest == i {
			return
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
}

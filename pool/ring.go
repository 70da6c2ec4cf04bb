package pool

// ring is the FIFO queue of accepted tasks: a growable circular buffer,
// bounded when the pool has a queue size. Not safe for concurrent use; the
// pool's mutex guards it.
type ring struct {
	buf   []runner
	head  int // index of the oldest item
	n     int // number of items
	limit int // maximum items; -1 for unbounded
}

func (r *ring) init(limit int) {
	r.limit = limit
	size := 64
	if limit >= 0 && limit < size {
		size = max(limit, 1)
	}
	r.buf = make([]runner, size)
}

func (r *ring) len() int { return r.n }

// push appends x and reports whether there was room.
func (r *ring) push(x runner) bool {
	if r.limit >= 0 && r.n >= r.limit {
		return false
	}
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)%len(r.buf)] = x
	r.n++
	return true
}

// pop removes and returns the oldest item.
func (r *ring) pop() (runner, bool) {
	if r.n == 0 {
		return nil, false
	}
	x := r.buf[r.head]
	r.buf[r.head] = nil // let the task be collected once it has run
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return x, true
}

func (r *ring) grow() {
	size := 2 * len(r.buf)
	if r.limit >= 0 && size > r.limit {
		size = r.limit
	}
	buf := make([]runner, size)
	for i := range r.n {
		buf[i] = r.buf[(r.head+i)%len(r.buf)]
	}
	r.buf, r.head = buf, 0
}

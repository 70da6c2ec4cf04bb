package lock

import (
	"context"
	"fmt"
	"slices"
)

// All locks every mutex in locks and returns them as a [Held] set, to be
// released with its Unlock method. It takes them in one global order (the
// order the mutexes were created or first used), whatever order the caller
// names them in, so two goroutines that call All(ctx, a, b) and
// All(ctx, b, a) can never deadlock each other. This is the seed's "always
// lock in a consistent order" rule, kept by the library instead of by
// every caller:
//
//	held, err := lock.All(ctx, &from.mu, &to.mu)
//	if err != nil {
//		return err
//	}
//	defer held.Unlock()
//
// A mutex named more than once is locked once. If ctx ends while All
// waits, the mutexes it took are unlocked again and All returns ctx.Err().
// It returns an error wrapping [ErrInvalid] if a mutex is nil, without
// locking anything. All does not allocate for up to four mutexes.
//
// Mutexes taken by All can still deadlock with locks taken one by one in
// another order elsewhere; a [Checker] reports such mixes.
func All(ctx context.Context, locks ...*Mutex) (Held, error) {
	var h Held
	for i, m := range locks {
		if m == nil {
			return Held{}, fmt.Errorf("lock: All: mutex %d of %d is nil: %w", i+1, len(locks), ErrInvalid)
		}
	}
	if len(locks) <= len(h.inline) {
		h.n = copy(h.inline[:], locks)
	} else {
		h.more = slices.Clone(locks)
	}
	h.sort()
	if err := h.lock(ctx); err != nil {
		return Held{}, err
	}
	return h, nil
}

// Held is the set of mutexes taken by one [All] call. It is a small value:
// copy it freely, but call Unlock on exactly one copy, exactly once, like
// unlocking a sync.Mutex; a second Unlock would release mutexes that may
// belong to someone else by then. The zero Held holds nothing.
type Held struct {
	inline [4]*Mutex // the set when it has at most four members
	n      int       // members in inline
	more   []*Mutex  // the set when it has more than four
}

// Unlock releases every mutex of the set, in the reverse of the order All
// took them. Any goroutine may call it.
func (h Held) Unlock() {
	locks := h.members()
	for i := len(locks) - 1; i >= 0; i-- {
		locks[i].Unlock()
	}
}

// Len returns the number of distinct mutexes held.
func (h Held) Len() int { return len(h.members()) }

// members returns the set, sorted and without repeats once sort has run.
func (h *Held) members() []*Mutex {
	if h.more != nil {
		return h.more
	}
	return h.inline[:h.n]
}

// sort puts the set in global order and drops repeated mutexes.
func (h *Held) sort() {
	if h.n == 2 {
		a, b := h.inline[0], h.inline[1]
		switch {
		case a == b:
			h.n = 1
		case a.order() > b.order():
			h.inline[0], h.inline[1] = b, a
		}
		return
	}
	if h.more != nil {
		h.more = sortCompact(h.more)
		return
	}
	// Only the length is kept: storing a slice of h.inline in h would make
	// every Held escape to the heap.
	h.n = len(sortCompact(h.inline[:h.n]))
}

// sortCompact sorts locks in global order and drops repeats, in place.
func sortCompact(locks []*Mutex) []*Mutex {
	slices.SortFunc(locks, func(a, b *Mutex) int {
		ao, bo := a.order(), b.order()
		switch {
		case ao < bo:
			return -1
		case ao > bo:
			return 1
		}
		return 0
	})
	return slices.Compact(locks)
}

// lock takes the whole set, or nothing if ctx ends first.
func (h *Held) lock(ctx context.Context) error {
	locks := h.members()
	for _, m := range locks {
		if checkBuild || m.state.Load()&mutexChecked != 0 {
			return h.lockChecked(ctx)
		}
	}
	return h.take(ctx)
}

// lockChecked is lock when a checker watches some member. Every order
// check runs before any member is held, so the set adds no edges among its
// own members: All orders them.
func (h *Held) lockChecked(ctx context.Context) error {
	locks := h.members()
	g := currentGoroutine()
	helds := make([]*held, len(locks))
	for i, m := range locks {
		t := m.tracker()
		if t == nil {
			continue
		}
		if i > 0 && helds[i-1] != nil && helds[i-1].checker == t.checker {
			helds[i] = helds[i-1] // the usual case: one checker for the set
		} else {
			helds[i] = t.checker.goroutine(g)
		}
		t.checker.before(helds[i], t)
	}
	if err := h.take(ctx); err != nil {
		return err
	}
	for i, m := range locks {
		if t := m.tracker(); t != nil {
			t.checker.acquired(helds[i], t)
		}
	}
	return nil
}

// take locks the members in order, unlocking those taken if ctx ends.
func (h *Held) take(ctx context.Context) error {
	locks := h.members()
	for i, m := range locks {
		if m.state.CompareAndSwap(0, mutexLocked) {
			continue
		}
		if err := m.acquire(ctx); err != nil {
			for j := i - 1; j >= 0; j-- {
				locks[j].release()
			}
			return err
		}
	}
	return nil
}

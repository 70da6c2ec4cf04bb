package lock

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Reentrant is a lock that its owner may take again without waiting, and
// must release as many times as it took it (Python's RLock).
//
// Go has no goroutine identity, so the owner is not a goroutine but a
// context: Lock returns a context that carries ownership, and Lock or
// Unlock called with that context (or one derived from it) re-enters or
// leaves the lock. Any goroutine given the owning context acts as the
// owner; pass it only to code that runs on the owner's behalf. Read the
// package documentation for why idiomatic Go prefers a plain [Mutex] and
// unexported helpers that expect the lock to be held.
//
// The zero value is an unlocked lock ready to use. A Reentrant must not be
// copied after first use.
type Reentrant struct {
	m     Mutex                      // held while the lock is owned
	owner atomic.Pointer[ownerToken] // ownership of the current holder, nil when free
}

// ownerToken is the ownership that a context carries.
type ownerToken struct {
	depth atomic.Int64 // times taken and not yet released
}

// ownerKey is the context key of r's ownership.
type ownerKey struct{ r *Reentrant }

// NewReentrant returns an unlocked reentrant lock configured by opts. Its
// lock class for the checker is the place NewReentrant was called from,
// unless [WithName] names it.
func NewReentrant(opts ...Option) *Reentrant {
	r := &Reentrant{}
	r.m.seq.Store(orderSeq.Add(1))
	cfg := newLockConfig(opts)
	if c := cfg.chosenChecker(); c != nil {
		r.m.watch(c, cfg.name, callerPC(2))
	} else if checkBuild {
		r.m.state.Or(mutexOptOut)
	}
	return r
}

// Lock takes r and returns a context carrying ownership of it. If ctx
// already owns r, Lock returns at once, counting one more level to
// release. Otherwise it waits until r is free or ctx ends, and returns ctx
// itself with ctx.Err() if ctx ended first.
func (r *Reentrant) Lock(ctx context.Context) (context.Context, error) {
	if tok := r.ownedBy(ctx); tok != nil {
		tok.depth.Add(1)
		return ctx, nil
	}
	if err := r.m.Lock(ctx); err != nil {
		return ctx, err
	}
	return r.own(ctx), nil
}

// TryLock is Lock without waiting: it reports false, with ctx unchanged,
// when r is owned by another context.
func (r *Reentrant) TryLock(ctx context.Context) (context.Context, bool) {
	if tok := r.ownedBy(ctx); tok != nil {
		tok.depth.Add(1)
		return ctx, true
	}
	if !r.m.TryLock() {
		return ctx, false
	}
	return r.own(ctx), true
}

// Unlock releases one level of ownership; the lock is free again when
// every Lock of the owner has been matched. ctx must carry ownership (be,
// or derive from, a context Lock returned); otherwise Unlock returns an
// error wrapping [ErrNotOwner] and changes nothing.
func (r *Reentrant) Unlock(ctx context.Context) error {
	tok := r.ownedBy(ctx)
	if tok == nil {
		return fmt.Errorf("lock: reentrant unlock: %w", ErrNotOwner)
	}
	for {
		d := tok.depth.Load()
		if d < 1 {
			// Another goroutine sharing the owning context released the
			// last level between our two loads.
			return fmt.Errorf("lock: reentrant unlock: %w", ErrNotOwner)
		}
		if tok.depth.CompareAndSwap(d, d-1) {
			if d > 1 {
				return nil
			}
			break
		}
	}
	r.owner.Store(nil)
	r.m.Unlock()
	return nil
}

// Owns reports whether ctx carries ownership of r: helpers that require
// the lock to be held can check it.
func (r *Reentrant) Owns(ctx context.Context) bool { return r.ownedBy(ctx) != nil }

// ownedBy returns the ownership ctx carries if it is r's current one.
func (r *Reentrant) ownedBy(ctx context.Context) *ownerToken {
	tok, _ := ctx.Value(ownerKey{r}).(*ownerToken)
	if tok == nil || r.owner.Load() != tok {
		return nil
	}
	return tok
}

// own records a new ownership of the freshly taken r and returns the
// context that carries it.
func (r *Reentrant) own(ctx context.Context) context.Context {
	tok := &ownerToken{}
	tok.depth.Store(1)
	r.owner.Store(tok)
	return context.WithValue(ctx, ownerKey{r}, tok)
}

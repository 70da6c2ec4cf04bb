package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Lock is a mutual-exclusion lock shared by every program of a cluster,
// kept as a key in a JetStream key-value bucket. Its holder refreshes it
// in the background; a holder that dies, hangs its connection or is cut
// off stops refreshing, and the lock is released by the server once its
// TTL has passed, so a dead holder cannot block the others for ever. The
// price: a holder cut off for longer than the TTL loses the lock while it
// still thinks it holds it (Unlock then reports ErrLockLost); guard
// writes that must not overlap with a Dict's CompareAndSwap as well.
//
// A Lock value is one holder: Lock, TryLock and Unlock on it are safe for
// concurrent use, and it is not reentrant.
type Lock struct {
	e    *Executor
	kv   jetstream.KeyValue
	name string
	ttl  time.Duration
	id   string // this holder's identity, the key's value while it holds it

	mu   sync.Mutex    // guards the fields below
	rev  uint64        // the key's revision while held
	lost bool          // a refresh found the lock gone
	stop chan struct{} // closes the refresher; nil when not held
	done chan struct{} // closed when the refresher has returned
}

// NewLock returns the Lock called name (letters, digits, '-' and '_'),
// through e's connection, with the given TTL: the time after which a
// holder that stopped refreshing loses it. ttl must be at least 1s (the
// server's resolution).
func NewLock(ctx context.Context, e *Executor, name string, ttl time.Duration) (*Lock, error) {
	if e == nil {
		return nil, errors.New("cluster: NewLock on a nil *Executor")
	}
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("cluster: NewLock(%q): use 1 to 64 letters, digits, '-' or '_'", name)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("cluster: NewLock(%q, %v): the TTL must be at least 1s", name, ttl)
	}
	kv, err := openBucket(ctx, e, jetstream.KeyValueConfig{
		Bucket:         e.names.lockBucket,
		Description:    "skein locks",
		Storage:        jetstream.FileStorage,
		Replicas:       max(e.cfg.replicas, 1),
		LimitMarkerTTL: time.Second, // expiries leave a marker, which wakes the waiters
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: NewLock(%q): %w", name, err)
	}
	return &Lock{e: e, kv: kv, name: name, ttl: ttl, id: nuid.Next()}, nil
}

// Lock waits until it holds the lock or ctx ends (it then returns
// ctx.Err()). Calling Lock on a Lock this holder already holds waits for
// ever, like sync.Mutex, unless ctx ends.
func (l *Lock) Lock(ctx context.Context) error {
	w, err := l.kv.Watch(ctx, l.name)
	if err != nil {
		return fmt.Errorf("cluster: lock %s: %w", l.name, err)
	}
	defer w.Stop()
	// The watcher delivers the key's state, then nil, then changes: try
	// whenever the key is (or becomes) free.
	free := true
	for {
		if free {
			ok, err := l.TryLock(ctx)
			if ok || err != nil {
				return err
			}
		}
		select {
		case en, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("cluster: lock %s: watch ended", l.name)
			}
			free = en == nil || en.Operation() != jetstream.KeyValuePut
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// TryLock takes the lock if it is free and reports whether it did.
func (l *Lock) TryLock(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stop != nil {
		return false, nil // held by this holder already
	}
	rev, err := l.kv.Create(ctx, l.name, []byte(l.id), jetstream.KeyTTL(l.ttl))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cluster: lock %s: %w", l.name, err)
	}
	l.rev, l.lost = rev, false
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.refresh(l.stop, l.done)
	return true, nil
}

// refresh renews the key's TTL every third of it while the lock is held.
func (l *Lock) refresh(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	subj := "$KV." + l.e.names.lockBucket + "." + l.name
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		rev := l.rev
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		ack, err := l.e.js.PublishMsg(ctx, &nats.Msg{Subject: subj, Data: []byte(l.id)},
			jetstream.WithExpectLastSequencePerSubject(rev), jetstream.WithMsgTTL(l.ttl))
		cancel()
		var api *jetstream.APIError
		switch {
		case err == nil:
			l.mu.Lock()
			l.rev = ack.Sequence
			l.mu.Unlock()
		case errors.As(err, &api) && api.Code == 400:
			// The key moved on: it expired and someone else took it.
			l.mu.Lock()
			l.lost = true
			l.mu.Unlock()
			return
		}
		// Other errors (no answer): try again at the next tick, while the
		// TTL lasts.
	}
}

// Unlock releases the lock. It returns an error matching ErrLockLost if
// the lock had expired or been taken by another holder meanwhile, and an
// error if this holder does not hold it.
func (l *Lock) Unlock(ctx context.Context) error {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop = nil // not held any more, as far as TryLock and Unlock go
	l.mu.Unlock()
	if stop == nil {
		return fmt.Errorf("cluster: unlock of unlocked lock %s", l.name)
	}
	close(stop)
	<-done
	l.mu.Lock()
	rev, lost := l.rev, l.lost
	l.rev = 0
	l.mu.Unlock()
	if lost {
		return fmt.Errorf("cluster: lock %s: %w", l.name, ErrLockLost)
	}
	err := l.kv.Delete(ctx, l.name, jetstream.LastRevision(rev))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || isWrongLast(err) {
		return fmt.Errorf("cluster: lock %s: %w", l.name, ErrLockLost)
	}
	if err != nil {
		return fmt.Errorf("cluster: unlock %s: %w", l.name, err)
	}
	return nil
}

func isWrongLast(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && (api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || api.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

package cluster

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestDictGetSetDeleteCompareAndSwap(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	d, err := OpenDict[int](ctx, e, "scores")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(ctx, "alice"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get absent: %v", err)
	}
	rev, err := d.Add(ctx, "alice", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(ctx, "alice", 2); !errors.Is(err, ErrExists) {
		t.Fatalf("add present: %v", err)
	}
	if _, err := d.CompareAndSwap(ctx, "alice", rev+100, 5); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale CAS: %v", err)
	}
	if _, err := d.CompareAndSwap(ctx, "alice", rev, 5); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Set(ctx, "bob", 7); err != nil {
		t.Fatal(err)
	}
	if v, _, err := d.Get(ctx, "alice"); err != nil || v != 5 {
		t.Fatalf("get: %v %v", v, err)
	}
	if err := d.Delete(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	snap, err := d.Snapshot(ctx)
	if err != nil || len(snap) != 1 || snap["alice"] != 5 {
		t.Fatalf("snapshot %v %v", snap, err)
	}
	if _, err := d.Set(ctx, "bad key", 1); err == nil {
		t.Fatal("a key with a space was accepted")
	}
}

func TestDictUpdateIsAtomicAcrossGoroutines(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	d, err := OpenDict[int](ctx, e, "counter")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, err := d.Update(ctx, "n", func(old int, _ bool) (int, error) { return old + 1, nil }); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if v, _, err := d.Get(ctx, "n"); err != nil || v != 80 {
		t.Fatalf("counter %v %v", v, err)
	}
}

func TestLockExcludesAndReleases(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	a, err := NewLock(ctx, e, "job", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewLock(ctx, e, "job", 3*time.Second)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx); ok || err != nil {
		t.Fatalf("second holder: %v %v", ok, err)
	}
	got := make(chan error, 1)
	go func() { got <- b.Lock(ctx) }()
	if err := a.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Unlock(ctx); err == nil {
		t.Fatal("unlock of an unlocked lock succeeded")
	}
	if _, err := NewLock(ctx, e, "job", time.Millisecond); err == nil {
		t.Fatal("a TTL under a second was accepted")
	}
}

func TestDeadHoldersLockIsReleasedAfterItsTTL(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	// The holder's own executor closes without Unlock: it stops
	// refreshing, as a dead process would.
	holder, err := New(ctx, WithURL(e.URL()))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := NewLock(ctx, holder, "dead", time.Second)
	if err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	stopRefreshing(a)
	holder.Close()
	b, _ := NewLock(ctx, e, "dead", time.Second)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := b.Lock(wctx); err != nil {
		t.Fatalf("the dead holder's lock was not released: %v", err)
	}
	if err := b.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// stopRefreshing ends a holder's refresher as its death would.
func stopRefreshing(l *Lock) {
	l.mu.Lock()
	stop, done := l.stop, l.done
	l.stop = nil
	l.mu.Unlock()
	close(stop)
	<-done
}

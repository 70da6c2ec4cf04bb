package lock

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
)

func TestReentrantOwnerReentersAndReleasesEachLevel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r Reentrant // zero value is ready
		ctx, err := r.Lock(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		inner, err := r.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Owns(ctx) || !r.Owns(inner) || r.Owns(t.Context()) {
			t.Fatal("Owns does not follow the owning context")
		}
		acquired := make(chan struct{})
		go func() {
			other, err := r.Lock(t.Context())
			if err != nil {
				t.Error(err)
			}
			close(acquired)
			_ = r.Unlock(other)
		}()
		synctest.Wait()
		if err := r.Unlock(inner); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		select {
		case <-acquired:
			t.Fatal("another owner got the lock while one level was still held")
		default:
		}
		if err := r.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		<-acquired
	})
}

func TestReentrantUnlockByNonOwnerFails(t *testing.T) {
	r := NewReentrant()
	owner, err := r.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ctx  context.Context
	}{
		{"context passed to Lock", t.Context()},
		{"unrelated context", context.Background()},
	}
	for _, tt := range tests {
		if err := r.Unlock(tt.ctx); !errors.Is(err, ErrNotOwner) {
			t.Errorf("%s: Unlock = %v, want ErrNotOwner", tt.name, err)
		}
	}
	if !r.Owns(owner) {
		t.Fatal("a refused Unlock released the lock")
	}
	if err := r.Unlock(owner); err != nil {
		t.Fatal(err)
	}
	if err := r.Unlock(owner); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Unlock after full release = %v, want ErrNotOwner", err)
	}
}

func TestReentrantStaleOwnershipDoesNotReenter(t *testing.T) {
	r := NewReentrant()
	old, _ := r.Lock(t.Context())
	_ = r.Unlock(old)
	other, _ := r.Lock(t.Context())
	if _, ok := r.TryLock(old); ok {
		t.Fatal("a released ownership re-entered a lock held by someone else")
	}
	if err := r.Unlock(old); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Unlock with stale ownership = %v, want ErrNotOwner", err)
	}
	_ = r.Unlock(other)
}

func TestReentrantLockHonoursCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := NewReentrant()
		owner, _ := r.Lock(t.Context())
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := r.Lock(ctx)
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock = %v, want Canceled", err)
		}
		_ = r.Unlock(owner)
	})
}

func TestReentrantTryLock(t *testing.T) {
	r := NewReentrant()
	ctx, ok := r.TryLock(t.Context())
	if !ok {
		t.Fatal("TryLock on a free lock failed")
	}
	if _, ok := r.TryLock(t.Context()); ok {
		t.Fatal("TryLock by a non-owner succeeded")
	}
	again, ok := r.TryLock(ctx)
	if !ok {
		t.Fatal("TryLock by the owner failed")
	}
	_ = r.Unlock(again)
	_ = r.Unlock(ctx)
	if _, ok := r.TryLock(t.Context()); !ok {
		t.Fatal("lock not free after matching unlocks")
	}
}

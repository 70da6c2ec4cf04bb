package lock

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"

	"pgregory.net/rapid"
)

func TestAllLocksEveryMutexAndUnlockReleasesThem(t *testing.T) {
	a, b, c := NewMutex(), NewMutex(), NewMutex()
	held, err := All(t.Context(), c, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if held.Len() != 3 {
		t.Fatalf("Len = %d, want 3", held.Len())
	}
	for i, m := range []*Mutex{a, b, c} {
		if m.TryLock() {
			t.Fatalf("mutex %d not held after All", i)
		}
	}
	held.Unlock()
	for i, m := range []*Mutex{a, b, c} {
		if !m.TryLock() {
			t.Fatalf("mutex %d still held after unlock", i)
		}
	}
}

func TestAllTakesDuplicatesOnce(t *testing.T) {
	tests := []struct {
		name  string
		locks func(a, b *Mutex) []*Mutex
		want  int
	}{
		{"same twice", func(a, _ *Mutex) []*Mutex { return []*Mutex{a, a} }, 1},
		{"three with repeat", func(a, b *Mutex) []*Mutex { return []*Mutex{b, a, b} }, 2},
		{"zero values", func(_, _ *Mutex) []*Mutex { var z Mutex; return []*Mutex{&z, &z, &z} }, 1},
		{"many with repeats", func(a, b *Mutex) []*Mutex { return []*Mutex{a, b, a, b, a, b} }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := NewMutex(), NewMutex()
			held, err := All(t.Context(), tt.locks(a, b)...)
			if err != nil {
				t.Fatal(err)
			}
			if held.Len() != tt.want {
				t.Fatalf("Len = %d, want %d", held.Len(), tt.want)
			}
			held.Unlock() // would panic on a double unlock
		})
	}
}

func TestAllRejectsNilMutex(t *testing.T) {
	a := NewMutex()
	_, err := All(t.Context(), a, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("All with nil = %v, want ErrInvalid", err)
	}
	if !a.TryLock() {
		t.Fatal("All locked a mutex before rejecting a nil one")
	}
}

func TestAllWithNoMutexesHoldsNothing(t *testing.T) {
	held, err := All(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if held.Len() != 0 {
		t.Fatalf("Len = %d, want 0", held.Len())
	}
	held.Unlock()
}

func TestAllReleasesWhatItTookWhenCtxEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := NewMutex(), NewMutex()
		_ = b.Lock(t.Context()) // All will take a, then wait for b
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error)
		go func() {
			_, err := All(ctx, b, a)
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("All = %v, want Canceled", err)
		}
		if !a.TryLock() {
			t.Fatal("All kept a after failing")
		}
		a.Unlock()
		b.Unlock()
	})
}

// TestAllNeverDeadlocksOnOppositeOrders is the seed's transfer: goroutines
// lock random pairs in both orders; without a global order this hangs.
func TestAllNeverDeadlocksOnOppositeOrders(t *testing.T) {
	locks := make([]*Mutex, 4)
	for i := range locks {
		if i%2 == 0 {
			locks[i] = NewMutex()
		} else {
			locks[i] = &Mutex{} // zero values get their order on first use
		}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				x, y := locks[r.IntN(len(locks))], locks[r.IntN(len(locks))]
				held, err := All(t.Context(), x, y)
				if err != nil {
					t.Error(err)
					return
				}
				held.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestAllPropertyHoldsExactlyTheNamedSet checks, for random lists with
// repeats, that All holds every named mutex, no other, and frees them all.
func TestAllPropertyHoldsExactlyTheNamedSet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool := make([]*Mutex, 6)
		for i := range pool {
			pool[i] = NewMutex()
		}
		idx := rapid.SliceOfN(rapid.IntRange(0, len(pool)-1), 1, 10).Draw(t, "indexes")
		named := map[int]bool{}
		var locks []*Mutex
		for _, i := range idx {
			named[i] = true
			locks = append(locks, pool[i])
		}
		held, err := All(context.Background(), locks...)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range pool {
			free := m.TryLock()
			if free {
				m.Unlock()
			}
			if free == named[i] {
				t.Fatalf("mutex %d: free=%v, named=%v", i, free, named[i])
			}
		}
		if held.Len() != len(named) {
			t.Fatalf("Len = %d, want %d", held.Len(), len(named))
		}
		held.Unlock()
		for i, m := range pool {
			if !m.TryLock() {
				t.Fatalf("mutex %d held after unlock", i)
			}
		}
	})
}

// TestAllPropertyTransfersConserveMoney runs random concurrent transfers,
// in both directions and between any accounts (an account with itself
// included), and checks that no cent is created or lost and no balance
// goes negative.
func TestAllPropertyTransfersConserveMoney(t *testing.T) {
	type account struct {
		mu      Mutex // guards balance
		balance int64
	}
	type transfer struct {
		from, to int
		cents    int64
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 6).Draw(t, "accounts")
		accounts := make([]*account, n)
		var before int64
		for i := range accounts {
			accounts[i] = &account{balance: rapid.Int64Range(0, 1000).Draw(t, "opening")}
			before += accounts[i].balance
		}
		gen := rapid.Custom(func(t *rapid.T) transfer {
			return transfer{
				from:  rapid.IntRange(0, n-1).Draw(t, "from"),
				to:    rapid.IntRange(0, n-1).Draw(t, "to"),
				cents: rapid.Int64Range(1, 500).Draw(t, "cents"),
			}
		})
		plans := rapid.SliceOfN(rapid.SliceOfN(gen, 1, 50), 2, 4).Draw(t, "plans")
		var wg sync.WaitGroup
		for _, plan := range plans {
			wg.Go(func() {
				for _, tr := range plan {
					from, to := accounts[tr.from], accounts[tr.to]
					held, err := All(context.Background(), &from.mu, &to.mu)
					if err != nil {
						t.Error(err)
						return
					}
					if from.balance >= tr.cents {
						from.balance -= tr.cents
						to.balance += tr.cents
					}
					held.Unlock()
				}
			})
		}
		wg.Wait()
		var after int64
		for i, a := range accounts {
			if a.balance < 0 {
				t.Fatalf("account %d overdrawn: %d", i, a.balance)
			}
			after += a.balance
		}
		if after != before {
			t.Fatalf("total %d after transfers, %d before", after, before)
		}
	})
}

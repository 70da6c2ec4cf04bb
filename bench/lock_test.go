package bench

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sasha-s/go-deadlock"
	"github.com/skein-go/skein/lock"
	"golang.org/x/sync/semaphore"
)

// The BenchmarkLock rows compare skein's lock package with the standard
// library, with github.com/sasha-s/go-deadlock (the Go lock-order checker
// most used) and with golang.org/x/sync/semaphore:
//
//   - sync.Mutex: the baseline; it cannot honour a context;
//   - skein: lock.Mutex, whose Lock takes a context, with no checker. The
//     lock-order checker adds nothing to it when off: this row is the proof;
//   - skein-checked: lock.Mutex watched by a lock.Checker (edges keyed by
//     lock class, a stack taken only for a new edge);
//   - go-deadlock: deadlock.Mutex with its default options, except that a
//     report does not exit the process.
//
// Compare BenchmarkLockTransfer with bench/python/bank.py (the seed's
// RLock BankAccount) and the counter rows with bench/python/counter.py.
// Reproduce: cd bench && go test -run '^$' -bench '^BenchmarkLock' -count=5 . | go run ./cmd/benchtable

// lockGoDeadlockSetup keeps go-deadlock from calling os.Exit on a report.
var lockGoDeadlockSetup sync.Once

func lockSetupGoDeadlock() {
	lockGoDeadlockSetup.Do(func() { deadlock.Opts.OnPotentialDeadlock = func() {} })
}

// lockNewChecker returns a checker whose reports fail b: none of these
// workloads has a lock-order cycle.
func lockNewChecker(b *testing.B) *lock.Checker {
	c, err := lock.NewChecker(lock.WithReport(func(r lock.Report) { b.Errorf("unexpected report: %s", r) }))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkLockMutex is one uncontended Lock, increment, Unlock.
func BenchmarkLockMutex(b *testing.B) {
	ctx := context.Background()
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		var n int
		lockLoop(b, func() { mu.Lock(); n++; mu.Unlock() })
	})
	b.Run("skein", func(b *testing.B) {
		var mu lock.Mutex
		var n int
		lockLoop(b, func() { _ = mu.Lock(ctx); n++; mu.Unlock() })
	})
	b.Run("skein-checked", func(b *testing.B) {
		mu := lock.NewMutex(lock.WithChecker(lockNewChecker(b)))
		var n int
		lockLoop(b, func() { _ = mu.Lock(ctx); n++; mu.Unlock() })
	})
	b.Run("go-deadlock", func(b *testing.B) {
		lockSetupGoDeadlock()
		var mu deadlock.Mutex
		var n int
		lockLoop(b, func() { mu.Lock(); n++; mu.Unlock() })
	})
}

// BenchmarkLockNested takes an inner lock while holding an outer one, in
// a consistent order: the case where a checker must check an edge.
func BenchmarkLockNested(b *testing.B) {
	ctx := context.Background()
	b.Run("sync.Mutex", func(b *testing.B) {
		var outer, inner sync.Mutex
		var n int
		lockLoop(b, func() { outer.Lock(); inner.Lock(); n++; inner.Unlock(); outer.Unlock() })
	})
	b.Run("skein", func(b *testing.B) {
		var outer, inner lock.Mutex
		var n int
		lockLoop(b, func() { _ = outer.Lock(ctx); _ = inner.Lock(ctx); n++; inner.Unlock(); outer.Unlock() })
	})
	b.Run("skein-checked", func(b *testing.B) {
		c := lockNewChecker(b)
		outer, inner := lock.NewMutex(lock.WithChecker(c)), lock.NewMutex(lock.WithChecker(c))
		var n int
		lockLoop(b, func() { _ = outer.Lock(ctx); _ = inner.Lock(ctx); n++; inner.Unlock(); outer.Unlock() })
	})
	b.Run("go-deadlock", func(b *testing.B) {
		lockSetupGoDeadlock()
		var outer, inner deadlock.Mutex
		var n int
		lockLoop(b, func() { outer.Lock(); inner.Lock(); n++; inner.Unlock(); outer.Unlock() })
	})
}

// lockLoop runs op b.N times and reports ops/s.
func lockLoop(b *testing.B, op func()) {
	b.ReportAllocs()
	for b.Loop() {
		op()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// lockAccounts is the number of accounts transfers pick from at random.
const lockAccounts = 64

// BenchmarkLockTransfer is the seed's transfer between random accounts,
// in both directions, from GOMAXPROCS goroutines: lock both accounts,
// move an amount of cents, unlock.
//
//   - skein: lock.All, which orders the two locks itself;
//   - skein-checked: the same with every account watched by a Checker;
//   - sync.Mutex: the seed's rule by hand, locking the lower index first;
//   - go-deadlock: the same by hand on deadlock.Mutex.
func BenchmarkLockTransfer(b *testing.B) {
	ctx := context.Background()
	b.Run("skein", func(b *testing.B) {
		accounts := make([]*lockAccount, lockAccounts)
		for i := range accounts {
			accounts[i] = &lockAccount{mu: lock.NewMutex(), balance: 1_000_000}
		}
		lockTransfers(b, accounts, func(from, to *lockAccount, cents int64) {
			held, err := lock.All(ctx, from.mu, to.mu)
			if err != nil {
				b.Error(err)
				return
			}
			from.move(to, cents)
			held.Unlock()
		})
	})
	b.Run("skein-checked", func(b *testing.B) {
		c := lockNewChecker(b)
		accounts := make([]*lockAccount, lockAccounts)
		for i := range accounts {
			accounts[i] = &lockAccount{mu: lock.NewMutex(lock.WithChecker(c)), balance: 1_000_000}
		}
		lockTransfers(b, accounts, func(from, to *lockAccount, cents int64) {
			held, err := lock.All(ctx, from.mu, to.mu)
			if err != nil {
				b.Error(err)
				return
			}
			from.move(to, cents)
			held.Unlock()
		})
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		accounts := make([]*lockAccount, lockAccounts)
		mus := make(map[*lockAccount]*sync.Mutex, lockAccounts)
		for i := range accounts {
			accounts[i] = &lockAccount{id: i, balance: 1_000_000}
			mus[accounts[i]] = &sync.Mutex{}
		}
		lockTransfers(b, accounts, func(from, to *lockAccount, cents int64) {
			first, second := mus[from], mus[to]
			if to.id < from.id {
				first, second = second, first
			}
			first.Lock()
			if first != second {
				second.Lock()
			}
			from.move(to, cents)
			if first != second {
				second.Unlock()
			}
			first.Unlock()
		})
	})
	b.Run("go-deadlock", func(b *testing.B) {
		lockSetupGoDeadlock()
		accounts := make([]*lockAccount, lockAccounts)
		mus := make(map[*lockAccount]*deadlock.Mutex, lockAccounts)
		for i := range accounts {
			accounts[i] = &lockAccount{id: i, balance: 1_000_000}
			mus[accounts[i]] = &deadlock.Mutex{}
		}
		lockTransfers(b, accounts, func(from, to *lockAccount, cents int64) {
			first, second := mus[from], mus[to]
			if to.id < from.id {
				first, second = second, first
			}
			first.Lock()
			if first != second {
				second.Lock()
			}
			from.move(to, cents)
			if first != second {
				second.Unlock()
			}
			first.Unlock()
		})
	})
}

// lockAccount is an account of BenchmarkLockTransfer; which lock guards
// balance depends on the contender.
type lockAccount struct {
	id      int
	mu      *lock.Mutex
	balance int64 // cents
}

// move transfers cents if the balance allows; both accounts are locked.
func (a *lockAccount) move(to *lockAccount, cents int64) {
	if a.balance >= cents {
		a.balance -= cents
		to.balance += cents
	}
}

// lockTransfers runs transfer between random accounts from parallel
// goroutines, reports transfers/s, and checks that money was conserved.
func lockTransfers(b *testing.B, accounts []*lockAccount, transfer func(from, to *lockAccount, cents int64)) {
	var before int64
	for _, a := range accounts {
		before += a.balance
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 7))
		for pb.Next() {
			from, to := accounts[r.IntN(len(accounts))], accounts[r.IntN(len(accounts))]
			transfer(from, to, 1+r.Int64N(100))
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
	var after int64
	for _, a := range accounts {
		after += a.balance
	}
	if after != before {
		b.Fatalf("money not conserved: %d cents before, %d after", before, after)
	}
}

// BenchmarkLockSemaphore is Acquire(1), a yield to the scheduler (standing
// for work that blocks, so that holders overlap and waiters park), and
// Release(1), on a semaphore of 4 permits from 8 goroutines: the seed's
// ConnectionPool limit.
func BenchmarkLockSemaphore(b *testing.B) {
	ctx := context.Background()
	b.Run("skein", func(b *testing.B) {
		s, err := lock.NewSemaphore(4)
		if err != nil {
			b.Fatal(err)
		}
		lockParallel(b, func() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Error(err)
				return
			}
			runtime.Gosched()
			_ = s.Release(1)
		})
	})
	b.Run("x-sync", func(b *testing.B) {
		s := semaphore.NewWeighted(4)
		lockParallel(b, func() {
			if err := s.Acquire(ctx, 1); err != nil {
				b.Error(err)
				return
			}
			runtime.Gosched()
			s.Release(1)
		})
	})
}

// lockParallel runs op from 8 goroutines in all and reports ops/s.
func lockParallel(b *testing.B, op func()) {
	b.ReportAllocs()
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0))) // 8 goroutines on 1, 2, 4 or 8 procs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkLockCounter is the seed's SafeCounter from 8 goroutines: one
// increment under a sync.Mutex, under a lock.Mutex, or as one atomic add.
// Compare with bench/python/counter.py.
func BenchmarkLockCounter(b *testing.B) {
	ctx := context.Background()
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		var n int64
		lockParallel(b, func() { mu.Lock(); n++; mu.Unlock() })
	})
	b.Run("skein", func(b *testing.B) {
		var mu lock.Mutex
		var n int64
		lockParallel(b, func() { _ = mu.Lock(ctx); n++; mu.Unlock() })
	})
	b.Run("atomic", func(b *testing.B) {
		var n atomic.Int64
		lockParallel(b, func() { n.Add(1) })
	})
}

package lock

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
)

// The benchmarks below compare one Lock+Unlock pair around an increment,
// without and with contention, between sync.Mutex, Mutex and a Mutex
// watched by a Checker; the peer comparison with go-deadlock and Python
// lives in the bench module.

func BenchmarkMutexUncontended(b *testing.B) {
	ctx := context.Background()
	c, err := NewChecker()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		var n int
		for b.Loop() {
			m.Lock()
			n++
			m.Unlock()
		}
	})
	b.Run("lock.Mutex", func(b *testing.B) {
		var m Mutex
		var n int
		for b.Loop() {
			_ = m.Lock(ctx)
			n++
			m.Unlock()
		}
	})
	b.Run("lock.Mutex/checked", func(b *testing.B) {
		m := NewMutex(WithChecker(c))
		var n int
		for b.Loop() {
			_ = m.Lock(ctx)
			n++
			m.Unlock()
		}
	})
	b.Run("lock.Mutex/checked-nested", func(b *testing.B) {
		outer, m := NewMutex(WithChecker(c)), NewMutex(WithChecker(c))
		_ = outer.Lock(ctx)
		defer outer.Unlock()
		var n int
		for b.Loop() {
			_ = m.Lock(ctx)
			n++
			m.Unlock()
		}
	})
}

func BenchmarkMutexParallel(b *testing.B) {
	ctx := context.Background()
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		var n int
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Lock()
				n++
				m.Unlock()
			}
		})
	})
	b.Run("lock.Mutex", func(b *testing.B) {
		var m Mutex
		var n int
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = m.Lock(ctx)
				n++
				m.Unlock()
			}
		})
	})
}

func BenchmarkAllTransfer(b *testing.B) {
	ctx := context.Background()
	locks := make([]*Mutex, 64)
	for i := range locks {
		locks[i] = NewMutex()
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			i, j := r.IntN(len(locks)), r.IntN(len(locks))
			held, err := All(ctx, locks[i], locks[j])
			if err != nil {
				b.Error(err)
				return
			}
			held.Unlock()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
}

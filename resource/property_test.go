package resource_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/skein-go/skein/resource"
)

// tracked is a resource that counts its holders.
type tracked struct {
	id        int64
	holders   atomic.Int32
	destroyed atomic.Bool
}

// TestPoolNeverSharesAResourceNorExceedsItsSize runs borrowers that
// release or destroy what they get, some giving up mid-wait, against a
// constructor that sometimes fails and a health check that sometimes
// rejects: no resource ever has two holders or is used after destruction,
// the pool never holds more than its maximum, and Close leaves nothing
// alive.
func TestPoolNeverSharesAResourceNorExceedsItsSize(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		maxSize := rapid.IntRange(1, 4).Draw(t, "maxSize")
		workers := rapid.IntRange(1, 8).Draw(t, "workers")
		rounds := rapid.IntRange(1, 30).Draw(t, "rounds")
		failEvery := rapid.IntRange(0, 5).Draw(t, "failEvery")      // 0: never
		unhealthyEvery := rapid.IntRange(0, 4).Draw(t, "unhealthy") // 0: never
		destroyEvery := rapid.IntRange(0, 4).Draw(t, "destroyEvery")
		cancelEvery := rapid.IntRange(0, 4).Draw(t, "cancelEvery")
		minIdle := rapid.IntRange(0, maxSize).Draw(t, "minIdle")

		var calls, ids, live, loans atomic.Int64
		errBuild := errors.New("build failed")
		construct := func(context.Context) (*tracked, error) {
			if n := calls.Add(1); failEvery > 0 && n%int64(failEvery) == 0 {
				return nil, errBuild
			}
			if n := live.Add(1); n > int64(maxSize) {
				t.Errorf("%d resources alive in a pool of %d", n, maxSize)
			}
			return &tracked{id: ids.Add(1)}, nil
		}
		destroy := func(r *tracked) {
			if r.holders.Load() != 0 {
				t.Errorf("resource %d destroyed while held", r.id)
			}
			if r.destroyed.Swap(true) {
				t.Errorf("resource %d destroyed twice", r.id)
			}
			live.Add(-1)
		}
		opts := []resource.Option{resource.WithMinIdle(minIdle)}
		if unhealthyEvery > 0 {
			opts = append(opts, resource.WithHealthCheck(func(_ context.Context, r *tracked) error {
				if r.id%int64(unhealthyEvery) == 0 {
					return errors.New("unhealthy")
				}
				return nil
			}))
		}
		p, err := resource.New(maxSize, construct, destroy, opts...)
		if err != nil {
			t.Fatal(err)
		}

		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := 1; i <= rounds; i++ {
					ctx, cancel := context.WithCancel(context.Background())
					if cancelEvery > 0 && (w+i)%cancelEvery == 0 {
						go cancel()
					}
					r, err := p.Acquire(ctx)
					cancel()
					if err != nil {
						if !errors.Is(err, context.Canceled) && !errors.Is(err, errBuild) {
							t.Errorf("Acquire: %v", err)
						}
						continue
					}
					loans.Add(1)
					v := r.Value()
					if n := v.holders.Add(1); n != 1 {
						t.Errorf("resource %d has %d holders", v.id, n)
					}
					if v.destroyed.Load() {
						t.Errorf("resource %d lent after destruction", v.id)
					}
					runtime.Gosched() // let others run while we hold it
					v.holders.Add(-1)
					if destroyEvery > 0 && i%destroyEvery == 0 {
						err = r.Destroy()
					} else {
						err = r.Release()
					}
					if err != nil {
						t.Errorf("ending a loan: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if s := p.Stats(); s.Total > maxSize || s.InUse != 0 {
			t.Fatalf("after the borrowers left: %+v", s)
		}
		if err := p.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := live.Load(); n != 0 {
			t.Fatalf("%d resources alive after Close", n)
		}
		if s := p.Stats(); s.Total != 0 || s.Idle != 0 || s.Destroyed != s.Constructed || s.Acquires != loans.Load() {
			t.Fatalf("after Close, with %d successful Acquire calls: %+v", loans.Load(), s)
		}
	})
}

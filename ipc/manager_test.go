package ipc

import (
	"context"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"pgregory.net/rapid"
)

// mgrNew makes a Map for a test and closes it at the end.
func mgrNew[V any](t testing.TB, opts ...MapOption) *Map[V] {
	t.Helper()
	m, err := NewMap[V](opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestMapGetSetDeleteInTheParent(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[string](t)
	if _, ok, err := m.Get(ctx, "a"); ok || err != nil {
		t.Fatalf("Get of a missing key = %v, %v", ok, err)
	}
	if err := m.Set(ctx, "a", "x"); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := m.Get(ctx, "a"); v != "x" || !ok || err != nil {
		t.Fatalf("Get = %q, %v, %v; want x, true, nil", v, ok, err)
	}
	if ok, err := m.Delete(ctx, "a"); !ok || err != nil {
		t.Fatalf("Delete of a present key = %v, %v", ok, err)
	}
	if ok, err := m.Delete(ctx, "a"); ok || err != nil {
		t.Fatalf("Delete of a missing key = %v, %v", ok, err)
	}
}

// Nothing a caller does to a value it got or gave changes the Map: the
// nested-proxy loss of Python's Manager cannot happen.
func TestMapValuesAreCopiesNestedChangesNeedSet(t *testing.T) {
	ctx := context.Background()
	type job struct {
		Tags  []string
		Attrs map[string][]int
	}
	m := mgrNew[job](t)
	orig := job{Tags: []string{"a"}, Attrs: map[string][]int{"x": {1}}}
	if err := m.Set(ctx, "j", orig); err != nil {
		t.Fatal(err)
	}
	orig.Tags[0] = "changed"
	orig.Attrs["x"][0] = 99

	got, _, err := m.Get(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	want := job{Tags: []string{"a"}, Attrs: map[string][]int{"x": {1}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after changing the value given to Set: %+v, want %+v", got, want)
	}
	got.Tags = append(got.Tags, "b")
	got.Attrs["x"] = append(got.Attrs["x"], 2)
	if again, _, _ := m.Get(ctx, "j"); !reflect.DeepEqual(again, want) {
		t.Fatalf("after changing a value got: %+v, want %+v", again, want)
	}
	if err := m.Set(ctx, "j", got); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := m.Get(ctx, "j"); !reflect.DeepEqual(again, got) {
		t.Fatalf("after writing it back: %+v, want %+v", again, got)
	}
	snap, err := m.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap["j"].Tags[0] = "changed"
	if again, _, _ := m.Get(ctx, "j"); again.Tags[0] != "a" {
		t.Fatal("changing a snapshot changed the Map")
	}
}

func TestMapCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[[]int](t)
	if ok, err := m.CompareAndSwap(ctx, "k", nil, []int{1}); ok || err != nil {
		t.Fatalf("CompareAndSwap of a missing key = %v, %v; want false", ok, err)
	}
	m.Set(ctx, "k", []int{1, 2})
	if ok, err := m.CompareAndSwap(ctx, "k", []int{1}, []int{9}); ok || err != nil {
		t.Fatalf("CompareAndSwap with a different old = %v, %v; want false", ok, err)
	}
	if ok, err := m.CompareAndSwap(ctx, "k", []int{1, 2}, []int{3}); !ok || err != nil {
		t.Fatalf("CompareAndSwap with an equal old = %v, %v; want true", ok, err)
	}
	if v, _, _ := m.Get(ctx, "k"); !reflect.DeepEqual(v, []int{3}) {
		t.Fatalf("after the swap: %v", v)
	}
}

func TestMapAddNumbers(t *testing.T) {
	ctx := context.Background()
	ints := mgrNew[int8](t)
	if v, err := ints.Add(ctx, "n", 100); v != 100 || err != nil {
		t.Fatalf("Add to a missing key = %v, %v", v, err)
	}
	if v, _ := ints.Add(ctx, "n", 100); v != -56 {
		t.Fatalf("int8 100+100 = %v, want -56 (wraps)", v)
	}
	floats := mgrNew[float64](t)
	floats.Add(ctx, "f", 0.25)
	if v, _ := floats.Add(ctx, "f", 0.5); v != 0.75 {
		t.Fatalf("0.25+0.5 = %v", v)
	}
	type cents uint64
	named := mgrNew[cents](t)
	if v, _ := named.Add(ctx, "c", math.MaxUint64); v != math.MaxUint64 {
		t.Fatalf("named uint = %v", v)
	}
}

func TestMapAddOnNonNumberFailsWithErrNotNumber(t *testing.T) {
	m := mgrNew[string](t)
	if _, err := m.Add(context.Background(), "k", "x"); !errors.Is(err, ErrNotNumber) {
		t.Fatalf("Add on a Map[string] = %v, want ErrNotNumber", err)
	}
}

func TestNewMapRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  MapOption
	}{
		{"nil", nil},
		{"message too small", WithMapMaxMessage(10)},
		{"message too large", WithMapMaxMessage(2 << 30)},
		{"concurrency 1", WithMapConcurrency(1)},
		{"concurrency 0", WithMapConcurrency(0)},
		{"concurrency 65", WithMapConcurrency(65)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMap[int](tt.opt); !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("NewMap = %v, want ErrInvalidOption", err)
			}
		})
	}
	if _, err := NewMap[chan int](); err == nil {
		t.Fatal("NewMap[chan int] succeeded")
	}
}

func TestMapZeroValueAndDoneContextFail(t *testing.T) {
	var zero Map[int]
	if _, _, err := zero.Get(context.Background(), "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("zero Map Get = %v, want ErrClosed", err)
	}
	m := mgrNew[int](t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Set(ctx, "k", 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a done ctx = %v", err)
	}
	if err := m.Lock(ctx, "l"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a done ctx = %v", err)
	}
}

// Named locks are held by a process: goroutines of the parent exclude each
// other, and the count of a read-modify-write under the lock is exact.
func TestMapLockExcludesGoroutines(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int](t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if err := m.Lock(ctx, "l"); err != nil {
					t.Error(err)
					return
				}
				v, _, _ := m.Get(ctx, "n")
				m.Set(ctx, "n", v+1)
				if err := m.Unlock("l"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, _, _ := m.Get(ctx, "n"); v != 800 {
		t.Fatalf("n = %d, want 800", v)
	}
}

func TestMapUnlockNotHeldFails(t *testing.T) {
	m := mgrNew[int](t)
	if err := m.Unlock("l"); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("Unlock of a free lock = %v, want ErrNotHeld", err)
	}
}

// A Lock waiting for a held lock ends with ctx's error, without the lock,
// and the lock stays usable.
func TestMapLockWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := mgrNew[int](t)
		ctx := context.Background()
		if err := m.Lock(ctx, "l"); err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := m.Lock(tctx, "l"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Lock of a held lock = %v, want DeadlineExceeded", err)
		}
		if err := m.Unlock("l"); err != nil {
			t.Fatal(err)
		}
		if err := m.Lock(ctx, "l"); err != nil {
			t.Fatalf("Lock after the withdrawn wait = %v", err)
		}
		m.Unlock("l")
	})
}

// Close fails every later call and the Lock calls waiting, and is
// idempotent.
func TestMapCloseFailsCallsAndWaitingLocks(t *testing.T) {
	ctx := context.Background()
	m, err := NewMap[int]()
	if err != nil {
		t.Fatal(err)
	}
	m.Lock(ctx, "l")
	waiting := make(chan error)
	go func() { waiting <- m.Lock(ctx, "l") }()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting Lock after Close = %v, want ErrClosed", err)
	}
	if err := m.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, _, err := m.Get(ctx, "k"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get after Close = %v", err)
	}
	if _, err := m.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("MarshalBinary after Close = %v", err)
	}
}

// In the process that made it, a Map's handle decodes to the Map itself;
// a handle decodes only as the same value type.
func TestMapHandleDecodesToItselfAndChecksType(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int](t)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var same Map[int]
	if err := same.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	same.Set(ctx, "k", 7)
	if v, _, _ := m.Get(ctx, "k"); v != 7 {
		t.Fatalf("the decoded handle wrote elsewhere: %d", v)
	}
	if err := new(Map[string]).UnmarshalBinary(b); !errors.Is(err, ErrType) {
		t.Fatalf("decoding as Map[string] = %v, want ErrType", err)
	}
	if err := new(Map[int]).UnmarshalBinary(b[:5]); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("decoding truncated bytes = %v, want ErrCorrupt", err)
	}
}

// The Map behaves like a Go map guarded by a mutex, for any sequence of
// operations.
func TestMapMatchesAModelMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		m, err := NewMap[int64]()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		model := map[string]int64{}
		key := rapid.SampledFrom([]string{"a", "b", "c"})
		val := rapid.Int64Range(-3, 3)
		t.Repeat(map[string]func(*rapid.T){
			"set": func(t *rapid.T) {
				k, v := key.Draw(t, "k"), val.Draw(t, "v")
				m.Set(ctx, k, v)
				model[k] = v
			},
			"delete": func(t *rapid.T) {
				k := key.Draw(t, "k")
				_, want := model[k]
				if got, _ := m.Delete(ctx, k); got != want {
					t.Fatalf("Delete(%s) = %v, want %v", k, got, want)
				}
				delete(model, k)
			},
			"add": func(t *rapid.T) {
				k, d := key.Draw(t, "k"), val.Draw(t, "d")
				model[k] += d
				if got, _ := m.Add(ctx, k, d); got != model[k] {
					t.Fatalf("Add = %d, want %d", got, model[k])
				}
			},
			"cas": func(t *rapid.T) {
				k, old, nw := key.Draw(t, "k"), val.Draw(t, "old"), val.Draw(t, "new")
				cur, present := model[k]
				want := present && cur == old
				if got, _ := m.CompareAndSwap(ctx, k, old, nw); got != want {
					t.Fatalf("CompareAndSwap = %v, want %v", got, want)
				}
				if want {
					model[k] = nw
				}
			},
			"pop": func(t *rapid.T) {
				k := key.Draw(t, "k")
				want, present := model[k]
				if got, ok, err := m.Pop(ctx, k); got != want || ok != present || err != nil {
					t.Fatalf("Pop(%s) = %d, %v, %v; want %d, %v", k, got, ok, err, want, present)
				}
				delete(model, k)
			},
			"setdefault": func(t *rapid.T) {
				k, v := key.Draw(t, "k"), val.Draw(t, "v")
				cur, present := model[k]
				if !present {
					model[k], cur = v, v
				}
				if got, had, err := m.SetDefault(ctx, k, v); got != cur || had != present || err != nil {
					t.Fatalf("SetDefault(%s, %d) = %d, %v, %v; want %d, %v", k, v, got, had, err, cur, present)
				}
			},
			"update": func(t *rapid.T) {
				batch := rapid.MapOf(key, val).Draw(t, "batch")
				if err := m.Update(ctx, batch); err != nil {
					t.Fatal(err)
				}
				maps.Copy(model, batch)
			},
			"len": func(t *rapid.T) {
				if n, err := m.Len(ctx); n != len(model) || err != nil {
					t.Fatalf("Len = %d, %v; want %d", n, err, len(model))
				}
			},
			"keys": func(t *rapid.T) {
				want := slices.Sorted(maps.Keys(model))
				if got, err := m.Keys(ctx); !slices.Equal(got, want) || err != nil {
					t.Fatalf("Keys = %v, %v; want %v", got, err, want)
				}
			},
			"": func(t *rapid.T) {
				snap, err := m.Snapshot(ctx)
				if err != nil || !maps.Equal(snap, model) {
					t.Fatalf("Snapshot = %v, %v; want %v", snap, err, model)
				}
			},
		})
	})
}

package ipc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/skein-go/skein/proc"
)

// Python's dict methods on a Map, in the parent: Len, Keys, Pop,
// SetDefault and Update.
func TestMapDictMethodsInTheParent(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int](t)
	if n, err := m.Len(ctx); n != 0 || err != nil {
		t.Fatalf("Len of an empty Map = %d, %v", n, err)
	}
	if keys, err := m.Keys(ctx); len(keys) != 0 || err != nil {
		t.Fatalf("Keys of an empty Map = %v, %v", keys, err)
	}
	if err := m.Update(ctx, map[string]int{"c": 3, "a": 1, "b": 2}); err != nil {
		t.Fatal(err)
	}
	if n, err := m.Len(ctx); n != 3 || err != nil {
		t.Fatalf("Len = %d, %v; want 3", n, err)
	}
	if keys, err := m.Keys(ctx); !slices.Equal(keys, []string{"a", "b", "c"}) || err != nil {
		t.Fatalf("Keys = %v, %v; want [a b c]", keys, err)
	}
	if v, ok, err := m.Pop(ctx, "b"); v != 2 || !ok || err != nil {
		t.Fatalf("Pop of a present key = %d, %v, %v; want 2, true", v, ok, err)
	}
	if v, ok, err := m.Pop(ctx, "b"); v != 0 || ok || err != nil {
		t.Fatalf("Pop of a popped key = %d, %v, %v; want 0, false", v, ok, err)
	}
	if v, had, err := m.SetDefault(ctx, "a", 10); v != 1 || !had || err != nil {
		t.Fatalf("SetDefault of a present key = %d, %v, %v; want 1, true", v, had, err)
	}
	if v, had, err := m.SetDefault(ctx, "d", 4); v != 4 || had || err != nil {
		t.Fatalf("SetDefault of a missing key = %d, %v, %v; want 4, false", v, had, err)
	}
	if err := m.Update(ctx, map[string]int{"a": 5, "e": 6}); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(ctx, nil); err != nil {
		t.Fatalf("Update with nil = %v", err)
	}
	want := map[string]int{"a": 5, "c": 3, "d": 4, "e": 6}
	if snap, err := m.Snapshot(ctx); !maps.Equal(snap, want) || err != nil {
		t.Fatalf("Snapshot = %v, %v; want %v", snap, err, want)
	}
}

// The values SetDefault and Pop return are copies, and SetDefault stores
// a copy of v: changing any of them changes nothing in the Map.
func TestMapSetDefaultAndPopReturnCopies(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[[]int](t)
	v := []int{1, 2}
	got, had, err := m.SetDefault(ctx, "k", v)
	if err != nil || had || !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("SetDefault = %v, %v, %v", got, had, err)
	}
	v[0], got[1] = 100, 200
	again, had, err := m.SetDefault(ctx, "k", []int{9})
	if err != nil || !had || !slices.Equal(again, []int{1, 2}) {
		t.Fatalf("second SetDefault = %v, %v, %v; want the first value unchanged", again, had, err)
	}
	again[0] = 300
	if popped, ok, err := m.Pop(ctx, "k"); err != nil || !ok || !slices.Equal(popped, []int{1, 2}) {
		t.Fatalf("Pop = %v, %v, %v; want [1 2]", popped, ok, err)
	}
}

// mgrPicky refuses to encode a negative N: an Update holding one stores
// nothing.
type mgrPicky struct{ N int }

func (p mgrPicky) MarshalBinary() ([]byte, error) {
	if p.N < 0 {
		return nil, errors.New("negative")
	}
	return fmt.Appendf(nil, "%d", p.N), nil
}

func (p *mgrPicky) UnmarshalBinary(b []byte) error {
	_, err := fmt.Sscanf(string(b), "%d", &p.N)
	return err
}

func TestMapUpdateWithAnUnencodableValueStoresNothing(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[mgrPicky](t)
	err := m.Update(ctx, map[string]mgrPicky{"a": {1}, "b": {-1}, "c": {3}})
	if err == nil {
		t.Fatal("Update with an unencodable value succeeded")
	}
	if n, err := m.Len(ctx); n != 0 || err != nil {
		t.Fatalf("Len after a failed Update = %d, %v; want 0", n, err)
	}
	if _, _, err := m.SetDefault(ctx, "b", mgrPicky{-1}); err == nil {
		t.Fatal("SetDefault of an unencodable value succeeded")
	}
}

// Every new method fails with ctx.Err() for a done context and with
// ErrClosed on a zero or closed Map.
func TestMapDictMethodsFailOnDoneContextAndClosedMap(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	closed, err := NewMap[int]()
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	calls := map[string]func(context.Context, *Map[int]) error{
		"Len":        func(ctx context.Context, m *Map[int]) error { _, err := m.Len(ctx); return err },
		"Keys":       func(ctx context.Context, m *Map[int]) error { _, err := m.Keys(ctx); return err },
		"Pop":        func(ctx context.Context, m *Map[int]) error { _, _, err := m.Pop(ctx, "k"); return err },
		"SetDefault": func(ctx context.Context, m *Map[int]) error { _, _, err := m.SetDefault(ctx, "k", 1); return err },
		"Update":     func(ctx context.Context, m *Map[int]) error { return m.Update(ctx, map[string]int{"k": 1}) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(done, mgrNew[int](t)); !errors.Is(err, context.Canceled) {
				t.Errorf("with a done ctx: %v, want context.Canceled", err)
			}
			if err := call(context.Background(), closed); !errors.Is(err, ErrClosed) {
				t.Errorf("on a closed Map: %v, want ErrClosed", err)
			}
			if err := call(context.Background(), new(Map[int])); !errors.Is(err, ErrClosed) {
				t.Errorf("on a zero Map: %v, want ErrClosed", err)
			}
		})
	}
}

// Of goroutines racing on one key, exactly one Pop gets the value and
// exactly one SetDefault stores its own; every SetDefault returns that
// one.
func TestMapPopAndSetDefaultAreAtomic(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int](t)
	m.Set(ctx, "p", 7)
	const n = 8
	var wg sync.WaitGroup
	popped := make(chan int, n)
	defaults := make(chan [2]int, n)
	for i := range n {
		wg.Go(func() {
			if v, ok, err := m.Pop(ctx, "p"); ok && err == nil {
				popped <- v
			}
			v, had, err := m.SetDefault(ctx, "d", i)
			if err != nil {
				t.Error(err)
			}
			stored := 0
			if !had {
				stored = 1
			}
			defaults <- [2]int{v, stored}
		})
	}
	wg.Wait()
	close(popped)
	close(defaults)
	var got []int
	for v := range popped {
		got = append(got, v)
	}
	if !slices.Equal(got, []int{7}) {
		t.Fatalf("Pops got %v, want exactly one 7", got)
	}
	final, _, _ := m.Get(ctx, "d")
	stores := 0
	for d := range defaults {
		if d[0] != final {
			t.Fatalf("a SetDefault returned %d, the Map holds %d", d[0], final)
		}
		stores += d[1]
	}
	if stores != 1 {
		t.Fatalf("%d SetDefault calls stored their value, want 1", stores)
	}
}

// A Snapshot never sees half of an Update.
func TestMapUpdateIsAtomicForSnapshots(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int](t)
	const rounds = 200
	updated := make(chan error, 1)
	go func() {
		for i := range rounds {
			if err := m.Update(ctx, map[string]int{"a": i, "b": i, "c": i}); err != nil {
				updated <- err
				return
			}
		}
		updated <- nil
	}()
	for last := false; !last; {
		select {
		case err := <-updated:
			if err != nil {
				t.Fatal(err)
			}
			last = true // one more look, after the final Update
		default:
		}
		snap, err := m.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap) != 0 && (len(snap) != 3 || snap["a"] != snap["b"] || snap["b"] != snap["c"]) {
			t.Fatalf("Snapshot saw a partial Update: %v", snap)
		}
	}
	if keys, err := m.Keys(ctx); err != nil || !reflect.DeepEqual(keys, []string{"a", "b", "c"}) {
		t.Fatalf("Keys after the Updates = %v, %v; want [a b c]", keys, err)
	}
}

// mgrDictResult is what mgrDict saw in the worker.
type mgrDictResult struct {
	Len         int
	Keys        []string
	Popped      int64
	PoppedFound bool
	MissingPop  bool
	Kept        int64 // SetDefault of a key the parent set
	KeptHad     bool
	Stored      int64 // SetDefault of a new key
	StoredHad   bool
}

// Worker functions of the dict methods' tests.
var (
	mgrDict = proc.Register("ipc.test.mgr-dict", func(ctx context.Context, a mgrArgs) (mgrDictResult, error) {
		var r mgrDictResult
		var err error
		if r.Len, err = a.M.Len(ctx); err != nil {
			return r, err
		}
		if r.Keys, err = a.M.Keys(ctx); err != nil {
			return r, err
		}
		if r.Popped, r.PoppedFound, err = a.M.Pop(ctx, "pop"); err != nil {
			return r, err
		}
		if _, r.MissingPop, err = a.M.Pop(ctx, "missing"); err != nil {
			return r, err
		}
		if r.Kept, r.KeptHad, err = a.M.SetDefault(ctx, "default", 5); err != nil {
			return r, err
		}
		if r.Stored, r.StoredHad, err = a.M.SetDefault(ctx, "new", 7); err != nil {
			return r, err
		}
		return r, a.M.Update(ctx, map[string]int64{"u1": 1, "u2": 2, "default": 10})
	})
	// mgrPopAll pops job-0 .. job-N-1 and returns the sum of the values it
	// got: two of them share the jobs without a lock.
	mgrPopAll = proc.Register("ipc.test.mgr-pop-all", func(ctx context.Context, a mgrArgs) (int64, error) {
		var sum int64
		for i := range a.N {
			v, ok, err := a.M.Pop(ctx, fmt.Sprintf("job-%d", i))
			if err != nil {
				return sum, err
			}
			if ok {
				sum += v
			}
		}
		return sum, nil
	})
	// mgrDictLimits checks the worker's message limit on Keys and Update.
	mgrDictLimits = proc.Register("ipc.test.mgr-dict-limits", func(ctx context.Context, a mgrBigArgs) (string, error) {
		_, keysErr := a.M.Keys(ctx)
		updateErr := a.M.Update(ctx, map[string][]byte{"a": {1}, "big": make([]byte, 200)})
		n, lenErr := a.M.Len(ctx)
		return fmt.Sprintf("keys too large: %v, update too large: %v, len: %d %v",
			errors.Is(keysErr, ErrTooLarge), errors.Is(updateErr, ErrTooLarge), n, lenErr), nil
	})
)

// Len, Keys, Pop, SetDefault and Update work from a worker on the
// parent's entries, and the parent sees what the worker did.
func TestMapDictMethodsFromAWorker(t *testing.T) {
	checkNoFDLeak(t)
	ctx := context.Background()
	m := mgrNew[int64](t)
	if err := m.Update(ctx, map[string]int64{"pop": 3, "default": 4, "keep": 0}); err != nil {
		t.Fatal(err)
	}
	r, err := mgrStart(t, mgrDict, mgrArgs{M: m}).Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := mgrDictResult{
		Len: 3, Keys: []string{"default", "keep", "pop"},
		Popped: 3, PoppedFound: true, MissingPop: false,
		Kept: 4, KeptHad: true, Stored: 7, StoredHad: false,
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("worker saw %+v, want %+v", r, want)
	}
	wantMap := map[string]int64{"default": 10, "keep": 0, "new": 7, "u1": 1, "u2": 2}
	if snap, err := m.Snapshot(ctx); err != nil || !maps.Equal(snap, wantMap) {
		t.Fatalf("parent's snapshot %v, %v; want %v", snap, err, wantMap)
	}
}

// Two workers and the parent popping the same jobs get each exactly once.
func TestMapPopSharesJobsAmongProcesses(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[int64](t)
	const n = 300
	jobs := map[string]int64{}
	var total int64
	for i := range n {
		jobs[fmt.Sprintf("job-%d", i)] = int64(i + 1)
		total += int64(i + 1)
	}
	if err := m.Update(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	a := mgrStart(t, mgrPopAll, mgrArgs{M: m, N: n})
	b := mgrStart(t, mgrPopAll, mgrArgs{M: m, N: n})
	var mine int64
	for i := n - 1; i >= 0; i-- {
		if v, ok, err := m.Pop(ctx, fmt.Sprintf("job-%d", i)); err != nil {
			t.Fatal(err)
		} else if ok {
			mine += v
		}
	}
	sa, errA := a.Wait(ctx)
	sb, errB := b.Wait(ctx)
	if err := errors.Join(errA, errB); err != nil {
		t.Fatal(err)
	}
	if got := sa + sb + mine; got != total {
		t.Fatalf("the pops got %d + %d + %d = %d, want %d: a job was lost or popped twice", sa, sb, mine, got, total)
	}
	if n, err := m.Len(ctx); n != 0 || err != nil {
		t.Fatalf("Len after every job was popped = %d, %v", n, err)
	}
}

func TestMapWorkerKeysAndUpdateTooLarge(t *testing.T) {
	ctx := context.Background()
	m := mgrNew[[]byte](t, WithMapMaxMessage(64))
	for i := range 20 {
		m.Set(ctx, fmt.Sprintf("a-long-key-%02d", i), nil)
	}
	p, err := proc.Start(ctx, mgrDictLimits, mgrBigArgs{M: m})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Wait(ctx)
	want := "keys too large: true, update too large: true, len: 20 <nil>"
	if err != nil || got != want {
		t.Fatalf("worker: %q, %v; want %q", got, err, want)
	}
}

package pool_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/skein-go/skein/pool"
)

func double(_ context.Context, x int) (int, error) { return 2 * x, nil }

func collect[T any](seq iter.Seq[pool.Result[T]]) (vals []T, idx []int, errs []error) {
	for r := range seq {
		if r.Err != nil {
			errs = append(errs, r.Err)
			continue
		}
		vals = append(vals, r.Value)
		idx = append(idx, r.Index)
	}
	return vals, idx, errs
}

// TestMapYieldsEachInputExactlyOnce is a property test: for any input
// length, chunk size, window and order, every input's result arrives
// exactly once, in input order unless unordered was asked for.
func TestMapYieldsEachInputExactlyOnce(t *testing.T) {
	p := newPool(t, 3)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "n")
		chunk := rapid.IntRange(1, 40).Draw(t, "chunk")
		window := rapid.IntRange(1, 8).Draw(t, "window")
		unordered := rapid.Bool().Draw(t, "unordered")
		opts := []pool.MapOption{pool.WithChunkSize(chunk), pool.WithWindow(window)}
		if unordered {
			opts = append(opts, pool.WithUnordered())
		}
		in := make([]int, n)
		for i := range in {
			in[i] = i
		}
		vals, idx, errs := collect(pool.Map(bg, p, slices.Values(in), double, opts...))
		if len(errs) > 0 {
			t.Fatalf("errors: %v", errs)
		}
		if len(vals) != n {
			t.Fatalf("got %d results for %d inputs", len(vals), n)
		}
		seen := make([]bool, n)
		for k, i := range idx {
			if seen[i] {
				t.Fatalf("input %d yielded twice", i)
			}
			seen[i] = true
			if vals[k] != 2*i {
				t.Fatalf("result for input %d = %d", i, vals[k])
			}
			if !unordered && i != k {
				t.Fatalf("ordered Map yielded input %d at position %d", i, k)
			}
		}
	})
}

// TestStatsAddUp is a property test of the Stats identity under a random
// mix of successes, failures, panics, cancellations and Close.
func TestStatsAddUp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		workers := rapid.IntRange(1, 4).Draw(t, "workers")
		p, err := pool.New(workers, pool.WithQueueSize(rapid.IntRange(0, 20).Draw(t, "queue")))
		if err != nil {
			t.Fatal(err)
		}
		kinds := rapid.SliceOfN(rapid.IntRange(0, 3), 0, 60).Draw(t, "tasks")
		for _, k := range kinds {
			f := pool.Submit(bg, p, func(ctx context.Context) (int, error) {
				switch k {
				case 1:
					return 0, errors.New("fail")
				case 2:
					panic("p")
				}
				return 1, nil
			})
			if k == 3 {
				f.Cancel()
			}
		}
		if rapid.Bool().Draw(t, "close") {
			p.Close()
		} else {
			p.Shutdown(bg)
		}
		s := p.Stats()
		sum := uint64(s.Queued) + uint64(s.Running) + s.Completed + s.Failed + s.Cancelled
		if s.Submitted != sum || s.Submitted != uint64(len(kinds)) {
			t.Fatalf("stats do not add up: %+v (tasks %d)", s, len(kinds))
		}
		if s.Panicked > s.Failed {
			t.Fatalf("more panics than failures: %+v", s)
		}
	})
}

func TestMapStopsAtFirstError(t *testing.T) {
	p := newPool(t, 2)
	boom := errors.New("boom")
	var calls atomic.Int64
	fn := func(_ context.Context, x int) (int, error) {
		calls.Add(1)
		if x == 5 {
			return 0, boom
		}
		return x, nil
	}
	var got []int
	var last error
	for r := range pool.Map(bg, p, slices.Values(seq(1000)), fn, pool.WithChunkSize(2), pool.WithWindow(2)) {
		if r.Err != nil {
			last = r.Err
			if r.Index != 5 {
				t.Fatalf("error at index %d", r.Index)
			}
			continue
		}
		got = append(got, r.Value)
	}
	if !errors.Is(last, boom) || !strings.Contains(last.Error(), "input 5") {
		t.Fatalf("last = %v", last)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Fatalf("results before the error = %v", got)
	}
	p.Wait(bg)
	if n := calls.Load(); n > 20 {
		t.Fatalf("fn called %d times after the error; the window should bound it", n)
	}
}

func TestMapAllErrorsYieldsEverything(t *testing.T) {
	p := newPool(t, 2)
	fn := func(_ context.Context, x int) (int, error) {
		if x%3 == 0 {
			return 0, fmt.Errorf("bad %d", x)
		}
		if x == 7 {
			panic("seven")
		}
		return x, nil
	}
	vals, _, errs := collect(pool.Map(bg, p, slices.Values(seq(20)), fn,
		pool.WithErrorMode(pool.AllErrors), pool.WithChunkSize(4)))
	if len(vals)+len(errs) != 20 || len(errs) != 8 {
		t.Fatalf("%d values, %d errors: %v", len(vals), len(errs), errs)
	}
	var pe *pool.PanicError
	if !slices.ContainsFunc(errs, func(e error) bool { return errors.As(e, &pe) }) {
		t.Fatal("the panic of input 7 was not reported as *PanicError")
	}
}

func TestMapBadArguments(t *testing.T) {
	p := newPool(t, 1)
	in := slices.Values([]int{1})
	cases := map[string]iter.Seq[pool.Result[int]]{
		"nil pool":   pool.Map(bg, nil, in, double),
		"nil fn":     pool.Map[int, int](bg, p, in, nil),
		"nil input":  pool.Map(bg, p, nil, double),
		"bad chunk":  pool.Map(bg, p, in, double, pool.WithChunkSize(0)),
		"bad window": pool.Map(bg, p, in, double, pool.WithWindow(-1)),
		"nil option": pool.Map(bg, p, in, double, nil),
	}
	for name, s := range cases {
		_, _, errs := collect(s)
		if len(errs) != 1 {
			t.Errorf("%s: errors = %v, want one", name, errs)
		}
	}
	if _, err := pool.MapSlice(bg, p, []int{1}, double, pool.WithChunkSize(-2)); err == nil {
		t.Error("MapSlice accepted a bad chunk size")
	}
}

func TestMapBreakStopsProducer(t *testing.T) {
	p := newPool(t, 2)
	var produced atomic.Int64
	inputs := func(yield func(int) bool) {
		for i := 0; ; i++ { // endless: only Map's stop ends it
			produced.Add(1)
			if !yield(i) {
				return
			}
		}
	}
	n := 0
	for r := range pool.Map(bg, p, inputs, double, pool.WithWindow(3)) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if n++; n == 10 {
			break
		}
	}
	// Returning from the loop means the producer goroutine has exited
	// (goleak checks it at the end); its reads are bounded by the window.
	if got := produced.Load(); got > 10+3+2 {
		t.Fatalf("read %d inputs for 10 results with a window of 3", got)
	}
}

func TestMapContextEnds(t *testing.T) {
	p := newPool(t, 1)
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	n := 0
	var last pool.Result[int]
	for r := range pool.Map(ctx, p, slices.Values(seq(100)), double) {
		last = r
		if n++; n == 3 {
			cancel()
		}
	}
	if last.Index != -1 || !errors.Is(last.Err, context.Canceled) {
		t.Fatalf("last result = %+v, want the context's error", last)
	}
}

func TestMapInputPanicIsAnError(t *testing.T) {
	p := newPool(t, 1)
	inputs := func(yield func(int) bool) {
		yield(1)
		panic("bad input source")
	}
	vals, _, errs := collect(pool.Map(bg, p, inputs, double))
	if len(vals) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "input iterator panicked") {
		t.Fatalf("vals %v errs %v", vals, errs)
	}
}

func TestMapOnClosedPool(t *testing.T) {
	p := newPool(t, 1)
	p.Close()
	_, _, errs := collect(pool.Map(bg, p, slices.Values(seq(5)), double))
	if len(errs) != 1 || !errors.Is(errs[0], pool.ErrClosed) {
		t.Fatalf("errs = %v", errs)
	}
}

func TestMapSlice(t *testing.T) {
	p := newPool(t, 3)
	out, err := pool.MapSlice(bg, p, seq(1000), double, pool.WithChunkSize(64))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if v != 2*i {
			t.Fatalf("out[%d] = %d", i, v)
		}
	}
	if out, err := pool.MapSlice(bg, p, nil, double); err != nil || len(out) != 0 {
		t.Fatalf("empty input: %v, %v", out, err)
	}
}

func TestMapSliceErrors(t *testing.T) {
	p := newPool(t, 2)
	fn := func(_ context.Context, x int) (int, error) {
		if x%10 == 3 {
			return 0, fmt.Errorf("bad %d", x)
		}
		return x, nil
	}
	if out, err := pool.MapSlice(bg, p, seq(50), fn, pool.WithChunkSize(4)); out != nil || err == nil || !strings.Contains(err.Error(), "bad") {
		t.Fatalf("FirstError: %v, %v", out, err)
	}
	out, err := pool.MapSlice(bg, p, seq(50), fn, pool.WithErrorMode(pool.AllErrors))
	if len(out) != 50 || out[4] != 4 {
		t.Fatalf("AllErrors outputs: %v", out)
	}
	for _, i := range []int{3, 13, 23, 33, 43} {
		if !strings.Contains(err.Error(), fmt.Sprintf("input %d: bad %d", i, i)) {
			t.Fatalf("AllErrors error lacks input %d: %v", i, err)
		}
	}
	p.Wait(bg)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func TestGroupReturnsValuesInOrder(t *testing.T) {
	p := newPool(t, 3)
	g := pool.NewGroup[int](bg, p)
	for i := range 20 {
		g.Go(func(context.Context) (int, error) { return i * 10, nil })
	}
	vals, err := g.Wait()
	if err != nil || len(vals) != 20 || vals[19] != 190 {
		t.Fatalf("Wait = %v, %v", vals, err)
	}
}

func TestGroupFirstErrorCancelsTheRest(t *testing.T) {
	p := newPool(t, 2)
	g := pool.NewGroup[int](bg, p)
	boom := errors.New("boom")
	g.Go(func(ctx context.Context) (int, error) {
		<-ctx.Done() // only returns when the group cancels it
		return 0, ctx.Err()
	})
	g.Go(func(context.Context) (int, error) { return 0, boom })
	var ran atomic.Bool
	g.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
	_, err := g.Wait()
	if err != boom {
		t.Fatalf("Wait = %v, want boom alone", err)
	}
	g.Go(func(context.Context) (int, error) { return 1, nil }) // after Wait: refused
	if _, err := g.Wait(); err == nil {
		t.Fatal("Go after Wait was not reported")
	}
	_ = ran.Load() // may or may not have run: it raced with the failure
}

func TestGroupAllErrorsAndContext(t *testing.T) {
	p := newPool(t, 2)
	g := pool.NewGroup[int](bg, p, pool.WithErrorMode(pool.AllErrors))
	for i := range 4 {
		g.Go(func(context.Context) (int, error) { return 0, fmt.Errorf("e%d", i) })
	}
	_, err := g.Wait()
	for i := range 4 {
		if !strings.Contains(err.Error(), fmt.Sprint("e", i)) {
			t.Fatalf("Wait = %v, missing e%d", err, i)
		}
	}

	ctx, cancel := context.WithCancel(bg)
	g2 := pool.NewGroup[int](ctx, p)
	started := make(chan struct{})
	g2.Go(func(ctx context.Context) (int, error) { close(started); <-ctx.Done(); return 0, ctx.Err() })
	<-started
	cancel()
	if _, err := g2.Wait(); !errors.Is(err, context.Canceled) {
		t.Fatalf("group with cancelled ctx: %v", err)
	}

	if _, err := pool.NewGroup[int](bg, nil).Wait(); err == nil {
		t.Fatal("group on a nil pool did not fail")
	}
	if _, err := pool.NewGroup[int](bg, p, pool.WithChunkSize(0)).Wait(); err == nil {
		t.Fatal("group with a bad option did not fail")
	}
}

func ExampleMap() {
	p, _ := pool.New(runtime.NumCPU())
	defer p.Close()
	words := slices.Values([]string{"go", "python", "skein"})
	for r := range pool.Map(context.Background(), p, words, func(_ context.Context, w string) (int, error) {
		return len(w), nil
	}) {
		fmt.Println(r.Index, r.Value, r.Err)
	}
	// Output:
	// 0 2 <nil>
	// 1 6 <nil>
	// 2 5 <nil>
}

func ExampleMapSlice() {
	p, _ := pool.New(2)
	defer p.Close()
	out, err := pool.MapSlice(context.Background(), p, []int{1, 2, 3, 4}, func(_ context.Context, x int) (int, error) {
		return x * x, nil
	}, pool.WithChunkSize(2))
	fmt.Println(out, err)
	// Output: [1 4 9 16] <nil>
}

func ExampleGroup() {
	p, _ := pool.New(4)
	defer p.Close()
	g := pool.NewGroup[string](context.Background(), p)
	for _, name := range []string{"alpha", "beta"} {
		g.Go(func(context.Context) (string, error) { return "hello " + name, nil })
	}
	vals, err := g.Wait()
	fmt.Println(vals, err)
	// Output: [hello alpha hello beta] <nil>
}

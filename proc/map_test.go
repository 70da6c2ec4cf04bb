package proc

import (
	"context"
	"errors"
	"io"
	"iter"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
)

// ints yields 0, 1, ..., n-1; n < 0 yields forever.
func ints(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; n < 0 || i < n; i++ {
			if !yield(i) {
				return
			}
		}
	}
}

// collect runs a Map to the end.
func collect[T any](seq iter.Seq[pool.Result[T]]) []pool.Result[T] {
	var out []pool.Result[T]
	for r := range seq {
		out = append(out, r)
	}
	return out
}

func TestMapYieldsInInputOrder(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	for _, chunk := range []int{1, 7, 100, 1000} {
		rs := collect(Map(ctx, p, square, ints(500), WithChunkSize(chunk), WithWindow(3)))
		if len(rs) != 500 {
			t.Fatalf("chunk %d: %d results", chunk, len(rs))
		}
		for i, r := range rs {
			if r.Index != i || r.Err != nil || r.Value != i*i {
				t.Fatalf("chunk %d: result %d = %+v", chunk, i, r)
			}
		}
	}
	checkStats(t, p.Stats())
}

func TestMapUnorderedYieldsEverything(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	seen := make([]bool, 300)
	for r := range Map(ctx, p, square, ints(300), WithChunkSize(10), WithUnordered()) {
		if r.Err != nil || r.Value != r.Index*r.Index || seen[r.Index] {
			t.Fatalf("result %+v (seen %v)", r, seen[r.Index])
		}
		seen[r.Index] = true
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Fatalf("input %d has no result", i)
	}
}

func TestMapErrorModes(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	t.Run("first error stops", func(t *testing.T) {
		rs := collect(Map(ctx, p, failOn, ints(40), WithChunkSize(4)))
		last := rs[len(rs)-1]
		var te *TaskError
		if len(rs) != 14 || last.Index != 13 || !errors.As(last.Err, &te) || te.Message != "unlucky" {
			t.Fatalf("%d results, last %+v", len(rs), last)
		}
	})
	t.Run("all errors", func(t *testing.T) {
		rs := collect(Map(ctx, p, failOn, ints(40), WithChunkSize(4), WithErrorMode(pool.AllErrors)))
		if len(rs) != 40 {
			t.Fatalf("%d results, want 40", len(rs))
		}
		for _, r := range rs {
			if (r.Err != nil) != (r.Index == 13) {
				t.Fatalf("result %+v", r)
			}
		}
	})
	// The pool finishes the cancelled rest: nothing is left in flight.
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkStats(t, p.Stats())
}

func TestMapCrashInAChunk(t *testing.T) {
	tests := []struct {
		name    string
		retries int
		failed  []int // inputs that must fail with *WorkerError
	}{
		// Without retries the pool cannot tell which input of the chunk
		// crashed: every unfinished one fails.
		{"no retries", 0, []int{5, 6, 7, 8, 9}},
		// With a retry they run again one by one: only the culprit fails.
		{"one retry", 1, []int{7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newTestPool(t, 2, WithRetries(tt.retries), WithStderr(io.Discard))
			ctx := context.Background()
			var failed []int
			for r := range Map(ctx, p, exitOn, ints(20), WithChunkSize(5), WithErrorMode(pool.AllErrors)) {
				var we *WorkerError
				switch {
				case errors.As(r.Err, &we):
					failed = append(failed, r.Index)
				case r.Err != nil || r.Value != r.Index:
					t.Fatalf("result %+v", r)
				}
			}
			if !slices.Equal(failed, tt.failed) {
				t.Fatalf("failed inputs %v, want %v", failed, tt.failed)
			}
			if err := p.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			checkStats(t, p.Stats())
		})
	}
}

func TestMapTimeoutFailsOnlyTheStuckInput(t *testing.T) {
	p := newTestPool(t, 1, WithTimeout(50*time.Millisecond), WithStopGrace(0), WithStderr(io.Discard))
	ctx := context.Background()
	rs := collect(Map(ctx, p, stuckOn, ints(8), WithChunkSize(8), WithErrorMode(pool.AllErrors)))
	for _, r := range rs {
		if r.Index == 3 {
			if !errors.Is(r.Err, ErrTimeout) {
				t.Fatalf("stuck input: %v, want ErrTimeout", r.Err)
			}
			continue
		}
		// The inputs after it had not started: they ran on the replacement.
		if r.Err != nil || r.Value != r.Index {
			t.Fatalf("result %+v", r)
		}
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s := p.Stats()
	checkStats(t, s)
	if len(rs) != 8 || s.TimedOut != 1 || s.WorkersKilled != 1 || s.Retried != 0 {
		t.Fatalf("%d results; stats %+v", len(rs), s)
	}
}

func TestMapBreakCancelsTheRest(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	n := 0
	for r := range Map(ctx, p, square, ints(-1), WithChunkSize(3)) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if n++; n == 10 {
			break
		}
	}
	// The pool is still fine, and shuts down: the abandoned chunks ended.
	if v, err := Submit(ctx, p, square, 5).Wait(ctx); err != nil || v != 25 {
		t.Fatalf("after break: %v, %v", v, err)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	checkStats(t, p.Stats())
}

func TestMapStopsWhenContextEnds(t *testing.T) {
	p := newTestPool(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var last pool.Result[int]
	n := 0
	for r := range Map(ctx, p, square, ints(-1), WithChunkSize(2)) {
		last = r
		if n++; n == 5 {
			cancel()
		}
	}
	if last.Index != -1 || !errors.Is(last.Err, context.Canceled) {
		t.Fatalf("last result %+v, want Index -1 with context.Canceled", last)
	}
}

func TestMapReportsBadArguments(t *testing.T) {
	p := newTestPool(t, 1)
	closed := newTestPool(t, 1)
	closed.Close()
	ctx := context.Background()
	panicky := func(yield func(int) bool) {
		yield(1)
		panic("input broke")
	}
	tests := []struct {
		name string
		seq  iter.Seq[pool.Result[int]]
		want string
	}{
		{"nil pool", Map(ctx, nil, square, ints(3)), "nil *Pool"},
		{"nil input", Map(ctx, p, square, nil), "nil input"},
		{"unusable func", Map(ctx, p, badRegistration, ints(3)), "register"},
		{"zero chunk", Map(ctx, p, square, ints(3), WithChunkSize(0)), "WithChunkSize"},
		{"zero window", Map(ctx, p, square, ints(3), WithWindow(0)), "WithWindow"},
		{"bad error mode", Map(ctx, p, square, ints(3), WithErrorMode(7)), "WithErrorMode"},
		{"nil option", Map(ctx, p, square, ints(3), nil), "nil MapOption"},
		{"closed pool", Map(ctx, closed, square, ints(3)), "closed"},
		{"iterator panics", Map(ctx, p, square, panicky, WithChunkSize(4)), "input broke"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := collect(tt.seq)
			last := rs[len(rs)-1]
			if last.Index != -1 || last.Err == nil || !strings.Contains(last.Err.Error(), tt.want) {
				t.Fatalf("results %+v, want a last one with Index -1 mentioning %q", rs, tt.want)
			}
		})
	}
}

func TestMapInputThatCannotBeEncodedFailsAlone(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	in := []trapArg{10, -1, 12}
	rs := collect(Map(ctx, p, decodeTrap, slices.Values(in), WithChunkSize(3), WithErrorMode(pool.AllErrors)))
	if len(rs) != 3 || rs[0].Value != 10 || rs[2].Value != 12 || !errors.Is(rs[1].Err, ErrEncoding) {
		t.Fatalf("results %+v", rs)
	}
}

func TestMapSlice(t *testing.T) {
	p := newTestPool(t, 2)
	ctx := context.Background()
	in := slices.Collect(ints(1000))
	out, err := MapSlice(ctx, p, square, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if v != i*i {
			t.Fatalf("out[%d] = %d", i, v)
		}
	}
	if out, err := MapSlice(ctx, p, failOn, in[:20]); out != nil || err == nil || !strings.Contains(err.Error(), "input 13: unlucky") {
		t.Fatalf("first error: %v, %v", out, err)
	}
	out, err = MapSlice(ctx, p, failOn, in[:20], WithErrorMode(pool.AllErrors), WithChunkSize(3))
	if len(out) != 20 || out[19] != 19 || out[13] != 0 || err == nil || !strings.Contains(err.Error(), "input 13") {
		t.Fatalf("all errors: %v, %v", out, err)
	}
	if _, err := MapSlice(ctx, nil, square, in); err == nil {
		t.Fatal("nil pool accepted")
	}
	if _, err := MapSlice(ctx, p, square, in, WithChunkSize(-1)); err == nil {
		t.Fatal("bad option accepted")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := MapSlice(cancelled, p, square, in); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if out, err := MapSlice(ctx, p, square, nil); err != nil || len(out) != 0 {
		t.Fatalf("empty input: %v, %v", out, err)
	}
}

var _ = future.Ready[int]

func TestMapLetsTheCallersPanicThrough(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	defer func() {
		if r := recover(); r != "caller's own" {
			t.Fatalf("recovered %v, want the caller's panic", r)
		}
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	for range Map(ctx, p, square, ints(10)) {
		panic("caller's own")
	}
}

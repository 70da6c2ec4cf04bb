package cluster

import (
	"errors"
	"strings"
	"testing"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/proc"
)

func TestSubmitRunsOnLocalWorkers(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(4))
	var fs []*future.Future[int]
	for i := range 100 {
		fs = append(fs, Submit(ctx, e, square, i))
	}
	for i, f := range fs {
		v, err := f.Wait(ctx)
		if err != nil || v != i*i {
			t.Fatalf("task %d: %v, %v", i, v, err)
		}
	}
	s := e.Stats()
	if s.Submitted != 100 || s.Completed != 100 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSubmitReportsTaskErrors(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	_, err := Submit(ctx, e, fail, "bad input").Wait(ctx)
	var te *proc.TaskError
	if !errors.As(err, &te) || te.Message != "bad input" || te.Func != fail.Name() {
		t.Fatalf("error %v", err)
	}
	_, err = Submit(ctx, e, boom, "kaboom").Wait(ctx)
	var pe *future.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" {
		t.Fatalf("panic error %v", err)
	}
}

func TestMapSliceReturnsOutputsInOrder(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	in := make([]int, 1000)
	for i := range in {
		in[i] = i
	}
	out, err := MapSlice(ctx, e, square, in, WithChunkSize(7))
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if v != i*i {
			t.Fatalf("out[%d] = %d", i, v)
		}
	}
	if s := e.Stats(); s.Completed != 1000 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMapUnorderedYieldsEveryInput(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	seen := map[int]bool{}
	for r := range Map(ctx, e, square, func(yield func(int) bool) {
		for i := range 100 {
			if !yield(i) {
				return
			}
		}
	}, WithUnordered(), WithChunkSize(3), WithWindow(4)) {
		if r.Err != nil || r.Value != r.Index*r.Index || seen[r.Index] {
			t.Fatalf("result %+v", r)
		}
		seen[r.Index] = true
	}
	if len(seen) != 100 {
		t.Fatalf("%d results", len(seen))
	}
}

func TestMapSliceFirstErrorStops(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	_, err := MapSlice(ctx, e, fail, []string{"a", "b"}, WithChunkSize(1))
	var te *proc.TaskError
	if !errors.As(err, &te) || te.Message != "a" {
		t.Fatalf("error %v", err)
	}
	out, err := MapSlice(ctx, e, fail, []string{"a", "b"}, WithErrorMode(pool.AllErrors))
	if len(out) != 2 || err == nil || !strings.Contains(err.Error(), "input 1: b") {
		t.Fatalf("all errors: %v %v", out, err)
	}
}

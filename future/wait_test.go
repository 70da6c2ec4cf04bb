package future_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/skein-go/skein/future"
)

// promises returns n started promises and their futures.
func promises(n int) ([]*future.Promise[int], []*future.Future[int]) {
	ps := make([]*future.Promise[int], n)
	fs := make([]*future.Future[int], n)
	for i := range ps {
		ps[i] = future.NewPromise[int]()
		ps[i].Start()
		fs[i] = ps[i].Future()
	}
	return ps, fs
}

func TestAllReturnsValuesInOrderAndJoinsErrors(t *testing.T) {
	ps, fs := promises(4)
	e1, e3 := errors.New("one"), errors.New("three")
	ps[3].Resolve(0, e3)
	ps[0].Resolve(10, nil)
	ps[2].Resolve(30, nil)
	ps[1].Resolve(0, e1)
	vals, err := future.All(context.Background(), fs)
	if !slices.Equal(vals, []int{10, 0, 30, 0}) {
		t.Fatalf("vals = %v", vals)
	}
	if !errors.Is(err, e1) || !errors.Is(err, e3) {
		t.Fatalf("err = %v, want both errors joined", err)
	}
	if !strings.Contains(err.Error(), "future 1: one") || !strings.Contains(err.Error(), "future 3: three") {
		t.Fatalf("err = %q, want indexes", err)
	}
}

func TestAllStopsWhenContextEnds(t *testing.T) {
	ps, fs := promises(2)
	ps[0].Resolve(1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := future.All(ctx, fs); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestWaitHelpersRejectNilFutures(t *testing.T) {
	fs := []*future.Future[int]{future.Ready(1), nil}
	ctx := context.Background()
	if _, err := future.All(ctx, fs); err == nil {
		t.Error("All accepted a nil future")
	}
	if _, _, err := future.First(ctx, fs); err == nil {
		t.Error("First accepted a nil future")
	}
	if _, err := future.FailFast(ctx, fs); err == nil {
		t.Error("FailFast accepted a nil future")
	}
	for f, err := range future.AsCompleted(ctx, fs) {
		if f != nil || err == nil {
			t.Error("AsCompleted accepted a nil future")
		}
	}
	if _, _, err := future.First[int](ctx, nil); err == nil {
		t.Error("First of nothing did not fail")
	}
}

func TestFirstReturnsTheFirstToResolve(t *testing.T) {
	ps, fs := promises(3)
	go ps[2].Resolve(7, nil)
	i, v, err := future.First(context.Background(), fs)
	if i != 2 || v != 7 || err != nil {
		t.Fatalf("First = %d, %d, %v; want 2, 7, nil", i, v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, fs2 := promises(2)
	if i, _, err := future.First(ctx, fs2); i != -1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("First on a done ctx = %d, %v", i, err)
	}
	ps[0].Resolve(0, nil)
	ps[1].Resolve(0, nil)
}

func TestFailFastCancelsTheRest(t *testing.T) {
	ps, fs := promises(2)
	pending := future.NewPromise[int]() // never started: Cancel must stop it
	fs = append(fs, pending.Future())
	boom := errors.New("boom")
	ps[0].Resolve(1, nil)
	ps[1].Resolve(0, boom)
	_, err := future.FailFast(context.Background(), fs)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "future 1:") {
		t.Fatalf("err = %v", err)
	}
	if pending.Future().State() != future.Cancelled {
		t.Fatalf("pending future state = %v, want cancelled", pending.Future().State())
	}
}

func TestFailFastSucceedsWithAllValues(t *testing.T) {
	ps, fs := promises(3)
	for i, p := range ps {
		go p.Resolve(i*i, nil)
	}
	fs = append(fs, fs[1]) // duplicates are fine
	vals, err := future.FailFast(context.Background(), fs)
	if err != nil || !slices.Equal(vals, []int{0, 1, 4, 1}) {
		t.Fatalf("FailFast = %v, %v", vals, err)
	}
}

func TestAsCompletedYieldsEachFutureOnceInCompletionOrder(t *testing.T) {
	ps, fs := promises(3)
	fs = append(fs, fs[0])
	order := []int{2, 0, 1}
	resolved := make(chan struct{})
	go func() {
		defer close(resolved)
		for _, i := range order {
			ps[i].Resolve(i, nil)
		}
	}()
	<-resolved
	var got []int
	for f, err := range future.AsCompleted(context.Background(), fs) {
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := f.Result()
		got = append(got, v)
	}
	slices.Sort(got)
	if !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("got %v, want each future once", got)
	}
}

func TestAsCompletedReportsContextEnd(t *testing.T) {
	ps, fs := promises(2)
	ps[0].Resolve(1, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n int
	var last error
	for f, err := range future.AsCompleted(ctx, fs) {
		if err != nil {
			last = err
			break
		}
		n++
		if f != fs[0] {
			t.Fatal("yielded the unresolved future")
		}
		cancel()
	}
	if n != 1 || !errors.Is(last, context.Canceled) {
		t.Fatalf("n = %d, last = %v", n, last)
	}
}

func ExampleAsCompleted() {
	ctx := context.Background()
	var fs []*future.Future[string]
	for _, name := range []string{"a", "b", "c"} {
		fs = append(fs, future.Go(ctx, func(context.Context) (string, error) {
			return "task " + name, nil
		}))
	}
	var done []string
	for f, err := range future.AsCompleted(ctx, fs) {
		if err != nil {
			panic(err)
		}
		v, _, _ := f.Result()
		done = append(done, v)
	}
	slices.Sort(done) // completion order varies from run to run
	fmt.Println(done)
	// Output: [task a task b task c]
}

func ExampleAll() {
	ctx := context.Background()
	fs := []*future.Future[int]{future.Ready(1), future.Ready(2), future.Fail[int](errors.New("no"))}
	vals, err := future.All(ctx, fs)
	fmt.Println(vals, err)
	// Output: [1 2 0] future 2: no
}

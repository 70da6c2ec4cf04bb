package proc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/skein-go/skein/progress"
)

// countItems reports n items expected, then every fifth as failed and the
// rest as done, and says whether anyone watches.
var countItems = Register("test.countItems", func(ctx context.Context, n int) (bool, error) {
	rep := progress.FromContext(ctx)
	rep.AddTotal(int64(n))
	for i := range n {
		if i%5 == 4 {
			rep.AddFailed(1)
		} else {
			rep.Add(1)
		}
	}
	return progress.Reporting(ctx), nil
})

// reportThenWait reports two items at once (the second within the
// batching interval of the first) and waits to be cancelled.
var reportThenWait = Register("test.reportThenWait", func(ctx context.Context, _ int) (int, error) {
	progress.FromContext(ctx).Add(1)
	progress.FromContext(ctx).Add(1)
	<-ctx.Done()
	return 0, ctx.Err()
})

func TestProgressReachesTheSubmittersReporter(t *testing.T) {
	p := newTestPool(t, 1)
	tr, err := progress.New()
	if err != nil {
		t.Fatal(err)
	}
	task, err := tr.Task("count", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	watched, err := Submit(progress.NewContext(ctx, task), p, countItems, 1000).Wait(ctx)
	if err != nil || !watched {
		t.Fatalf("task = %v, %v; want it to see a Reporter", watched, err)
	}
	// The last counts travel before the result: they are in when Wait returns.
	if u := task.Update(); u.Total != 1000 || u.Done != 800 || u.Failed != 200 {
		t.Fatalf("tracker after the task: %+v, want total 1000, done 800, failed 200", u)
	}
	watched, err = Submit(ctx, p, countItems, 10).Wait(ctx)
	if err != nil || watched {
		t.Fatalf("unwatched task = %v, %v; want no Reporter in its context", watched, err)
	}
}

func TestProgressOfMapItems(t *testing.T) {
	p := newTestPool(t, 2)
	tr, err := progress.New()
	if err != nil {
		t.Fatal(err)
	}
	task, err := tr.Task("map", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := make([]int, 300)
	for i := range in {
		in[i] = 5
	}
	if _, err := MapSlice(progress.NewContext(ctx, task), p, countItems, in, WithChunkSize(7)); err != nil {
		t.Fatal(err)
	}
	if u := task.Update(); u.Total != 1500 || u.Done != 1200 || u.Failed != 300 {
		t.Fatalf("tracker after Map: %+v, want total 1500, done 1200, failed 300", u)
	}
}

// signalReporter tells a channel about every Add, to show that counts
// arrive while the task still runs.
type signalReporter chan int64

func (s signalReporter) AddTotal(int64)  {}
func (s signalReporter) Add(n int64)     { s <- n }
func (s signalReporter) AddFailed(int64) {}

func TestProgressArrivesWhileTheTaskRuns(t *testing.T) {
	p := newTestPool(t, 1)
	ctx := context.Background()
	rep := make(signalReporter, 1)
	f := Submit(progress.NewContext(ctx, rep), p, reportThenWait, 0)
	wait, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	// The task is still blocked: only live reports get here, the first at
	// once, the second by the trailing send at the end of the interval.
	for sum := int64(0); sum < 2; {
		select {
		case n := <-rep:
			sum += n
		case <-wait.Done():
			t.Fatalf("%d of 2 items reported while the task ran", sum)
		}
	}
	f.Cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v", err)
	}
}

package cluster

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/progress"
)

// submitRaw submits square's argument under another function name and
// signature, as a program of another build would.
func submitRaw(ctx context.Context, t *testing.T, e *Executor, fn, sig string) *future.Future[int] {
	fi, err := infoFor(square)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := fi.encodeArg(nil, 3)
	tk := &task[int, int]{fi: fi, ctx: ctx}
	tk.promise.Start()
	en := e.newEntry(fn, 1, tk, nil)
	if err := e.submit(en, &wire.Task{ID: en.seq, Func: fn, Count: 1, Data: data}, sig); err != nil {
		t.Fatal(err)
	}
	return tk.promise.Future()
}

func TestUnknownFunctionIsDeadLettered(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1), WithMaxDeliveries(2))
	_, err := submitRaw(ctx, t, e, "no.such.func", "no.such.func(int) int").Wait(ctx)
	var de *DeadLetterError
	if !errors.As(err, &de) || !errors.Is(err, ErrUnknownFunc) || !errors.Is(err, ErrDeadLetter) || de.Deliveries != 2 {
		t.Fatalf("error %v", err)
	}
	if s := e.Stats(); s.DeadLettered != 1 || s.Failed != 1 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestSignatureMismatchIsATypedError(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1), WithMaxDeliveries(1))
	_, err := submitRaw(ctx, t, e, square.Name(), square.Name()+"(string) int").Wait(ctx)
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "(int) int") {
		t.Fatalf("error %v", err)
	}
}

func TestCancelReachesTheRunningTask(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1))
	rep := &countingReporter{}
	tctx, cancel := context.WithCancel(progress.NewContext(ctx, rep))
	f := Submit(tctx, e, block, newGate(t))
	// Wait until the worker runs it: a second task on the single slot
	// would queue behind it, so observe the worker's running set instead.
	waitFor(ctx, t, func() bool { return runningTasks(e) == 1 })
	cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v", err)
	}
	// The worker's slot is free again only if the task's context was
	// cancelled there.
	if v, err := Submit(ctx, e, square, 4).Wait(ctx); err != nil || v != 16 {
		t.Fatalf("after cancel: %v %v", v, err)
	}
	if s := e.Stats(); s.Cancelled != 1 || s.Completed != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFutureCancelReachesTheWorker(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1))
	f := Submit(ctx, e, block, newGate(t))
	waitFor(ctx, t, func() bool { return runningTasks(e) == 1 })
	f.Cancel()
	if _, err := f.Wait(ctx); !errors.Is(err, context.Canceled) || f.State() != future.Cancelled {
		t.Fatalf("error %v, state %v", err, f.State())
	}
	if v, err := Submit(ctx, e, square, 5).Wait(ctx); err != nil || v != 25 {
		t.Fatalf("after cancel: %v %v", v, err)
	}
}

func TestTimeoutStopsTheTask(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1), WithTimeout(50*time.Millisecond))
	_, err := Submit(ctx, e, block, newGate(t)).Wait(ctx)
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v", err)
	}
	if s := e.Stats(); s.TimedOut != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestStubbornTaskIsReportedAfterTheGrace(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithTimeout(50*time.Millisecond))
	wctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(wctx, e.URL(), WithConcurrency(1), WithStopGrace(10*time.Millisecond)) }()
	gate := newGate(t)
	defer func() {
		openGate(gate) // lets the abandoned goroutine end before goleak looks
		stop()
		<-served
	}()
	// The task ignores its context: the worker reports the timeout
	// itself once the grace has passed, without waiting for it.
	_, err := Submit(ctx, e, stubborn, gate).Wait(ctx)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("error %v", err)
	}
}

func TestPayloadOverTheLimitFailsAtSubmit(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	_, err := Submit(ctx, e, echo, strings.Repeat("x", 2<<20)).Wait(ctx)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("error %v", err)
	}
	if s := e.Stats(); s.Submitted != 0 || s.Pending != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestResultOverTheLimitIsAnEncodingError(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1))
	_, err := Submit(ctx, e, repeat, 2<<20).Wait(ctx)
	if !errors.Is(err, ErrEncoding) || !strings.Contains(err.Error(), "max_payload") {
		t.Fatalf("error %v", err)
	}
}

func TestProgressReachesTheSubmitter(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	rep := &countingReporter{}
	pctx := progress.NewContext(ctx, rep)
	if _, err := Submit(pctx, e, reportN, 500).Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := MapSlice(pctx, e, reportN, []int{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if total, done := rep.counts(); total != 506 || done != 506 {
		t.Fatalf("progress %d/%d, want 506/506", done, total)
	}
}

func TestShutdownWaitsForAcceptedTasks(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(2))
	var fs []*future.Future[int]
	for i := range 50 {
		fs = append(fs, Submit(ctx, e, square, i))
	}
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range fs {
		if v, err, ok := f.Result(); !ok || err != nil || v != i*i {
			t.Fatalf("task %d after Shutdown: %v %v %v", i, v, err, ok)
		}
	}
	if _, err := Submit(ctx, e, square, 1).Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Shutdown: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseFailsPendingTasks(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t) // no workers: nothing will run
	f := Submit(ctx, e, square, 2)
	e.Close()
	if _, err := f.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v", err)
	}
	e.Close() // idempotent
}

func TestDuplicateResultsResolveTheFutureOnce(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t) // no workers: the test plays a worker that ran the task twice
	f := Submit(ctx, e, square, 7)
	e.mu.Lock()
	var seq uint64
	for s := range e.pending {
		seq = s
	}
	e.mu.Unlock()
	for _, v := range []int{49, 50} {
		data := wire.AppendOutcome(nil, &wire.Outcome{Status: wire.StatusOK, Value: mustEncode(t, v)})
		frame := wire.AppendFrame(nil, &wire.Result{ID: seq, Final: true, Count: 1, Data: data})
		if _, err := e.js.Publish(ctx, e.resultSubj, frame); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := f.Wait(ctx); err != nil || v != 49 {
		t.Fatalf("%v %v", v, err)
	}
	waitFor(ctx, t, func() bool { return e.Stats().Duplicates == 1 })
	if s := e.Stats(); s.Completed != 1 || s.Submitted != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func mustEncode(t *testing.T, v int) []byte {
	fi, err := infoFor(square)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fi.out.Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCloseStopsTasksOfLocalWorkers(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t, WithLocalWorkers(1))
	f := Submit(ctx, e, block, newGate(t)) // would block for ever
	waitFor(ctx, t, func() bool { return runningTasks(e) == 1 })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("error %v", err)
	}
}

func TestLongTasksSpreadOverWorkers(t *testing.T) {
	ctx := testCtx(t)
	e := newTestExecutor(t)
	wctx, stop := context.WithCancel(ctx)
	var workers []*worker
	done := make(chan error, 2)
	for range 2 {
		cfg := defaultConfig()
		cfg.concurrency = 1
		w, err := newWorker(wctx, e.URL(), &cfg)
		if err != nil {
			t.Fatal(err)
		}
		workers = append(workers, w)
		go func() { done <- w.run() }()
	}
	gate := newGate(t)
	f1, f2 := Submit(ctx, e, block, gate), Submit(ctx, e, block, gate)
	// Submitted together, but not measured as tiny: one task a message,
	// so that each worker takes one.
	busy := func(w *worker) bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.running) == 1
	}
	waitFor(ctx, t, func() bool { return busy(workers[0]) && busy(workers[1]) })
	openGate(gate)
	for _, f := range []*future.Future[string]{f1, f2} {
		if v, err := f.Wait(ctx); err != nil || v != "released" {
			t.Fatalf("%q %v", v, err)
		}
	}
	stop()
	<-done
	<-done
}

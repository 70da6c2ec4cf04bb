package progress

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// safeBuffer is a bytes.Buffer that a renderer may write while the test
// reads it.
type safeBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// failingWriter fails every write with errDiskFull and counts the calls.
type failingWriter struct {
	mu     sync.Mutex
	writes int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write([]byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return 0, errDiskFull
}

func mustRenderer(t testing.TB, tr *Tracker, w interface{ Write([]byte) (int, error) }, opts ...RenderOption) *Renderer {
	t.Helper()
	r, err := NewRenderer(tr, w, opts...)
	if err != nil {
		t.Fatalf("NewRenderer: %v", err)
	}
	return r
}

func TestLinesShowTotalsEachIntervalTaskEndsAndAFinalLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		var out safeBuffer
		r := mustRenderer(t, tr, &out, WithMode(Lines), WithInterval(time.Second))
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		a := mustTask(t, tr, "resize", 100)
		b := mustTask(t, tr, "upload", 40)
		advance(250 * time.Millisecond)
		a.Add(25)
		b.Add(10)
		advance(500 * time.Millisecond) // 0.75s
		a.Add(25)
		b.Add(10)
		advance(500 * time.Millisecond) // 1.25s, after the first line
		a.Add(50)
		a.Done()
		b.AddFailed(5)
		advance(time.Second) // 2.25s, after the second line
		b.Fail(errors.New("quota exceeded"))
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		want := `progress 1.0s: 70/140 items (50.0%); 70/s; ETA 1.0s; tasks: 2 running, 0 done, 0 failed
progress 2.0s: task "resize" done after 1.2s: 100/100 items (100.0%)
progress 2.0s: 125/140 items (89.3%), 5 failed; 62/s; ETA 0.2s; tasks: 1 running, 1 done, 0 failed
progress 2.2s: task "upload" failed after 2.2s: 25/40 items (62.5%), 5 failed; quota exceeded
progress 2.2s: 125/140 items (89.3%), 5 failed; 56/s; tasks: 0 running, 1 done, 1 failed
`
		if got := out.String(); got != want {
			t.Errorf("output:\n%s\nwant:\n%s", got, want)
		}
	})
}

func TestLinesDoNotRepeatAnUnchangedFinalState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		var out safeBuffer
		r := mustRenderer(t, tr, &out, WithMode(Lines), WithInterval(time.Second))
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		task := mustTask(t, tr, "x", 1)
		task.Add(1)
		task.Done()
		advance(time.Second)
		synctest.Wait() // the line of the tick at 1s is written
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(out.String(), "\n"); got != 2 {
			t.Errorf("output has %d lines, want 2 (the task's end, the totals):\n%s", got, out.String())
		}
	})
}

func TestRunEndsWithCtxErrWhenCtxEnds(t *testing.T) {
	for _, mode := range []Mode{Lines, Bars, Quiet} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := mustNew(t)
				mustTask(t, tr, "x", 10).Add(3)
				r := mustRenderer(t, tr, &safeBuffer{}, WithMode(mode))
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
				defer cancel()
				if err := r.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Run = %v, want context.DeadlineExceeded", err)
				}
				if err := r.Start(t.Context()); !errors.Is(err, ErrClosed) {
					t.Errorf("Start after Run ended = %v, want ErrClosed", err)
				}
				if err := r.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
			})
		})
	}
}

func TestRunEndsWithNilWhenClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := mustRenderer(t, mustNew(t), &safeBuffer{}, WithMode(Lines))
		result := make(chan error, 1)
		go func() { result <- r.Run(t.Context()) }()
		synctest.Wait() // Run is rendering
		if err := r.Run(t.Context()); !errors.Is(err, ErrStarted) {
			t.Errorf("second Run = %v, want ErrStarted", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		if err := <-result; err != nil {
			t.Errorf("Run = %v, want nil after Close", err)
		}
	})
}

func TestRendererLifecycleErrors(t *testing.T) {
	tr := mustNew(t)
	r := mustRenderer(t, tr, &safeBuffer{}, WithMode(Lines))
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	for i := range 2 {
		if err := r.Close(); err != nil {
			t.Errorf("Close #%d = %v", i+1, err)
		}
	}
	if err := r.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
	if err := r.Run(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}

	never := mustRenderer(t, tr, &safeBuffer{})
	if err := never.Close(); err != nil {
		t.Errorf("Close of a renderer never started = %v", err)
	}
	if err := never.Start(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestRenderingStopsAtTheFirstWriteError(t *testing.T) {
	for _, mode := range []Mode{Lines, Bars} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := mustNew(t)
				mustTask(t, tr, "x", 10).Add(1)
				var w failingWriter
				r := mustRenderer(t, tr, &w, WithMode(mode), WithInterval(time.Second))
				if err := r.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				advance(10 * time.Second)
				err := r.Close()
				if !errors.Is(err, errDiskFull) {
					t.Errorf("Close = %v, want the write error", err)
				}
				if w.writes != 1 {
					t.Errorf("%d writes, want 1: rendering goes on after a failed write", w.writes)
				}
			})
		})
	}
}

func TestQuietShowsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		var out safeBuffer
		r := mustRenderer(t, tr, &out, WithMode(Quiet), WithInterval(time.Millisecond))
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		task := mustTask(t, tr, "x", 10)
		task.Add(10)
		task.Done()
		advance(time.Second)
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if out.writes != 0 {
			t.Errorf("quiet renderer wrote %q", out.String())
		}
		if s := tr.Snapshot(); s.Done != 10 {
			t.Errorf("tracker counted %d items, want 10", s.Done)
		}
	})
}

func TestBarsShowEveryTaskAndATotal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := mustNew(t)
		var out safeBuffer
		r := mustRenderer(t, tr, &out, WithMode(Bars), WithInterval(100*time.Millisecond))
		if r.Mode() != Bars {
			t.Fatalf("Mode() = %v", r.Mode())
		}
		if err := r.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		done := mustTask(t, tr, "compress", 20)
		failed := mustTask(t, tr, "verify", 0)
		running := mustTask(t, tr, "index", 50)
		for range 4 {
			advance(50 * time.Millisecond)
			done.Add(5)
			failed.Add(1)
			running.Add(5)
		}
		done.Done()
		failed.Fail(errors.New("checksum mismatch"))
		advance(time.Second)
		if err := r.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		got := out.String()
		for _, want := range []string{
			"compress", "20/20 items (100.0%); done in 0.2s",
			"verify", "4 items; failed: checksum mismatch",
			"index", "20/50 items (40.0%);",
			"total", "44/74 items (59.5%);",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %q:\n%s", want, got)
			}
		}
	})
}

func TestAutoPicksLinesWhenTheOutputIsNotATerminal(t *testing.T) {
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	defer wr.Close()
	tr := mustNew(t)
	for _, w := range []interface{ Write([]byte) (int, error) }{&safeBuffer{}, wr} {
		if got := mustRenderer(t, tr, w).Mode(); got != Lines {
			t.Errorf("Mode() for %T = %v, want lines", w, got)
		}
	}
	if got := mustRenderer(t, tr, wr, WithMode(Bars)).Mode(); got != Bars {
		t.Errorf("Mode() with WithMode(Bars) = %v, want bars", got)
	}
}

func TestRendererStartedThenCtxEndedStopsByItself(t *testing.T) {
	for _, mode := range []Mode{Lines, Bars, Quiet} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var out safeBuffer
				r := mustRenderer(t, mustNew(t), &out, WithMode(mode))
				ctx, cancel := context.WithCancel(t.Context())
				if err := r.Start(ctx); err != nil {
					t.Fatal(err)
				}
				cancel()
				synctest.Wait() // the render goroutine has returned: nothing is left running
				if err := r.Start(t.Context()); !errors.Is(err, ErrClosed) {
					t.Errorf("Start after the render loop ended = %v, want ErrClosed", err)
				}
				if err := r.Close(); err != nil {
					t.Errorf("Close = %v", err)
				}
				if mode == Lines && out.String() != "progress 0.0s: 0 items; 0.0/s; tasks: 0 running, 0 done, 0 failed\n" {
					t.Errorf("final line of a tracker without tasks = %q", out.String())
				}
			})
		})
	}
}

func TestDurationsAndRatesReadWell(t *testing.T) {
	cases := []struct {
		got, want string
	}{
		{formatDuration(UnknownETA), "unknown"},
		{formatDuration(0), "0.0s"},
		{formatDuration(1340 * time.Millisecond), "1.3s"},
		{formatDuration(59*time.Second + 940*time.Millisecond), "59.9s"},
		{formatDuration(95*time.Second + 600*time.Millisecond), "1m36s"},
		{formatDuration(3 * time.Hour), "3h0m0s"},
		{formatRate(0), "0.0/s"},
		{formatRate(2.345), "2.3/s"},
		{formatRate(1234.5), "1234/s"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestTotalBarIsDoneWhenEveryTaskIsDone(t *testing.T) {
	ts := overall(Snapshot{Tasks: make([]TaskSnapshot, 2), Done: 4, Total: 4, TasksDone: 2})
	if ts.State != Done || ts.Err != nil || status(ts) != "4/4 items (100.0%); done in 0.0s" {
		t.Errorf("total bar = %+v, status %q", ts, status(ts))
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/lock"
)

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// gilArgs are the arguments of a bench gil run that takes a fraction of
// a second, followed by extra.
func gilArgs(extra ...string) []string {
	small := []string{"bench", "gil", "-n", "1000", "-rounds", "1", "-go-runs", "2", "-io-tasks", "3", "-io-sleep", "1ms"}
	return append(small, extra...)
}

// havePython reports whether python3 is on the PATH; the tests of the
// Python rows need it, the others make sure it is not found.
func havePython(t *testing.T) bool {
	t.Helper()
	_, err := exec.LookPath("python3")
	return err == nil
}

// Results a correct Python run of gilArgs() prints: sum of i*i for i < 1000.
const (
	fakeCPU = `{"seconds": 0.5, "setup": 0.01, "results": ["332833500", "332833500"]}`
	fakeIO  = `{"seconds": 0.02, "setup": 0.01, "results": ["IO complete", "IO complete", "IO complete"]}`
)

func TestBenchGILPrintsEveryContender(t *testing.T) {
	// A stand-in interpreter keeps this test fast; the JSON test runs the
	// real one.
	code, out, errOut := runCLI(t, gilArgs("-python", fakePython(t, fakeCPU, fakeIO))...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	want := []string{
		"CPU-bound", "IO-bound", "Python 3.0 (fake)",
		"Python sequential                                  0.5000     1.00x",
		"Python ThreadPoolExecutor(2)", "Python ProcessPoolExecutor(2)",
		"Go     sequential", "Go     pool.Pool(2): goroutines", "Go     proc.Pool(2): worker processes",
		"ideal split", "future.Go: a goroutine per task",
		"faster than Python sequential", "Every result was checked",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errOut, "round 1 of 1") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
}

func TestBenchGILJSONHasEveryRowMeasured(t *testing.T) {
	// The real interpreter, CPU-bound rows only: each Python run starts
	// an interpreter and a process pool.
	code, out, errOut := runCLI(t, gilArgs("-json", "-io-tasks", "0")...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	var rep gilReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if rep.N != 1000 || rep.Tasks != 2 || rep.Workers != 2 || rep.IOTasks != 0 || rep.Rounds != 1 || rep.GoRuns != 2 {
		t.Errorf("parameters = %+v", rep)
	}
	wantRows := 4 // Go's CPU-bound rows
	if havePython(t) {
		wantRows += 3
		if !strings.HasPrefix(rep.Python, "Python 3") || rep.PythonSkipped != "" || rep.GoOverPython <= 0 {
			t.Errorf("python = %q, skipped = %q, go over python = %v", rep.Python, rep.PythonSkipped, rep.GoOverPython)
		}
	}
	if len(rep.Rows) != wantRows {
		t.Fatalf("%d rows, want %d: %+v", len(rep.Rows), wantRows, rep.Rows)
	}
	for _, row := range rep.Rows {
		runs := 1
		if row.Lang == "go" && row.Kind == "cpu" {
			runs = 2
		}
		if len(row.RoundSeconds) != runs || row.Seconds <= 0 || row.Speedup <= 0 {
			t.Errorf("row %s %s %s: %d runs (want %d), %v s, speed-up %v", row.Lang, row.Kind, row.Name, len(row.RoundSeconds), runs, row.Seconds, row.Speedup)
		}
		if row.Name == "sequential" && row.Speedup != 1 {
			t.Errorf("sequential %s %s has speed-up %v, want 1", row.Lang, row.Kind, row.Speedup)
		}
	}
}

func TestBenchGILWithoutPythonRunsTheGoRows(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-python")
	code, out, errOut := runCLI(t, gilArgs("-python", missing)...)
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	if !strings.Contains(out, "Python rows skipped: "+missing+" not found") {
		t.Errorf("table does not say Python is missing:\n%s", out)
	}
	if !strings.Contains(errOut, "Python rows skipped") {
		t.Errorf("stderr does not say Python is missing: %q", errOut)
	}
	if strings.Contains(out, "Python sequential") || !strings.Contains(out, "Go     sequential") {
		t.Errorf("want Go rows only:\n%s", out)
	}

	code, out, _ = runCLI(t, gilArgs("-python", missing, "-json")...)
	var rep gilReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v", code, err)
	}
	if rep.PythonSkipped == "" || rep.Python != "" || rep.GoOverPython != 0 || len(rep.Rows) != 8 {
		t.Errorf("report without Python: %+v", rep)
	}
}

// fakePython writes an executable that stands in for python3: it answers
// --version and prints cpu or io for every run of gil.py, by --kind.
func fakePython(t *testing.T, cpu, io string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "python3")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = --version ]; then echo 'Python 3.0 (fake)'; exit 0; fi\n" +
		"case \"$*\" in\n*'--kind io'*) echo '" + io + "';;\n*) echo '" + cpu + "';;\nesac\n"
	if err := os.WriteFile(path, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBenchGILFailsOnAWrongResult(t *testing.T) {
	tests := []struct {
		name, output, wantErr string
	}{
		{"wrong sum", `{"seconds": 0.1, "setup": 0, "results": ["42", "42"]}`, "returned 42, want 332833500"},
		{"missing result", `{"seconds": 0.1, "setup": 0, "results": ["332833500"]}`, "1 results, want 2"},
		{"not JSON", `Traceback (most recent call last):`, "reading gil.py's output"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := gilArgs("-python", fakePython(t, tt.output, fakeIO))
			code, out, errOut := runCLI(t, args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout:\n%s", code, out)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
		})
	}
}

func TestCheckPythonComparesExactly(t *testing.T) {
	c := gilConfig{n: 10_000_000, tasks: 2, ioTasks: 2}
	exact := "333333283333335000000" // sum of i*i for i < 10^7, beyond 2^64
	if err := c.checkPython("cpu", []string{exact, exact}); err != nil {
		t.Errorf("exact sums rejected: %v", err)
	}
	low64 := new(big.Int).SetUint64(examples.GILCPUExpected(c.n)).String()
	if err := c.checkPython("cpu", []string{exact, low64}); err == nil {
		t.Error("a sum wrapped to 64 bits was accepted from Python")
	}
	if err := c.checkPython("io", []string{"IO complete", "IO done"}); err == nil {
		t.Error("a wrong IO result was accepted")
	}
	if err := c.checkPython("io", []string{"IO complete"}); err == nil {
		t.Error("a missing IO result was accepted")
	}
}

func TestExactSumOfSquaresAgreesWithTheGoTask(t *testing.T) {
	mask := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))
	for _, n := range []uint64{1, 2, 3, 10, 1000, 10_000_000, 1 << 40, 1<<64 - 1} {
		exact := exactSumOfSquares(n)
		if got := new(big.Int).And(exact, mask).Uint64(); got != examples.GILCPUExpected(n) {
			t.Errorf("n=%d: exact sum mod 2^64 = %d, examples.GILCPUExpected = %d", n, got, examples.GILCPUExpected(n))
		}
	}
	for n := range uint64(200) {
		brute := new(big.Int)
		for i := range n {
			brute.Add(brute, new(big.Int).SetUint64(i*i))
		}
		if exactSumOfSquares(n).Cmp(brute) != 0 {
			t.Fatalf("n=%d: closed form %v, sum %v", n, exactSumOfSquares(n), brute)
		}
		if got := examples.GILCPUTask(n); got != brute.Uint64() {
			t.Fatalf("n=%d: GILCPUTask = %d, want %v", n, got, brute)
		}
	}
}

func TestBenchRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no benchmark", []string{"bench"}},
		{"unknown benchmark", []string{"bench", "nope"}},
		{"n zero", []string{"bench", "gil", "-n", "0"}},
		{"tasks zero", []string{"bench", "gil", "-tasks", "0"}},
		{"workers zero", []string{"bench", "gil", "-workers", "0"}},
		{"negative io tasks", []string{"bench", "gil", "-io-tasks", "-1"}},
		{"negative io sleep", []string{"bench", "gil", "-io-sleep", "-1ms"}},
		{"rounds zero", []string{"bench", "gil", "-rounds", "0"}},
		{"go runs zero", []string{"bench", "gil", "-go-runs", "0"}},
		{"empty python", []string{"bench", "gil", "-python", ""}},
		{"unknown flag", []string{"bench", "gil", "-x"}},
		{"stray argument", []string{"bench", "gil", "extra"}},
		{"gc n zero", []string{"bench", "gc", "-n", "0"}},
		{"gc threads zero", []string{"bench", "gc", "-threads", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
		})
	}
}

func TestBenchHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"bench", "-h"}, {"bench", "gil", "-h"}, {"bench", "gc", "-h"}} {
		code, _, errOut := runCLI(t, args...)
		if code != 0 || !strings.Contains(errOut, "Usage: skein bench") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
}

func TestBenchGCReportsGoroutinesAndThreads(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "gc", "-n", "2000", "-threads", "20", "-json")
	if code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut)
	}
	var rep gcReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	g := rep.Parked
	if g.Count != 2000 || g.StartMicros <= 0 || g.WarmStartMicros <= 0 || g.GCMillisIdle <= 0 || g.GCMillisParked <= 0 {
		t.Errorf("goroutine figures: %+v", g)
	}
	if havePython(t) {
		if rep.Threads == nil || rep.Threads.Count != 20 || rep.Threads.StartMicros <= 0 || rep.Threads.GCMillisParked <= 0 {
			t.Errorf("thread figures: %+v", rep.Threads)
		}
	}

	code, out, _ = runCLI(t, "bench", "gc", "-n", "100", "-python", filepath.Join(t.TempDir(), "none"))
	if code != 0 || !strings.Contains(out, "Python figures skipped") || !strings.Contains(out, "full collection, all parked") {
		t.Errorf("exit %d, table without Python:\n%s", code, out)
	}
}

func TestGILScriptRunsByHand(t *testing.T) {
	if !havePython(t) {
		t.Skip("python3 not on PATH")
	}
	out, err := exec.Command("python3", "gil.py", "--rounds", "1", "--n", "1000", "--io-tasks", "2", "--io-ms", "1").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, w := range []string{"cpu-bound", "io-bound", "sequential", "threads", "processes"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// BenchmarkLocks measures the figures of the guide's "Lock vs RLock"
// section: one uncontended lock, increment, unlock with Go's mutexes and
// skein's, and the re-entry of a lock.Reentrant that is already held (the
// seed's withdraw called from transfer). Python's Lock and RLock on the
// same step: python3 -m timeit -s 'import threading; l = threading.Lock()' 'with l: pass'
// (and threading.RLock()).
// Reproduce: go test -run '^$' -bench Locks -count 5 ./cmd/skein
func BenchmarkLocks(b *testing.B) {
	ctx := context.Background()
	var n int
	b.Run("sync.Mutex", func(b *testing.B) {
		var m sync.Mutex
		for b.Loop() {
			m.Lock()
			n++
			m.Unlock()
		}
	})
	b.Run("sync.RWMutex.RLock", func(b *testing.B) {
		var m sync.RWMutex
		for b.Loop() {
			m.RLock()
			_ = n
			m.RUnlock()
		}
	})
	b.Run("lock.Mutex", func(b *testing.B) {
		var m lock.Mutex
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			n++
			m.Unlock()
		}
	})
	b.Run("lock.Reentrant", func(b *testing.B) {
		var r lock.Reentrant
		for b.Loop() {
			owner, err := r.Lock(ctx)
			if err != nil {
				b.Fatal(err)
			}
			n++
			if err := r.Unlock(owner); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("lock.Reentrant/re-enter", func(b *testing.B) {
		var r lock.Reentrant
		owner, err := r.Lock(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			inner, err := r.Lock(owner)
			if err != nil {
				b.Fatal(err)
			}
			n++
			if err := r.Unlock(inner); err != nil {
				b.Fatal(err)
			}
		}
		if err := r.Unlock(owner); err != nil {
			b.Fatal(err)
		}
	})
}

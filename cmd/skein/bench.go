package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/pool"
	"github.com/skein-go/skein/proc"
)

// The Python halves of the benchmarks, embedded so that the binary is
// the whole benchmark; each also runs by hand (see its doc string).
var (
	//go:embed gil.py
	gilScript []byte
	//go:embed threads.py
	threadsScript []byte
)

func init() {
	commands["bench"] = command{"run a side-by-side benchmark (gil, gc)", runBench}
}

// benchModes are the benchmarks `skein bench NAME` runs.
var benchModes = map[string]struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}{
	"gil": {"the seed's GIL demo: Python sequential/threads/processes against Go sequential/pool/proc", benchGIL},
	"gc":  {"what parked goroutines cost the garbage collector, against parked Python threads", benchGC},
}

// runBench is `skein bench NAME [flags]`.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stderr, "Usage: skein bench NAME [flags]\n\nBenchmarks:")
		names := make([]string, 0, len(benchModes))
		for n := range benchModes {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-5s %s\n", n, benchModes[n].summary)
		}
		fmt.Fprintln(stderr, "\nRun 'skein bench NAME -h' for its flags.")
		if len(args) == 0 {
			return usageError{errors.New("bench: name a benchmark (skein bench -h lists them)")}
		}
		return flag.ErrHelp
	}
	mode, ok := benchModes[args[0]]
	if !ok {
		return usageError{fmt.Errorf("bench: unknown benchmark %q (skein bench -h lists them)", args[0])}
	}
	return mode.run(ctx, args[1:], stdout, stderr)
}

// parseFlags parses args into fs and turns bad input into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return usageError{fmt.Errorf("%s: %w", fs.Name(), err)}
	case fs.NArg() > 0:
		return usageError{fmt.Errorf("%s takes no arguments, got %q", fs.Name(), fs.Args())}
	}
	return nil
}

// --- skein bench gil ---

// gilConfig holds the flags of `skein bench gil`.
type gilConfig struct {
	n       uint64
	tasks   int
	workers int
	ioTasks int
	ioSleep time.Duration
	rounds  int
	goRuns  int
	python  string
	asJSON  bool
}

// gilReport is the result of `skein bench gil`, printed as a table or,
// with -json, as this struct.
type gilReport struct {
	N              uint64   `json:"n"`
	Tasks          int      `json:"tasks"`
	Workers        int      `json:"workers"`
	IOTasks        int      `json:"io_tasks"`
	IOSleepSeconds float64  `json:"io_sleep_seconds"`
	Rounds         int      `json:"rounds"`
	GoRuns         int      `json:"go_cpu_runs_per_round"`
	CPUs           int      `json:"cpus"`
	GOMAXPROCS     int      `json:"gomaxprocs"`
	Go             string   `json:"go"`
	Python         string   `json:"python,omitempty"`         // "Python 3.11.7"
	PythonSkipped  string   `json:"python_skipped,omitempty"` // why there are no Python rows
	Rows           []gilRow `json:"rows"`
	// GoOverPython is Python's sequential CPU-bound time over Go's (0
	// without Python rows).
	GoOverPython float64 `json:"go_over_python_sequential,omitempty"`
}

// gilRow is one contender: a language, an executor and a kind of task.
type gilRow struct {
	Kind    string  `json:"kind"` // "cpu" or "io"
	Lang    string  `json:"lang"` // "python" or "go"
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"` // median over the rounds, pool start excluded
	// Speedup is the same language's sequential median for the same kind
	// of task over this row's median.
	Speedup      float64   `json:"speedup"`
	SetupSeconds float64   `json:"setup_seconds"` // median time to start the pool (0 when there is none)
	RoundSeconds []float64 `json:"round_seconds"` // every run, in order

	runs int // runs per round; 0 means 1
	// run runs the contender once, checks its results and returns the
	// seconds the tasks took and the seconds its pool took to start.
	run    func(ctx context.Context) (secs, setup float64, err error)
	setups []float64
}

// benchGIL is `skein bench gil`.
func benchGIL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseGIL(args, stderr)
	if err != nil {
		return err
	}
	rep := &gilReport{
		N: c.n, Tasks: c.tasks, Workers: c.workers, IOTasks: c.ioTasks,
		IOSleepSeconds: c.ioSleep.Seconds(), Rounds: c.rounds, GoRuns: c.goRuns,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Go: runtime.Version(),
	}
	py, err := findPython(ctx, c.python)
	if err != nil {
		rep.PythonSkipped = err.Error()
		fmt.Fprintf(stderr, "skein bench gil: %v: Python rows skipped\n", err)
	} else {
		rep.Python = py.version
		script, remove, err := writeScript("gil.py", gilScript)
		if err != nil {
			return err
		}
		defer remove()
		rep.Rows = c.pythonRows(py.path, script)
	}
	goRows, stop, err := c.goRows()
	if err != nil {
		return err
	}
	defer stop()
	rep.Rows = append(rep.Rows, goRows...)

	if err := runRounds(ctx, rep.Rows, c.rounds, stderr); err != nil {
		return err
	}
	rep.summarize()
	if c.asJSON {
		return printJSON(stdout, rep)
	}
	rep.table(stdout)
	return nil
}

// parseGIL reads the flags of `skein bench gil`.
func parseGIL(args []string, stderr io.Writer) (*gilConfig, error) {
	fs := flag.NewFlagSet("bench gil", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &gilConfig{}
	fs.Uint64Var(&c.n, "n", 10_000_000, "each CPU-bound task sums i*i for i < n: the seed's cpu_bound_task(10**7)")
	fs.IntVar(&c.tasks, "tasks", 2, "CPU-bound tasks per run")
	fs.IntVar(&c.workers, "workers", 2, "workers of every pool (the seed's max_workers=2)")
	fs.IntVar(&c.ioTasks, "io-tasks", 10, "IO-bound tasks per run (0: no IO-bound rows)")
	fs.DurationVar(&c.ioSleep, "io-sleep", 100*time.Millisecond, "how long each IO-bound task sleeps")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds; every contender runs once per round, the table shows medians")
	fs.IntVar(&c.goRuns, "go-runs", 10, "runs per round of each Go CPU-bound contender (they take milliseconds: more samples steady the medians)")
	fs.StringVar(&c.python, "python", "python3", "the Python interpreter (its rows are skipped if it is not found)")
	fs.BoolVar(&c.asJSON, "json", false, "print the results as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: skein bench gil [flags]

Runs the seed's GIL demonstration side by side in one run: Python
sequential, ThreadPoolExecutor and ProcessPoolExecutor against Go
sequential, a goroutine pool (pool) and a pool of worker processes (proc),
on cpu_bound_task(n) and on sleeping IO-bound tasks. Contenders take turns
round after round; the table shows medians, speed-ups over the same
language's sequential run, and pool start times (not included in the
seconds). Every result is checked; a wrong one fails the command.`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, usageError{fmt.Errorf("bench gil: %w", err)}
	}
	return c, nil
}

// validate rejects flag values that make no benchmark.
func (c *gilConfig) validate() error {
	switch {
	case c.n < 1:
		return errors.New("-n must be at least 1")
	case c.tasks < 1:
		return errors.New("-tasks must be at least 1")
	case c.workers < 1:
		return errors.New("-workers must be at least 1")
	case c.ioTasks < 0:
		return errors.New("-io-tasks must not be negative")
	case c.ioSleep < 0:
		return errors.New("-io-sleep must not be negative")
	case c.rounds < 1:
		return errors.New("-rounds must be at least 1")
	case c.goRuns < 1:
		return errors.New("-go-runs must be at least 1")
	case c.python == "":
		return errors.New("-python must name an interpreter")
	}
	return nil
}

// runRounds runs every row once per round (rows with more runs several
// times), the order rotated each time so that no contender always runs
// first or right after a slow one: a shared machine's capacity changes
// within seconds, and taking turns spreads that over every row.
func runRounds(ctx context.Context, rows []gilRow, rounds int, progress io.Writer) error {
	for r := range rounds {
		fmt.Fprintf(progress, "skein bench: round %d of %d\n", r+1, rounds)
		for pass := 0; ; pass++ {
			ran := false
			for k := range rows {
				row := &rows[(k+r+pass)%len(rows)]
				if pass >= max(row.runs, 1) {
					continue
				}
				ran = true
				secs, setup, err := row.run(ctx)
				if err != nil {
					return fmt.Errorf("bench: %s %s %s: %w", row.Lang, row.Kind, row.Name, err)
				}
				row.RoundSeconds = append(row.RoundSeconds, secs)
				row.setups = append(row.setups, setup)
			}
			if !ran {
				break
			}
		}
	}
	return nil
}

// summarize fills in the medians and the speed-ups.
func (rep *gilReport) summarize() {
	seq := map[string]float64{}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		row.Seconds = median(row.RoundSeconds)
		row.SetupSeconds = median(row.setups)
		if row.Name == "sequential" {
			seq[row.Lang+row.Kind] = row.Seconds
		}
	}
	for i := range rep.Rows {
		row := &rep.Rows[i]
		if s := seq[row.Lang+row.Kind]; s > 0 && row.Seconds > 0 {
			row.Speedup = s / row.Seconds
		}
	}
	if g, p := seq["gocpu"], seq["pythoncpu"]; g > 0 && p > 0 {
		rep.GoOverPython = p / g
	}
}

// table prints the report for people: one block per kind of task.
func (rep *gilReport) table(w io.Writer) {
	fmt.Fprintln(w, "skein bench gil: the seed's GIL demonstration, Python and Go side by side")
	fmt.Fprintf(w, "CPU-bound: %d x cpu_bound_task(%d)", rep.Tasks, rep.N)
	if rep.IOTasks > 0 {
		fmt.Fprintf(w, "; IO-bound: %d x sleep(%v)", rep.IOTasks, time.Duration(rep.IOSleepSeconds*float64(time.Second)))
	}
	fmt.Fprintf(w, "; %d workers per pool\n", rep.Workers)
	python := rep.Python
	if python == "" {
		python = "no Python"
	}
	fmt.Fprintf(w, "%d interleaved rounds (Go CPU-bound rows %d runs each per round), medians; %s/%s, %d CPUs, %s, %s\n",
		rep.Rounds, rep.GoRuns, runtime.GOOS, runtime.GOARCH, rep.CPUs, rep.Go, python)
	if rep.PythonSkipped != "" {
		fmt.Fprintf(w, "Python rows skipped: %s\n", rep.PythonSkipped)
	}
	for _, kind := range []string{"cpu", "io"} {
		title := map[string]string{"cpu": "CPU-bound", "io": "IO-bound"}[kind]
		header := false
		for _, row := range rep.Rows {
			if row.Kind != kind {
				continue
			}
			if !header {
				fmt.Fprintf(w, "\n%-48s %10s %9s %11s\n", title, "seconds", "speed-up", "pool start")
				header = true
			}
			setup := ""
			if row.Name != "sequential" && row.SetupSeconds > 0 {
				setup = fmt.Sprintf("%.4f", row.SetupSeconds)
			}
			label := map[string]string{"go": "Go", "python": "Python"}[row.Lang]
			fmt.Fprintf(w, "  %-6s %-39s %10.4f %8.2fx %11s\n", label, row.Name, row.Seconds, row.Speedup, setup)
		}
	}
	fmt.Fprintln(w)
	if rep.GoOverPython > 0 {
		fmt.Fprintf(w, "Go sequential ran the CPU-bound tasks %.0fx faster than Python sequential.\n", rep.GoOverPython)
	}
	fmt.Fprintln(w, "Every result was checked: CPU sums against the closed form (Python's exactly, Go's modulo 2^64), IO results by value.")
}

// pythonRows are the seed's three executors, one Python process per run.
func (c *gilConfig) pythonRows(python, script string) []gilRow {
	executors := []struct{ contender, name string }{
		{"sequential", "sequential"},
		{"threads", fmt.Sprintf("ThreadPoolExecutor(%d)", c.workers)},
		{"processes", fmt.Sprintf("ProcessPoolExecutor(%d)", c.workers)},
	}
	var rows []gilRow
	for _, kind := range c.kinds() {
		for _, e := range executors {
			rows = append(rows, gilRow{Kind: kind, Lang: "python", Name: e.name, run: c.pythonRun(python, script, kind, e.contender)})
		}
	}
	return rows
}

// kinds are the kinds of task the run measures.
func (c *gilConfig) kinds() []string {
	if c.ioTasks == 0 {
		return []string{"cpu"}
	}
	return []string{"cpu", "io"}
}

// pythonResult is what gil.py prints for one run.
type pythonResult struct {
	Seconds float64  `json:"seconds"`
	Setup   float64  `json:"setup"`
	Results []string `json:"results"`
}

// pythonRun returns the run function of one Python row: a run of gil.py
// for one contender, whose results are checked.
func (c *gilConfig) pythonRun(python, script, kind, contender string) func(context.Context) (float64, float64, error) {
	return func(ctx context.Context) (float64, float64, error) {
		cmd := exec.CommandContext(ctx, python, script,
			"--kind", kind, "--contender", contender,
			"--n", strconv.FormatUint(c.n, 10), "--tasks", strconv.Itoa(c.tasks), "--workers", strconv.Itoa(c.workers),
			"--io-tasks", strconv.Itoa(c.ioTasks), "--io-ms", strconv.FormatFloat(float64(c.ioSleep)/float64(time.Millisecond), 'f', -1, 64))
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		out, err := cmd.Output()
		if err != nil {
			return 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(errOut.String()))
		}
		var res pythonResult
		if err := json.Unmarshal(out, &res); err != nil {
			return 0, 0, fmt.Errorf("reading gil.py's output %q: %w", out, err)
		}
		if err := c.checkPython(kind, res.Results); err != nil {
			return 0, 0, err
		}
		return res.Seconds, res.Setup, nil
	}
}

// checkPython checks a Python run's results: every CPU sum exactly
// equals the closed form (Python's integers do not wrap), every IO task
// returned the seed's "IO complete".
func (c *gilConfig) checkPython(kind string, results []string) error {
	want, count := "IO complete", c.ioTasks
	if kind == "cpu" {
		want, count = exactSumOfSquares(c.n).String(), c.tasks
	}
	if len(results) != count {
		return fmt.Errorf("%d results, want %d", len(results), count)
	}
	for i, r := range results {
		if r != want {
			return fmt.Errorf("task %d returned %s, want %s", i, r, want)
		}
	}
	return nil
}

// exactSumOfSquares is the sum of i*i for i < n without wrapping:
// (n-1)·n·(2n-1)/6. Its low 64 bits are examples.GILCPUExpected(n), which
// the tests check.
func exactSumOfSquares(n uint64) *big.Int {
	b := new(big.Int).SetUint64(n)
	s := new(big.Int).Sub(b, big.NewInt(1))
	s.Mul(s, b)
	s.Mul(s, new(big.Int).Sub(new(big.Int).Lsh(b, 1), big.NewInt(1)))
	return s.Div(s, big.NewInt(6))
}

// benchSleep is the IO-bound task for worker processes, registered at
// package level so that the skein binary's workers know it.
var benchSleep = proc.Register("skein.bench.sleep", func(ctx context.Context, d time.Duration) (string, error) {
	return ioBoundTask(ctx, d)
})

// ioBoundTask is the seed's io_bound_task: it waits d (the stand-in for a
// network call or a disk read) and returns "IO complete".
func ioBoundTask(ctx context.Context, d time.Duration) (string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return "IO complete", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// goRows are the Go contenders. The pools start here, once, and are
// reused by every round (their start time is the rows' setup); stop
// closes them.
func (c *gilConfig) goRows() (rows []gilRow, stop func(), err error) {
	start := time.Now()
	gp, err := pool.New(c.workers, pool.WithMinWorkers(c.workers))
	if err != nil {
		return nil, nil, err
	}
	gpSetup := time.Since(start).Seconds()
	start = time.Now()
	pp, err := proc.New(c.workers)
	if err != nil {
		gp.Close()
		return nil, nil, err
	}
	ppSetup := time.Since(start).Seconds()
	stop = func() {
		pp.Close()
		gp.Close()
	}

	cpus := min(runtime.GOMAXPROCS(0), c.tasks)
	rows = []gilRow{
		{Kind: "cpu", Lang: "go", Name: "sequential", runs: c.goRuns, run: c.timed(0, c.cpuSequential)},
		{Kind: "cpu", Lang: "go", Name: fmt.Sprintf("pool.Pool(%d): goroutines", c.workers), runs: c.goRuns, run: c.timed(gpSetup, func(ctx context.Context) error {
			return c.checkSums(future.All(ctx, submitN(c.tasks, func() *future.Future[uint64] {
				return pool.Submit(ctx, gp, func(context.Context) (uint64, error) { return examples.GILCPUTask(c.n), nil })
			})))
		})},
		{Kind: "cpu", Lang: "go", Name: fmt.Sprintf("proc.Pool(%d): worker processes", c.workers), runs: c.goRuns, run: c.timed(ppSetup, func(ctx context.Context) error {
			return c.checkSums(future.All(ctx, submitN(c.tasks, func() *future.Future[uint64] {
				return proc.Submit(ctx, pp, examples.GILCPU, c.n)
			})))
		})},
		{Kind: "cpu", Lang: "go", Name: fmt.Sprintf("ideal split: %d goroutines, no executor", cpus), runs: c.goRuns, run: c.timed(0, func(context.Context) error {
			return c.checkSums(c.cpuIdeal(cpus), nil)
		})},
	}
	if c.ioTasks == 0 {
		return rows, stop, nil
	}
	return append(rows,
		gilRow{Kind: "io", Lang: "go", Name: "sequential", run: c.timed(0, c.ioSequential)},
		gilRow{Kind: "io", Lang: "go", Name: fmt.Sprintf("pool.Pool(%d): goroutines", c.workers), run: c.timed(gpSetup, func(ctx context.Context) error {
			return c.checkIO(future.All(ctx, submitN(c.ioTasks, func() *future.Future[string] {
				return pool.Submit(ctx, gp, func(ctx context.Context) (string, error) { return ioBoundTask(ctx, c.ioSleep) })
			})))
		})},
		gilRow{Kind: "io", Lang: "go", Name: fmt.Sprintf("proc.Pool(%d): worker processes", c.workers), run: c.timed(ppSetup, func(ctx context.Context) error {
			return c.checkIO(future.All(ctx, submitN(c.ioTasks, func() *future.Future[string] {
				return proc.Submit(ctx, pp, benchSleep, c.ioSleep)
			})))
		})},
		gilRow{Kind: "io", Lang: "go", Name: "future.Go: a goroutine per task", run: c.timed(0, func(ctx context.Context) error {
			return c.checkIO(future.All(ctx, submitN(c.ioTasks, func() *future.Future[string] {
				return future.Go(ctx, func(ctx context.Context) (string, error) { return ioBoundTask(ctx, c.ioSleep) })
			})))
		})},
	), stop, nil
}

// timed makes a row's run function out of a check that runs the tasks.
func (c *gilConfig) timed(setup float64, check func(context.Context) error) func(context.Context) (float64, float64, error) {
	return func(ctx context.Context) (float64, float64, error) {
		start := time.Now()
		err := check(ctx)
		return time.Since(start).Seconds(), setup, err
	}
}

// submitN submits n tasks with submit and returns their futures.
func submitN[T any](n int, submit func() *future.Future[T]) []*future.Future[T] {
	fs := make([]*future.Future[T], n)
	for i := range fs {
		fs[i] = submit()
	}
	return fs
}

// cpuSequential runs the CPU-bound tasks one after the other.
func (c *gilConfig) cpuSequential(ctx context.Context) error {
	sums := make([]uint64, c.tasks)
	for i := range sums {
		if err := ctx.Err(); err != nil {
			return err
		}
		sums[i] = examples.GILCPUTask(c.n)
	}
	return c.checkSums(sums, nil)
}

// cpuIdeal is the yardstick for the pools: one goroutine per CPU (at most
// one per task) started directly, goroutine g running tasks g, g+cpus, ...
// (equal shares when the tasks divide evenly). Its speed-up is the
// parallelism the machine actually gave during the run.
func (c *gilConfig) cpuIdeal(cpus int) []uint64 {
	sums := make([]uint64, c.tasks)
	var wg sync.WaitGroup
	for g := range cpus {
		wg.Go(func() {
			for i := g; i < c.tasks; i += cpus {
				sums[i] = examples.GILCPUTask(c.n)
			}
		})
	}
	wg.Wait()
	return sums
}

// ioSequential runs the IO-bound tasks one after the other.
func (c *gilConfig) ioSequential(ctx context.Context) error {
	out := make([]string, c.ioTasks)
	for i := range out {
		var err error
		if out[i], err = ioBoundTask(ctx, c.ioSleep); err != nil {
			return err
		}
	}
	return c.checkIO(out, nil)
}

// checkSums checks one run's CPU-bound results against the closed form.
func (c *gilConfig) checkSums(sums []uint64, err error) error {
	if err != nil {
		return err
	}
	if len(sums) != c.tasks {
		return fmt.Errorf("%d results, want %d", len(sums), c.tasks)
	}
	want := examples.GILCPUExpected(c.n)
	for i, s := range sums {
		if s != want {
			return fmt.Errorf("task %d: sum = %d, want %d", i, s, want)
		}
	}
	return nil
}

// checkIO checks one run's IO-bound results.
func (c *gilConfig) checkIO(out []string, err error) error {
	if err != nil {
		return err
	}
	if len(out) != c.ioTasks {
		return fmt.Errorf("%d results, want %d", len(out), c.ioTasks)
	}
	for i, s := range out {
		if s != "IO complete" {
			return fmt.Errorf("IO task %d returned %q", i, s)
		}
	}
	return nil
}

// python is an interpreter found on the PATH.
type python struct {
	path    string
	version string // "Python 3.11.7"
}

// findPython looks name up and asks it for its version. The error says
// why there is no usable interpreter.
func findPython(ctx context.Context, name string) (python, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return python{}, fmt.Errorf("%s not found: %w", name, err)
	}
	out, err := exec.CommandContext(ctx, path, "--version").CombinedOutput()
	if err != nil {
		return python{}, fmt.Errorf("%s --version failed: %w", path, err)
	}
	return python{path: path, version: strings.TrimSpace(string(out))}, nil
}

// writeScript writes an embedded Python script to a new temporary
// directory, for the interpreter to run; remove deletes both.
func writeScript(name string, body []byte) (path string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "skein-bench-")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// printJSON writes v to w as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// median returns the median of xs (the mean of the middle two for an
// even count), or 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// --- skein bench gc ---

// gcReport is the result of `skein bench gc`.
type gcReport struct {
	Goroutines int     `json:"goroutines"`
	CPUs       int     `json:"cpus"`
	Go         string  `json:"go"`
	Parked     gcUnits `json:"go_goroutines"`
	// Python is the interpreter's version; PythonSkipped says why there
	// are no Python figures.
	Python        string   `json:"python,omitempty"`
	PythonSkipped string   `json:"python_skipped,omitempty"`
	Threads       *gcUnits `json:"python_threads,omitempty"`
}

// gcUnits describes what one parked goroutine (or Python thread) costs.
type gcUnits struct {
	Count       int     `json:"count"`
	StartMicros float64 `json:"start_us_each"` // time to start one and see it run
	// WarmStartMicros is StartMicros when the memory of earlier ones is
	// reused (Go only).
	WarmStartMicros float64 `json:"warm_start_us_each,omitempty"`
	RSSBytes        float64 `json:"rss_bytes_each"` // resident memory added, per unit (Linux)
	StackBytes      float64 `json:"stack_bytes_each,omitempty"`
	HeapBytes       float64 `json:"heap_bytes_each,omitempty"`
	VirtualBytes    float64 `json:"virtual_bytes_each,omitempty"`
	// GCMillisIdle and GCMillisParked are the wall time of one full,
	// forced collection (runtime.GC, gc.collect) without and with the
	// units parked; medians of gcSamples.
	GCMillisIdle   float64 `json:"gc_ms_idle"`
	GCMillisParked float64 `json:"gc_ms_parked"`
	// PauseMicrosIdle and PauseMicrosParked are the Go collector's
	// stop-the-world time in those collections (medians); the rest of a
	// Go collection runs beside the program.
	PauseMicrosIdle   float64 `json:"gc_pause_us_idle,omitempty"`
	PauseMicrosParked float64 `json:"gc_pause_us_parked,omitempty"`
}

// gcSamples is how many collections each GC figure is the median of.
const gcSamples = 5

// benchGC is `skein bench gc`.
func benchGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench gc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100_000, "parked goroutines")
	threads := fs.Int("threads", 2_000, "parked Python threads (each is an OS thread, so fewer)")
	pythonName := fs.String("python", "python3", "the Python interpreter (its figures are skipped if it is not found)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: skein bench gc [flags]

Parks n goroutines on a channel and measures what each costs: start time,
memory, and how much longer a full garbage collection takes while they
are parked (Go's collector scans every goroutine's stack). Then does the
same with parked Python threads, when Python is found. Per-unit figures,
so the two counts need not match.`)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *threads < 1 {
		return usageError{errors.New("bench gc: -n and -threads must be at least 1")}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	rep := &gcReport{Goroutines: *n, CPUs: runtime.NumCPU(), Go: runtime.Version(), Parked: parkGoroutines(*n)}

	py, err := findPython(ctx, *pythonName)
	if err != nil {
		rep.PythonSkipped = err.Error()
		fmt.Fprintf(stderr, "skein bench gc: %v: Python figures skipped\n", err)
	} else {
		rep.Python = py.version
		if rep.Threads, err = parkThreads(ctx, py.path, *threads); err != nil {
			return fmt.Errorf("bench gc: python threads: %w", err)
		}
	}
	if *asJSON {
		return printJSON(stdout, rep)
	}
	rep.table(stdout)
	return nil
}

// parkGoroutines starts n goroutines that each wait on one channel, as a
// server's idle connections or a pipeline's blocked stages do, measures
// what they cost while parked, then releases them. It does it twice: the
// first time the runtime takes fresh memory from the system (page faults
// included); the second time it reuses the exited goroutines' stacks and
// descriptors, as a long-running program does.
func parkGoroutines(n int) gcUnits {
	runtime.GC()
	u := gcUnits{Count: n}
	u.GCMillisIdle, u.PauseMicrosIdle = forcedGC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rss0 := rssBytes()

	cold := park(n, func() {
		runtime.GC()
		runtime.ReadMemStats(&after)
		rss1 := rssBytes()
		if rss0 > 0 && rss1 > 0 {
			u.RSSBytes = (float64(rss1) - float64(rss0)) / float64(n)
		}
		u.GCMillisParked, u.PauseMicrosParked = forcedGC()
	})
	warm := park(n, func() {})
	u.StartMicros = float64(cold.Nanoseconds()) / 1e3 / float64(n)
	u.WarmStartMicros = float64(warm.Nanoseconds()) / 1e3 / float64(n)
	u.StackBytes = (float64(after.StackInuse) - float64(before.StackInuse)) / float64(n)
	u.HeapBytes = (float64(after.HeapInuse) - float64(before.HeapInuse)) / float64(n)
	return u
}

// park starts n goroutines blocked on one channel, calls measure once all
// of them run, then releases them and waits until each has returned. It
// returns how long starting them took.
func park(n int, measure func()) time.Duration {
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	start := time.Now()
	for range n {
		done.Go(func() {
			started.Done()
			<-release
		})
	}
	started.Wait()
	took := time.Since(start)
	measure()
	close(release)
	done.Wait()
	return took
}

// forcedGC runs gcSamples full collections and returns the median wall
// time of one, in ms, and the median stop-the-world pause, in µs.
func forcedGC() (wallMillis, pauseMicros float64) {
	var walls, pauses []float64
	var ms runtime.MemStats
	for range gcSamples {
		start := time.Now()
		runtime.GC()
		walls = append(walls, float64(time.Since(start).Nanoseconds())/1e6)
		runtime.ReadMemStats(&ms)
		pauses = append(pauses, float64(ms.PauseNs[(ms.NumGC+255)%256])/1e3)
	}
	return median(walls), median(pauses)
}

// rssBytes is this process's resident memory, or 0 where
// /proc/self/status does not exist.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// threadsResult is what threads.py prints.
type threadsResult struct {
	Threads      int     `json:"threads"`
	StartMicros  float64 `json:"start_us_per_thread"`
	RSSBytes     float64 `json:"rss_bytes_per_thread"`
	VirtualBytes float64 `json:"virtual_bytes_per_thread"`
	GCIdle       float64 `json:"gc_collect_ms_idle"`
	GCParked     float64 `json:"gc_collect_ms_parked"`
}

// parkThreads runs threads.py with n threads.
func parkThreads(ctx context.Context, python string, n int) (*gcUnits, error) {
	script, remove, err := writeScript("threads.py", threadsScript)
	if err != nil {
		return nil, err
	}
	defer remove()
	cmd := exec.CommandContext(ctx, python, script, "--threads", strconv.Itoa(n))
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(errOut.String()))
	}
	var r threadsResult
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("reading threads.py's output %q: %w", out, err)
	}
	if r.Threads != n {
		return nil, fmt.Errorf("threads.py parked %d threads, want %d", r.Threads, n)
	}
	return &gcUnits{
		Count: n, StartMicros: r.StartMicros, RSSBytes: r.RSSBytes, VirtualBytes: r.VirtualBytes,
		GCMillisIdle: r.GCIdle, GCMillisParked: r.GCParked,
	}, nil
}

// table prints the report for people, Go and Python side by side.
func (rep *gcReport) table(w io.Writer) {
	g, t := rep.Parked, rep.Threads
	fmt.Fprintln(w, "skein bench gc: parked goroutines against parked Python threads, per unit")
	python := rep.Python
	if python == "" {
		python = "no Python"
	}
	fmt.Fprintf(w, "%s/%s, %d CPUs, %s, %s\n", runtime.GOOS, runtime.GOARCH, rep.CPUs, rep.Go, python)
	if rep.PythonSkipped != "" {
		fmt.Fprintf(w, "Python figures skipped: %s\n", rep.PythonSkipped)
	}
	col := func(f func(u *gcUnits) string) string {
		if t == nil {
			return "-"
		}
		return f(t)
	}
	fmt.Fprintf(w, "\n%-40s %18s %18s\n", "", "Go goroutines", "Python threads")
	fmt.Fprintf(w, "%-40s %18d %18s\n", "parked", g.Count, col(func(u *gcUnits) string { return strconv.Itoa(u.Count) }))
	fmt.Fprintf(w, "%-40s %18.2f %18s\n", "start one, µs", g.StartMicros, col(func(u *gcUnits) string { return fmt.Sprintf("%.2f", u.StartMicros) }))
	fmt.Fprintf(w, "%-40s %18.2f %18s\n", "  Go: again, memory reused, µs", g.WarmStartMicros, "")
	fmt.Fprintf(w, "%-40s %18.1f %18s\n", "resident memory each, KiB", g.RSSBytes/1024, col(func(u *gcUnits) string { return fmt.Sprintf("%.1f", u.RSSBytes/1024) }))
	fmt.Fprintf(w, "%-40s %18.1f %18s\n", "  Go: stack each, KiB", g.StackBytes/1024, "")
	fmt.Fprintf(w, "%-40s %18.1f %18s\n", "  Go: heap each, KiB", g.HeapBytes/1024, "")
	fmt.Fprintf(w, "%-40s %18s %18s\n", "  Python: address space each, KiB", "", col(func(u *gcUnits) string { return fmt.Sprintf("%.0f", u.VirtualBytes/1024) }))
	fmt.Fprintf(w, "%-40s %18.2f %18s\n", "full collection, none parked, ms", g.GCMillisIdle, col(func(u *gcUnits) string { return fmt.Sprintf("%.2f", u.GCMillisIdle) }))
	fmt.Fprintf(w, "%-40s %18.2f %18s\n", "full collection, all parked, ms", g.GCMillisParked, col(func(u *gcUnits) string { return fmt.Sprintf("%.2f", u.GCMillisParked) }))
	fmt.Fprintf(w, "%-40s %18.1f %18s\n", "  Go: stop-the-world, none parked, µs", g.PauseMicrosIdle, "")
	fmt.Fprintf(w, "%-40s %18.1f %18s\n", "  Go: stop-the-world, all parked, µs", g.PauseMicrosParked, "")
	fmt.Fprintf(w, "\nFull collections are forced (runtime.GC, gc.collect), medians of %d; Go's run mostly beside the program, only the stop-the-world part pauses it.\n", gcSamples)
}

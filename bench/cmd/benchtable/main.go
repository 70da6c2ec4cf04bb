// Command benchtable turns `go test -bench` output into one markdown table
// per benchmark: the median of every metric over the rounds of -count,
// and how skein compares with each contender.
//
// Sub-benchmarks are the contenders of a row: BenchmarkPoolFutures/pond-2
// is contender "pond" of row BenchmarkPoolFutures. Custom metrics
// (b.ReportMetric units other than rates and per-op figures) get a column
// each, among them the ratios that paired benchmarks measure op by op
// (units such as "skein/x" or "x/hand"). A row without such a paired
// ratio gets, for every contender whose name starts with "skein", a
// column "skein ÷ x": skein's median time divided by x's.
//
// Usage:
//
//	go test -run '^$' -bench '^BenchmarkPool' -count 6 . | tee pool.txt
//	go run ./cmd/benchtable < pool.txt
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	rows, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(1)
	}
	for _, r := range rows {
		r.write(os.Stdout)
	}
}

// row is one benchmark function: its contenders in order of appearance.
type row struct {
	name       string
	contenders []*contender
}

// contender is one sub-benchmark and every value seen per metric unit.
type contender struct {
	name    string
	units   []string // in order of appearance
	samples map[string][]float64
}

// resultLine matches "BenchmarkX/sub-2   1000   123 ns/op   4 allocs/op".
var resultLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads benchmark output and groups results by row and contender,
// ignoring every other line.
func parse(r io.Reader) ([]*row, error) {
	var rows []*row
	byName := map[string]*row{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := resultLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		rowName, subName := m[1], ""
		if i := strings.LastIndex(m[1], "/"); i >= 0 {
			rowName, subName = m[1][:i], m[1][i+1:]
		}
		rw := byName[rowName]
		if rw == nil {
			rw = &row{name: rowName}
			byName[rowName] = rw
			rows = append(rows, rw)
		}
		c := rw.contender(subName)
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", m[1], fields[i], err)
			}
			c.add(fields[i+1], v)
		}
	}
	return rows, sc.Err()
}

func (r *row) contender(name string) *contender {
	for _, c := range r.contenders {
		if c.name == name {
			return c
		}
	}
	c := &contender{name: name, samples: map[string][]float64{}}
	r.contenders = append(r.contenders, c)
	return c
}

func (c *contender) add(unit string, v float64) {
	if _, ok := c.samples[unit]; !ok {
		c.units = append(c.units, unit)
	}
	c.samples[unit] = append(c.samples[unit], v)
}

// median returns the median of unit's samples, or false without any.
func (c *contender) median(unit string) (float64, bool) {
	xs := slices.Clone(c.samples[unit])
	if len(xs) == 0 {
		return 0, false
	}
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2], true
	}
	return (xs[n/2-1] + xs[n/2]) / 2, true
}

// spread is (max-min)/median of unit's samples, a measure of the noise.
func (c *contender) spread(unit string) float64 {
	xs := c.samples[unit]
	med, ok := c.median(unit)
	if !ok || med == 0 {
		return 0
	}
	return (slices.Max(xs) - slices.Min(xs)) / med
}

// timeUnit is the row's time metric: per task, per item, else per op.
func (r *row) timeUnit() string {
	for _, u := range []string{"ns/task", "ns/item"} {
		for _, c := range r.contenders {
			if _, ok := c.samples[u]; ok {
				return u
			}
		}
	}
	return "ns/op"
}

// columns lists the units shown besides time: allocations per task or
// item, and custom metrics; the derived rates and per-op figures are left
// out because they repeat the time column.
func (r *row) columns(timeUnit string) []string {
	var cols []string
	for _, c := range r.contenders {
		for _, u := range c.units {
			skip := u == timeUnit || strings.HasSuffix(u, "/s") || strings.HasSuffix(u, "/op")
			if !skip && !slices.Contains(cols, u) {
				cols = append(cols, u)
			}
		}
	}
	return cols
}

// write prints the row as a markdown table.
func (r *row) write(w io.Writer) {
	tu := r.timeUnit()
	cols := r.columns(tu)
	var refs []*contender
	if !slices.ContainsFunc(cols, isPairedRatio) {
		for _, c := range r.contenders {
			if strings.HasPrefix(c.name, "skein") {
				refs = append(refs, c)
			}
		}
	}
	head := []string{"contender", "runs", tu, "spread"}
	head = append(head, cols...)
	for _, ref := range refs {
		head = append(head, ref.name+" ÷ x")
	}
	fmt.Fprintf(w, "\n%s (medians)\n\n", r.name)
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat(" --- |", len(head)))
	for _, c := range r.contenders {
		t, _ := c.median(tu)
		cells := []string{c.name, strconv.Itoa(len(c.samples[tu])), num(t), fmt.Sprintf("±%.0f%%", 50*c.spread(tu))}
		for _, u := range cols {
			v, ok := c.median(u)
			cells = append(cells, cell(v, ok))
		}
		for _, ref := range refs {
			rt, _ := ref.median(tu)
			cells = append(cells, fmt.Sprintf("%.2f", rt/t))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}

// isPairedRatio reports whether unit is a ratio a benchmark measured
// against a reference run next to it, like "skein/x" or "x/hand".
func isPairedRatio(unit string) bool {
	return strings.HasSuffix(unit, "/x") || strings.HasPrefix(unit, "x/")
}

func cell(v float64, ok bool) string {
	if !ok {
		return "–"
	}
	return num(v)
}

// num formats v with three significant digits, or as an integer when big.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1000 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v < 0.01:
		return strconv.FormatFloat(v, 'f', 4, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// Package examples holds the demos that `skein demo` runs: one file per
// demo, each a small program written against skein's public API the way a
// user would write it. Every demo checks its own result and returns an
// error when the check fails, so `skein demo` doubles as an end-to-end test.
//
// Each demo also has a runnable program under examples/NAME
// (`go run ./examples/bank`), which calls the same code.
package examples

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
)

// Demo is one runnable demonstration.
type Demo struct {
	// Name is the short name used on the command line (`skein demo NAME`).
	Name string
	// Summary is a one-line description shown by `skein demo -list`.
	Summary string
	// Run performs the demo, writing its narrative to w, and returns a
	// one-line summary of what it verified. It returns an error when a
	// check fails or ctx ends first.
	Run func(ctx context.Context, w io.Writer) (string, error)
}

var (
	mu    sync.Mutex
	demos = map[string]Demo{}
)

// register adds d to the registry; it is called from the init functions of
// the demo files, so a duplicate or empty name is a programming error.
func register(d Demo) {
	mu.Lock()
	defer mu.Unlock()
	if d.Name == "" || d.Run == nil {
		panic("examples: demo without a name or a Run function")
	}
	if _, dup := demos[d.Name]; dup {
		panic("examples: demo " + d.Name + " registered twice")
	}
	demos[d.Name] = d
}

// All returns every demo, sorted by name.
func All() []Demo {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Demo, 0, len(demos))
	for _, d := range demos {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Demo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Lookup returns the demo called name.
func Lookup(name string) (Demo, error) {
	mu.Lock()
	defer mu.Unlock()
	d, ok := demos[name]
	if !ok {
		return Demo{}, fmt.Errorf("examples: no demo named %q (skein demo -list shows them)", name)
	}
	return d, nil
}

// Main runs the demo called name on standard output and returns the process
// exit code; the programs under examples/NAME are one call to it.
func Main(name string, w io.Writer) int {
	d, err := Lookup(name)
	if err != nil {
		fmt.Fprintln(w, err)
		return 2
	}
	summary, err := d.Run(context.Background(), w)
	if err != nil {
		fmt.Fprintf(w, "%s: FAILED: %v\n", name, err)
		return 1
	}
	fmt.Fprintf(w, "%s: ok: %s\n", name, summary)
	return 0
}

// Command skein runs skein's demos and benchmarks.
//
// Usage:
//
//	skein demo [-list] [-v] [NAME ...]   run demos and print a verified summary
//	skein bench NAME [flags]              run a side-by-side benchmark
//	skein version                         print the version
//	skein serve | worker                  (cluster build: cluster/cmd/skein)
//
// Every subcommand accepts -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

// version is the release this source tree describes; builds from a module
// download report the module version instead.
const version = "v0.1.0-dev"

// command is one subcommand of the CLI.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands maps subcommand names to their implementation; files of this
// package add to it from init functions (bench commands, for instance).
var commands = map[string]command{
	"demo":    {"run demos and print a verified summary", runDemo},
	"version": {"print the version", runVersion},
}

// usageError marks an error caused by bad command-line input (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

func main() {
	proc.Main()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "skein: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintln(stderr, "skein:", err)
		return 2
	default:
		fmt.Fprintln(stderr, "skein:", err)
		return 1
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "skein: Python's threading, multiprocessing and concurrent.futures toolbox, for Go.")
	fmt.Fprintln(w, "\nUsage: skein COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'skein COMMAND -h' for a command's flags.")
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "skein %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.Bool("list", false, "list the demos and exit")
	verbose := fs.Bool("v", false, "print each demo's full output (on by default when one demo is named)")
	quiet := fs.Bool("quiet", false, "print only the one-line summaries, even for a single demo (no progress output)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: skein demo [-list] [-v | -quiet] [NAME ...]\n\nRuns the named demos (all of them by default); each checks its own result.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		for _, d := range examples.All() {
			fmt.Fprintf(stdout, "%-16s %s\n", d.Name, d.Summary)
		}
		return nil
	}
	var todo []examples.Demo
	if fs.NArg() == 0 {
		todo = examples.All()
	} else {
		for _, name := range fs.Args() {
			d, err := examples.Lookup(name)
			if err != nil {
				return usageError{err}
			}
			todo = append(todo, d)
		}
		*verbose = *verbose || len(todo) == 1
	}
	if *quiet {
		explicitV := false
		fs.Visit(func(f *flag.Flag) { explicitV = explicitV || f.Name == "v" })
		if explicitV {
			return usageError{errors.New("demo: -v and -quiet exclude each other")}
		}
		*verbose = false
	}
	var failed []string
	for _, d := range todo {
		out := io.Discard
		if *verbose {
			out = stdout
			fmt.Fprintf(stdout, "== %s: %s\n", d.Name, d.Summary)
		}
		start := time.Now()
		summary, err := d.Run(ctx, out)
		took := time.Since(start).Round(time.Millisecond)
		if err != nil {
			failed = append(failed, d.Name)
			fmt.Fprintf(stdout, "FAIL %-14s %v (%v)\n", d.Name, err, took)
			continue
		}
		fmt.Fprintf(stdout, "ok   %-14s %s (%v)\n", d.Name, summary, took)
	}
	if len(failed) > 0 {
		return fmt.Errorf("demo failed: %s", strings.Join(failed, ", "))
	}
	return nil
}

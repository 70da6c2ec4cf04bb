package ipc

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/proc"
)

// TestMain makes the test binary its own proc worker (cross-process tests
// hand queues and pipe ends to tasks registered in the _test files), then
// runs the tests and checks that they left no goroutine and no child
// process behind.
func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(orphanCheck{m})
}

// orphanCheck runs the tests, then fails the run if this process still
// has children: every test must stop and reap the processes it started.
type orphanCheck struct{ m *testing.M }

func (o orphanCheck) Run() int {
	code := o.m.Run()
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", os.Getpid()))
	var kids []string
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		kids = append(kids, strings.Fields(string(b))...)
	}
	if len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "ipc tests left child processes behind: %v\n", kids)
		return 1
	}
	return code
}

// openFDs lists this process's open descriptors by what they refer to,
// leaving out the runtime's own (its poller's epoll and eventfd, made once
// on first use). nil where /proc is missing.
func openFDs() []string {
	dir, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range dir {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil || strings.Contains(target, "eventpoll") || strings.Contains(target, "eventfd") {
			continue
		}
		if _, err := strconv.Atoi(e.Name()); err == nil {
			out = append(out, target)
		}
	}
	slices.Sort(out)
	return out
}

// checkNoFDLeak fails t if, once t and its cleanups are done, the process
// has descriptors open that it did not have when checkNoFDLeak was
// called. Call it first, so its cleanup runs last. Tests that use it must
// not run in parallel with others.
func checkNoFDLeak(t *testing.T) {
	t.Helper()
	before := openFDs()
	t.Cleanup(func() {
		after := openFDs()
		if len(after) > len(before) {
			t.Errorf("descriptors leaked: before %v, after %v", before, after)
		}
	})
}

package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Errors of the proc package. Test for them with errors.Is.
var (
	// ErrClosed: the pool was shut down or closed; the task was not
	// accepted, or was dropped (queued) or stopped (running) by Close.
	ErrClosed = errors.New("proc: pool closed")

	// ErrTimeout: a task ran longer than WithTimeout allows. It matches
	// context.DeadlineExceeded too.
	ErrTimeout error = timeoutError{}

	// ErrNoMain: New or Start was called in a program whose main (or
	// TestMain) did not call Main first. Workers run the program's own
	// binary, so without Main each worker would run the whole program.
	ErrNoMain = errors.New("proc: proc.Main must be the first call in main (and in TestMain)")

	// ErrMismatch: a worker is not the same build as its parent (different
	// executable or different registered functions), found at the
	// handshake.
	ErrMismatch = errors.New("proc: worker and parent are different builds")

	// ErrEncoding: a task's argument or result could not be encoded or
	// decoded, or does not fit in a frame (see WithMaxFrame).
	ErrEncoding = errors.New("proc: value cannot cross the process boundary")

	// ErrInit: a worker's initializer (WithInit) failed; the pool does not
	// start (New) or stops taking work (a replacement worker).
	ErrInit = errors.New("proc: worker initializer failed")

	// ErrUnsupported: worker processes are not available on this
	// operating system.
	ErrUnsupported = errors.New("proc: worker processes are not supported on this system")
)

type timeoutError struct{}

func (timeoutError) Error() string { return "proc: task timed out" }

// Is makes ErrTimeout match context.DeadlineExceeded.
func (timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// WorkerError reports a worker process that ended while it held tasks:
// it exited (a task called os.Exit), was killed by a signal (SIGKILL,
// SIGSEGV in native code), or broke the protocol (a corrupt or oversized
// frame, in which case the pool killed it). The tasks it was running fail
// with it; see WithRetries.
type WorkerError struct {
	Pid      int
	ExitCode int       // the exit status, or -1 when a signal ended it
	Signal   os.Signal // the signal that ended it, or nil
	Stderr   string    // the last lines the worker wrote to stderr (a crash's report)
	Err      error     // why the pool killed it (a corrupt frame), or nil
}

// Error describes the exit and the last line of stderr.
func (e *WorkerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proc: worker %d ", e.Pid)
	switch {
	case e.Err != nil:
		fmt.Fprintf(&b, "failed: %v", e.Err)
	case e.Signal != nil:
		fmt.Fprintf(&b, "killed by signal: %v", e.Signal)
	default:
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	if line := headline(e.Stderr); line != "" {
		fmt.Fprintf(&b, " (stderr: %s)", line)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *WorkerError) Unwrap() error { return e.Err }

// TaskError carries an error returned by a task function in a worker
// process. Only the text crosses the process boundary: Error returns the
// original message unchanged; the original type and wrapped errors are
// not available to errors.Is and errors.As.
type TaskError struct {
	Func    string // the registered name
	Message string
}

// Error returns the task's own error message.
func (e *TaskError) Error() string { return e.Message }

// headline picks the line of a worker's stderr tail that best says why
// it died: the Go runtime's "panic:" or "fatal error:" line of a crash
// (followed by stack frames), else its "[signal" line, else the last
// non-empty line. It is cut to a readable length.
func headline(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n\r\t "), "\n")
	line, rank := lines[len(lines)-1], 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: "):
			line, rank = l, 2
		case strings.HasPrefix(l, "[signal ") && rank < 2:
			line, rank = l, 1
		}
	}
	const max = 200
	if len(line) > max {
		line = line[:max] + "..."
	}
	return strings.TrimSpace(line)
}

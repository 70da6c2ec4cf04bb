package proc

import (
	"bytes"
	"io"
	"strings"
	"sync"
)

// tailSize is how many trailing bytes of a worker's stderr are kept for
// its *WorkerError.
const tailSize = 8 << 10

// tailLines is how many of those lines the error reports.
const tailLines = 40

// crashLines is how many lines of a crash report's head are kept: a Go
// crash prints its reason first, then the stacks of every goroutine,
// which push the reason out of any tail.
const crashLines = 4

// crashPrefixes start the head of a Go crash report.
var crashPrefixes = [][]byte{[]byte("panic: "), []byte("fatal error: "), []byte("unexpected fault address"), []byte("[signal ")}

// tail forwards a worker's stderr to the configured writer and keeps its
// last bytes, and the head of the last crash report seen.
type tail struct {
	out io.Writer

	mu      sync.Mutex // guards the fields below
	buf     []byte     // the last tailSize bytes
	line    []byte     // the incomplete last line
	crash   []string   // head of the last crash report
	capture int        // lines still to add to crash
}

// Write implements io.Writer for exec.Cmd's copying goroutine. A failing
// destination does not stop the copy: the tail is what matters here.
func (t *tail) Write(p []byte) (int, error) {
	_, _ = t.out.Write(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.scan(p)
	return len(p), nil
}

// scan looks for the head of a crash report in p.
func (t *tail) scan(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if len(t.line) < 512 {
				t.line = append(t.line, p...)
			}
			return
		}
		line := append(t.line, p[:i]...)
		t.line, p = t.line[:0], p[i+1:]
		switch {
		case t.capture > 0:
			t.crash = append(t.crash, string(line))
			t.capture--
		case hasCrashPrefix(line):
			t.crash, t.capture = []string{string(line)}, crashLines-1
		}
	}
}

func hasCrashPrefix(line []byte) bool {
	for _, p := range crashPrefixes {
		if bytes.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// String returns the head of the last crash report, if it is no longer in
// the tail, then the last tailLines lines.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	lines := 0
	for i := len(b) - 2; i >= 0; i-- {
		if b[i] == '\n' {
			lines++
			if lines == tailLines {
				b = b[i+1:]
				break
			}
		}
	}
	if len(t.crash) == 0 || bytes.Contains(b, []byte(t.crash[0])) {
		return string(b)
	}
	return strings.Join(t.crash, "\n") + "\n...\n" + string(b)
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"nonsense"},
		{"worker"},
		{"worker", "-connect", "nats://127.0.0.1:1", "-n", "0"},
		{"serve", "-bogus"},
		{"serve", "-cluster", "c"},
		{"version", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("skein %v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}

func TestVersionAndHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "skein ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"-h"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "worker") {
		t.Fatalf("-h: %d %q", code, out.String())
	}
}

func TestServePrintsTheURLAndStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int)
	r, w := newLineWriter()
	go func() { done <- run(ctx, []string{"serve", "-data", t.TempDir(), "-listen", "127.0.0.1:0"}, w, &errb) }()
	line := <-r
	cancel()
	if code := <-done; code != 0 || !strings.Contains(line, "nats://127.0.0.1:") {
		t.Fatalf("serve: exit %d, first line %q, stderr %q", code, line, errb.String())
	}
	_ = out
}

// newLineWriter returns a writer whose first write is sent on the channel.
func newLineWriter() (<-chan string, *firstWrite) {
	c := make(chan string, 1)
	return c, &firstWrite{c: c}
}

type firstWrite struct {
	c    chan string
	sent bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.sent {
		f.sent = true
		f.c <- string(p)
	}
	return len(p), nil
}

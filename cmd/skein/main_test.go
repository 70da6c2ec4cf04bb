package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/skein-go/skein/proc"
	"go.uber.org/goleak"
)

// TestMain makes the test binary its own proc worker (the bench and the
// demos start worker processes of the running executable), then checks
// that the tests leave no goroutine behind.
func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(m)
}

func TestDemoQuietPrintsOnlySummaries(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo", "-quiet", "threadpool"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if lines := strings.Count(out.String(), "\n"); lines != 1 || !strings.HasPrefix(out.String(), "ok   threadpool") {
		t.Fatalf("output = %q, want one summary line", out.String())
	}
	if code := run(context.Background(), []string{"demo", "-quiet", "-v", "threadpool"}, &out, &errOut); code != 2 {
		t.Fatalf("-quiet with -v: exit %d, want 2", code)
	}
}

func TestClusterCommandsPointToTheClusterBuild(t *testing.T) {
	for _, name := range []string{"serve", "worker"} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{name}, &out, &errOut); code != 1 {
			t.Errorf("%s: exit %d, want 1", name, code)
		}
		if !strings.Contains(errOut.String(), "cluster/cmd/skein "+name) {
			t.Errorf("%s: stderr %q does not say where the command lives", name, errOut.String())
		}
	}
}

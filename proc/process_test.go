package proc

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
)

func TestProcessRunsOneFunction(t *testing.T) {
	ctx := context.Background()
	pr, err := Start(ctx, pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pr.Wait(ctx)
	if err != nil || got != pr.Pid() || got == os.Getpid() {
		t.Fatalf("Wait = %d, %v; Pid %d", got, err, pr.Pid())
	}
	if code := pr.ExitCode(); code != 0 {
		t.Fatalf("ExitCode = %d", code)
	}
	<-pr.Done()
	pr.Kill() // after the end: nothing happens
}

func TestProcessExitStatus(t *testing.T) {
	ctx := context.Background()
	pr, err := Start(ctx, exit, 3, WithStderr(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	var we *WorkerError
	if _, err := pr.Wait(ctx); !errors.As(err, &we) || we.ExitCode != 3 {
		t.Fatalf("Wait error %v, want *WorkerError with status 3", err)
	}
	if code := pr.ExitCode(); code != 3 {
		t.Fatalf("ExitCode = %d, want 3", code)
	}
}

func TestProcessKill(t *testing.T) {
	ctx := context.Background()
	path := fifo(t)
	pr, err := Start(ctx, announce, announcement{FIFO: path, IgnoreContext: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := announced(t, path); got != pr.Pid() {
		t.Fatalf("task runs in %d, Pid() = %d", got, pr.Pid())
	}
	if code := pr.ExitCode(); code != -1 {
		t.Fatalf("ExitCode while running = %d", code)
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := pr.Wait(short); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context: %v", err)
	}
	pr.Kill()
	var we *WorkerError
	if _, err := pr.Wait(ctx); !errors.As(err, &we) || we.Signal != syscall.SIGKILL {
		t.Fatalf("Wait after Kill: %v, want *WorkerError for SIGKILL", err)
	}
	if code := pr.ExitCode(); code != -1 {
		t.Fatalf("ExitCode after Kill = %d, want -1", code)
	}
}

func TestProcessContextCancelsTheFunction(t *testing.T) {
	path := fifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, err := Start(ctx, announce, announcement{FIFO: path})
	if err != nil {
		t.Fatal(err)
	}
	announced(t, path)
	cancel()
	if _, err := pr.Wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
	if code := pr.ExitCode(); code != 0 {
		t.Fatalf("ExitCode = %d: the function returned, the process should exit cleanly", code)
	}
}

func TestStartRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		err  func() error
	}{
		{"pool-only option", func() error { _, err := Start(ctx, square, 1, WithRetries(1)); return err }},
		{"bad option", func() error { _, err := Start(ctx, square, 1, WithTimeout(-1)); return err }},
		{"unusable func", func() error { _, err := Start(ctx, badRegistration, 1); return err }},
		{"argument cannot be encoded", func() error { _, err := Start(ctx, decodeTrap, trapArg(-1)); return err }},
		{"failing initializer", func() error {
			_, err := Start(ctx, square, 1, WithInit(setGreeting, "fail"), WithStderr(io.Discard))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.err(); err == nil {
				t.Fatal("Start accepted it")
			}
		})
	}
}

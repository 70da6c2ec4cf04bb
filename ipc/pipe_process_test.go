package ipc

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/skein-go/skein/proc"
)

// Cross-process pipe tests: ends travel to tasks of this test binary,
// re-executed by proc as worker processes.

type pipeSendArg struct {
	Conn *Conn[pipeMessage]
	N    int
}

var (
	// pipeSender is the seed's sender: N messages, then close.
	pipeSender = proc.Register("ipc.test.pipe.sender", func(ctx context.Context, a pipeSendArg) (int, error) {
		defer a.Conn.Close()
		for i := range a.N {
			if err := a.Conn.Send(ctx, pipeMessage{Message: "hello", N: i}); err != nil {
				return i, err
			}
		}
		return a.N, nil
	})
	// pipeReceiver is the seed's receiver: messages until EOF; it fails
	// if they are not 0, 1, 2, ... in order.
	pipeReceiver = proc.Register("ipc.test.pipe.receiver", func(ctx context.Context, c *Conn[pipeMessage]) (int, error) {
		defer c.Close()
		for n := 0; ; n++ {
			m, err := c.Recv(ctx)
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			if m.N != n {
				return n, errors.New("message out of order")
			}
		}
	})
	// pipeEcho sends back what it receives, with N incremented, until
	// EOF; its first message is its pid.
	pipeEcho = proc.Register("ipc.test.pipe.echo", func(ctx context.Context, c *Conn[pipeMessage]) (int, error) {
		defer c.Close()
		if err := c.Send(ctx, pipeMessage{Message: "pid", N: os.Getpid()}); err != nil {
			return 0, err
		}
		for n := 0; ; n++ {
			m, err := c.Recv(ctx)
			if err == io.EOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
			m.N++
			if err := c.Send(ctx, m); err != nil {
				return n, err
			}
		}
	})
)

func TestPipeBetweenTwoWorkersEndsWithEOF(t *testing.T) {
	checkNoFDLeak(t)
	a, b := newTestPipe[pipeMessage](t)
	sender := queueStart(t, pipeSender, pipeSendArg{Conn: a, N: 5})
	receiver := queueStart(t, pipeReceiver, b)
	// Python's idiom: the parent closes its copies right after starting
	// the children. The ends still reach the workers.
	a.Close()
	b.Close()
	ctx := context.Background()
	if n, err := sender.Wait(ctx); err != nil || n != 5 {
		t.Fatalf("sender: %v, %v", n, err)
	}
	// The receiver's EOF needs every copy of the sender's end closed:
	// the worker's (it returned) and the parent's (moved).
	if n, err := receiver.Wait(ctx); err != nil || n != 5 {
		t.Fatalf("receiver: %v, %v", n, err)
	}
	for _, c := range []*Conn[pipeMessage]{a, b} {
		if err := c.Send(ctx, pipeMessage{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Send on an end closed here: %v, want ErrClosed", err)
		}
	}
}

func TestPipeRoundTripsWithAWorker(t *testing.T) {
	checkNoFDLeak(t)
	mine, theirs := newTestPipe[pipeMessage](t)
	echo := queueStart(t, pipeEcho, theirs)
	ctx := context.Background()
	if err := theirs.Send(ctx, pipeMessage{}); !errors.Is(err, ErrMoved) {
		t.Fatalf("Send on an end moved to a worker: %v, want ErrMoved", err)
	}
	if m, err := mine.Recv(ctx); err != nil || m.N != echo.Pid() {
		t.Fatalf("first message: %+v, %v; want the worker's pid %d", m, err, echo.Pid())
	}
	for i := range 100 {
		if err := mine.Send(ctx, pipeMessage{"ping", i}); err != nil {
			t.Fatal(err)
		}
		if m, err := mine.Recv(ctx); err != nil || m != (pipeMessage{"ping", i + 1}) {
			t.Fatalf("Recv = %+v, %v", m, err)
		}
	}
	mine.Close()
	if n, err := echo.Wait(ctx); err != nil || n != 100 {
		t.Fatalf("echo: %v, %v", n, err)
	}
}

func TestPipeRecvReturnsEOFWhenTheWorkerIsKilled(t *testing.T) {
	checkNoFDLeak(t)
	mine, theirs := newTestPipe[pipeMessage](t)
	echo := queueStart(t, pipeEcho, theirs)
	ctx := context.Background()
	m, err := mine.Recv(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(m.N, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if _, err := mine.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the worker was killed: %v, want io.EOF", err)
	}
	if err := mine.Send(ctx, pipeMessage{}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Send after the worker was killed: %v, want io.ErrClosedPipe", err)
	}
	var we *proc.WorkerError
	if _, err := echo.Wait(ctx); !errors.As(err, &we) {
		t.Fatalf("worker: %v, want a *proc.WorkerError", err)
	}
}

func TestPipeEndMovesOnlyOnce(t *testing.T) {
	checkNoFDLeak(t)
	mine, theirs := newTestPipe[pipeMessage](t)
	echo := queueStart(t, pipeEcho, theirs)
	ctx := context.Background()
	if _, err := mine.Recv(ctx); err != nil {
		t.Fatal(err)
	}
	// The same end cannot go to a second worker.
	second, err := proc.Start(ctx, pipeEcho, theirs, proc.WithStderr(io.Discard))
	if err == nil {
		second.Kill()
		second.Wait(ctx)
	}
	if !errors.Is(err, ErrMoved) {
		t.Fatalf("starting a second worker with a moved end: %v, want ErrMoved", err)
	}
	mine.Close()
	if _, err := echo.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}

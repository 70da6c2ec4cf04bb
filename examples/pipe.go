package examples

import (
	"context"
	"fmt"
	"io"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

func init() {
	register(Demo{
		Name:    "pipe",
		Summary: "the seed's pipe_communication: a sender and a receiver process on an ipc.Pipe, ending in io.EOF; then a duplex ping/pong with the parent",
		Run:     pipeDemo,
	})
}

// pipeMessage is the seed's {"message": f"Hello {i}"}.
type pipeMessage struct {
	Message string
}

// pipeSender is the seed's sender(connection): five messages, then close.
var pipeSender = proc.Register("pipe.sender", func(ctx context.Context, conn *ipc.Conn[pipeMessage]) (int, error) {
	defer conn.Close()
	for i := range 5 {
		if err := conn.Send(ctx, pipeMessage{Message: fmt.Sprintf("Hello %d", i)}); err != nil {
			return i, err
		}
	}
	return 5, nil
})

// pipeReceiver is the seed's receiver(connection): it receives until the
// other end is closed, which Recv reports as io.EOF (Python: EOFError),
// and returns what it got.
var pipeReceiver = proc.Register("pipe.receiver", func(ctx context.Context, conn *ipc.Conn[pipeMessage]) ([]string, error) {
	defer conn.Close()
	var got []string
	for {
		msg, err := conn.Recv(ctx)
		if err == io.EOF {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		got = append(got, msg.Message)
	}
})

// pipePonger answers every "ping N" with "pong N" until the other end
// closes, and returns how many it answered.
var pipePonger = proc.Register("pipe.ponger", func(ctx context.Context, conn *ipc.Conn[pipeMessage]) (int, error) {
	defer conn.Close()
	for n := 0; ; n++ {
		msg, err := conn.Recv(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		var i int
		if _, err := fmt.Sscanf(msg.Message, "ping %d", &i); err != nil {
			return n, err
		}
		if err := conn.Send(ctx, pipeMessage{Message: fmt.Sprintf("pong %d", i)}); err != nil {
			return n, err
		}
	}
})

func pipeDemo(ctx context.Context, w io.Writer) (string, error) {
	got, err := pipeSeed(ctx, w)
	if err != nil {
		return "", err
	}
	pongs, err := pipePingPong(ctx, w)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("the receiver process got %d messages in order, then io.EOF; %d duplex ping/pong round trips with a worker, which saw io.EOF when the parent closed", got, pongs), nil
}

// pipeSeed runs the seed's pipe_communication. Both ends go to worker
// processes; handing an end to a worker moves it, so the parent holds
// neither, and the receiver's Recv returns io.EOF once the sender closes
// its end. (The seed's version never ends: its parent keeps both ends
// open.)
func pipeSeed(ctx context.Context, w io.Writer) (int, error) {
	parentConn, childConn, err := ipc.Pipe[pipeMessage]()
	if err != nil {
		return 0, err
	}
	defer parentConn.Close() // releases nothing once moved; harmless
	defer childConn.Close()

	p1, err := proc.Start(ctx, pipeSender, parentConn)
	if err != nil {
		return 0, err
	}
	defer p1.Kill()
	p2, err := proc.Start(ctx, pipeReceiver, childConn)
	if err != nil {
		return 0, err
	}
	defer p2.Kill()

	if _, err := p1.Wait(ctx); err != nil {
		return 0, fmt.Errorf("sender: %w", err)
	}
	got, err := p2.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("receiver: %w", err)
	}
	for _, m := range got {
		fmt.Fprintf(w, "Received: {Message:%s}\n", m)
	}
	fmt.Fprintln(w, "receiver: io.EOF, the sender closed its end")
	for i, m := range got {
		if want := fmt.Sprintf("Hello %d", i); m != want {
			return 0, fmt.Errorf("message %d is %q, want %q", i, m, want)
		}
	}
	if len(got) != 5 {
		return 0, fmt.Errorf("receiver got %d messages, want 5", len(got))
	}
	return len(got), nil
}

// pipePingPong keeps one end in the parent and moves the other to a
// worker: a duplex conversation, ended by the parent's Close.
func pipePingPong(ctx context.Context, w io.Writer) (int, error) {
	mine, theirs, err := ipc.Pipe[pipeMessage]()
	if err != nil {
		return 0, err
	}
	defer mine.Close()
	defer theirs.Close()
	p, err := proc.Start(ctx, pipePonger, theirs)
	if err != nil {
		return 0, err
	}
	defer p.Kill()

	const rounds = 3
	for i := range rounds {
		if err := mine.Send(ctx, pipeMessage{Message: fmt.Sprintf("ping %d", i)}); err != nil {
			return 0, err
		}
		reply, err := mine.Recv(ctx)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "parent sent ping %d, worker (pid %d) answered %s\n", i, p.Pid(), reply.Message)
		if want := fmt.Sprintf("pong %d", i); reply.Message != want {
			return 0, fmt.Errorf("reply %q, want %q", reply.Message, want)
		}
	}
	if err := mine.Close(); err != nil {
		return 0, err
	}
	n, err := p.Wait(ctx)
	if err != nil {
		return 0, fmt.Errorf("ponger: %w", err)
	}
	if n != rounds {
		return 0, fmt.Errorf("ponger answered %d pings, want %d", n, rounds)
	}
	fmt.Fprintf(w, "parent closed its end; the worker saw io.EOF after %d pings\n", n)
	return n, nil
}

package ipc_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/skein-go/skein/ipc"
	"github.com/skein-go/skein/proc"
)

// pipeExampleShouter runs in a worker process: it answers every message
// in capitals until the parent closes its end.
var pipeExampleShouter = proc.Register("ipc.example.shouter", func(ctx context.Context, c *ipc.Conn[string]) (int, error) {
	defer c.Close()
	for n := 0; ; n++ {
		s, err := c.Recv(ctx)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if err := c.Send(ctx, strings.ToUpper(s)); err != nil {
			return n, err
		}
	}
})

// One end stays in the parent, the other moves to a worker process. When
// the parent closes its end, the worker's Recv returns io.EOF.
func ExamplePipe() {
	ctx := context.Background()
	mine, theirs, err := ipc.Pipe[string]()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer mine.Close()
	p, err := proc.Start(ctx, pipeExampleShouter, theirs)
	theirs.Close() // ours to close; the worker still gets the end
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"hello", "pipe"} {
		mine.Send(ctx, s)
		reply, err := mine.Recv(ctx)
		fmt.Println(reply, err)
	}
	mine.Close()
	n, err := p.Wait(ctx)
	fmt.Println("worker answered", n, err)
	// Output:
	// HELLO <nil>
	// PIPE <nil>
	// worker answered 2 <nil>
}

// Poll is Python's Connection.poll(timeout): whether a Recv would return
// without waiting. The context is the timeout; one that has already ended
// makes Poll look without waiting, as poll() does.
func ExampleConn_Poll() {
	ctx := context.Background()
	a, b, err := ipc.Pipe[string]()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()

	now, cancel := context.WithCancel(ctx)
	cancel()
	ready, _ := b.Poll(now)
	fmt.Println("before sending:", ready)

	a.Send(ctx, "hello")
	ready, _ = b.Poll(now)
	msg, _ := b.Recv(ctx)
	fmt.Println("after sending:", ready, msg)

	a.Close()
	ready, _ = b.Poll(ctx)
	_, err = b.Recv(ctx)
	fmt.Println("after the other end closed:", ready, err == io.EOF)
	// Output:
	// before sending: false
	// after sending: true hello
	// after the other end closed: true true
}

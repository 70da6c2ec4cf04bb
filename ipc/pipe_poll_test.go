package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/skein-go/skein/proc"
)

// pollDone is a context that has ended: Poll with it looks without
// waiting, Python's poll().
func pollDone() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// Poll answers whether a message is there, consumes nothing, and with a
// done context does not wait.
func TestPipePollReportsABufferedMessageWithoutConsumingIt(t *testing.T) {
	checkNoFDLeak(t)
	a, b := newTestPipe[pipeMessage](t)
	ctx := context.Background()
	if ok, err := b.Poll(pollDone()); ok || err != nil {
		t.Fatalf("Poll of an empty end = %v, %v; want false, nil", ok, err)
	}
	a.Send(ctx, pipeMessage{"one", 1})
	a.Send(ctx, pipeMessage{"two", 2})
	for range 2 {
		if ok, err := b.Poll(pollDone()); !ok || err != nil {
			t.Fatalf("Poll with a message sent = %v, %v; want true", ok, err)
		}
	}
	for i, want := range []pipeMessage{{"one", 1}, {"two", 2}} {
		if ok, err := b.Poll(ctx); !ok || err != nil {
			t.Fatalf("Poll before message %d = %v, %v", i, ok, err)
		}
		if m, err := b.Recv(ctx); m != want || err != nil {
			t.Fatalf("Recv after Poll = %+v, %v; want %+v", m, err, want)
		}
	}
	if ok, err := b.Poll(pollDone()); ok || err != nil {
		t.Fatalf("Poll after receiving everything = %v, %v; want false, nil", ok, err)
	}
}

// Poll returns false and no error when its deadline passes: the
// timeout is the answer, as with Python's poll(timeout).
func TestPipePollDeadlineReturnsFalseNotAnError(t *testing.T) {
	_, b := newTestPipe[int](t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if ok, err := b.Poll(ctx); ok || err != nil {
		t.Fatalf("Poll until a deadline = %v, %v; want false, nil", ok, err)
	}
	if ctx.Err() == nil {
		t.Fatal("Poll returned false before its deadline")
	}
}

// A Poll waiting with no deadline returns true when a message comes.
func TestPipePollWaitsForAMessage(t *testing.T) {
	a, b := newTestPipe[int](t)
	polled := make(chan bool)
	go func() {
		ok, err := b.Poll(context.Background())
		if err != nil {
			t.Error(err)
		}
		polled <- ok
	}()
	if err := a.Send(context.Background(), 42); err != nil {
		t.Fatal(err)
	}
	if !<-polled {
		t.Fatal("Poll returned false without a deadline")
	}
	if v, err := b.Recv(context.Background()); v != 42 || err != nil {
		t.Fatalf("Recv after Poll = %d, %v", v, err)
	}
}

// A message bigger than the socket's buffer arrives in pieces: Poll says
// true only once all of it is there.
func TestPipePollWaitsForAWholeBigMessage(t *testing.T) {
	a, b := newTestPipe[[]byte](t)
	big := make([]byte, 2<<20)
	big[len(big)-1] = 7
	sent := make(chan error, 1)
	go func() { sent <- a.Send(context.Background(), big) }()
	if ok, err := b.Poll(context.Background()); !ok || err != nil {
		t.Fatalf("Poll = %v, %v", ok, err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if n, whole, err := b.e.pending(); !whole || err != nil {
		t.Fatalf("Poll returned true with a frame of %d bytes not all read (%v)", n, err)
	}
	if got, err := b.Recv(context.Background()); err != nil || len(got) != len(big) || got[len(got)-1] != 7 {
		t.Fatalf("Recv after Poll: %d bytes, %v", len(got), err)
	}
}

// Once the other end is closed, Poll reports true (after the messages
// sent before, and again after) and Recv returns io.EOF.
func TestPipePollAfterThePeerClosedIsTrueThenRecvEOF(t *testing.T) {
	a, b := newTestPipe[int](t)
	ctx := context.Background()
	a.Send(ctx, 1)
	a.Close()
	if ok, err := b.Poll(ctx); !ok || err != nil {
		t.Fatalf("Poll with a message before the close = %v, %v", ok, err)
	}
	if v, err := b.Recv(ctx); v != 1 || err != nil {
		t.Fatalf("Recv = %d, %v", v, err)
	}
	for range 2 {
		if ok, err := b.Poll(ctx); !ok || err != nil {
			t.Fatalf("Poll after the peer closed = %v, %v; want true, nil", ok, err)
		}
		if _, err := b.Recv(ctx); err != io.EOF {
			t.Fatalf("Recv after the peer closed = %v, want io.EOF", err)
		}
	}
}

// A corrupt frame is something Recv returns at once: Poll says true.
func TestPipePollReportsACorruptFrame(t *testing.T) {
	a, b := newTestPipe[int](t)
	var hdr [frameHeader]byte
	binary.LittleEndian.PutUint32(hdr[:], MaxMessage+1)
	if _, err := a.e.s.write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Poll(context.Background()); !ok || err != nil {
		t.Fatalf("Poll of a corrupt frame = %v, %v; want true", ok, err)
	}
	if _, err := b.Recv(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Recv of a corrupt frame = %v, want ErrCorrupt", err)
	}
}

// Poll on an end closed here fails with ErrClosed, also when Close comes
// while it waits.
func TestPipePollOnAClosedEndFails(t *testing.T) {
	_, b := newTestPipe[int](t)
	polled := make(chan error)
	go func() {
		_, err := b.Poll(context.Background())
		polled <- err
	}()
	b.Close()
	if err := <-polled; !errors.Is(err, ErrClosed) {
		t.Fatalf("Poll when the end is closed = %v, want ErrClosed", err)
	}
	if _, err := b.Poll(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Poll after Close = %v, want ErrClosed", err)
	}
	if _, err := new(Conn[int]).Poll(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Poll of a zero Conn = %v, want ErrClosed", err)
	}
}

// pollResult is what pollEcho saw in the worker.
type pollResult struct {
	Empty    bool // Poll with a done ctx found nothing before the first message
	Messages int  // messages echoed
	EOF      bool // Poll said true at the end and Recv returned io.EOF
}

// pollEcho waits with Poll for each message, echoes it with N+1, and
// checks that Poll reports the parent's close.
var pollEcho = proc.Register("ipc.test.pipe.poll-echo", func(ctx context.Context, c *Conn[pipeMessage]) (pollResult, error) {
	defer c.Close()
	var r pollResult
	ok, err := c.Poll(pollDone())
	if err != nil {
		return r, err
	}
	r.Empty = !ok
	if err := c.Send(ctx, pipeMessage{Message: "ready"}); err != nil {
		return r, err
	}
	for {
		if ok, err := c.Poll(ctx); !ok || err != nil {
			return r, errors.Join(err, errors.New("Poll without a deadline returned false"))
		}
		m, err := c.Recv(ctx)
		if err == io.EOF {
			r.EOF = true
			return r, nil
		}
		if err != nil {
			return r, err
		}
		m.N++
		if err := c.Send(ctx, m); err != nil {
			return r, err
		}
		r.Messages++
	}
})

// Poll works in a worker on an end it received, and in the parent on the
// end whose peer is the worker's; when the worker exits, the parent's
// Poll says true and Recv returns io.EOF.
func TestPipePollWithAWorker(t *testing.T) {
	checkNoFDLeak(t)
	mine, theirs := newTestPipe[pipeMessage](t)
	p, err := proc.Start(context.Background(), pollEcho, theirs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		p.Wait(context.Background())
	})
	ctx := context.Background()
	if m, err := mine.Recv(ctx); err != nil || m.Message != "ready" {
		t.Fatalf("first message %+v, %v", m, err)
	}
	if _, err := theirs.Poll(ctx); !errors.Is(err, ErrMoved) {
		t.Fatalf("Poll of an end moved to a worker = %v, want ErrMoved", err)
	}
	for i := range 20 {
		if ok, err := mine.Poll(pollDone()); ok || err != nil {
			t.Fatalf("Poll before sending = %v, %v; want false", ok, err)
		}
		mine.Send(ctx, pipeMessage{"ping", i})
		if ok, err := mine.Poll(ctx); !ok || err != nil {
			t.Fatalf("Poll for the echo = %v, %v", ok, err)
		}
		if m, err := mine.Recv(ctx); m != (pipeMessage{"ping", i + 1}) || err != nil {
			t.Fatalf("echo = %+v, %v", m, err)
		}
	}
	mine.Close() // the worker's Poll sees it: its Recv returns io.EOF
	r, err := p.Wait(ctx)
	if err != nil || r != (pollResult{Empty: true, Messages: 20, EOF: true}) {
		t.Fatalf("worker: %+v, %v", r, err)
	}
}

// When the process holding the other end exits, Poll reports it.
func TestPipePollReportsTheWorkersExit(t *testing.T) {
	checkNoFDLeak(t)
	mine, theirs := newTestPipe[pipeMessage](t)
	sender := queueStart(t, pipeSender, pipeSendArg{Conn: theirs, N: 3})
	ctx := context.Background()
	for i := range 3 {
		if ok, err := mine.Poll(ctx); !ok || err != nil {
			t.Fatalf("Poll %d = %v, %v", i, ok, err)
		}
		if m, err := mine.Recv(ctx); m.N != i || err != nil {
			t.Fatalf("Recv %d = %+v, %v", i, m, err)
		}
	}
	if n, err := sender.Wait(ctx); n != 3 || err != nil {
		t.Fatalf("sender: %d, %v", n, err)
	}
	if ok, err := mine.Poll(ctx); !ok || err != nil {
		t.Fatalf("Poll after the worker exited = %v, %v; want true", ok, err)
	}
	if _, err := mine.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the worker exited = %v, want io.EOF", err)
	}
}

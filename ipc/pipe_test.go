package ipc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestPipe makes a pipe whose ends the test closes at its end.
func newTestPipe[T any](t testing.TB) (*Conn[T], *Conn[T]) {
	t.Helper()
	a, b, err := Pipe[T]()
	if err != nil {
		t.Fatalf("Pipe: %v", err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

// pipeWriteRaw writes data on c's socket as it is, not as a frame.
func pipeWriteRaw[T any](c *Conn[T], data []byte) (int, error) {
	sent := 0
	for sent < len(data) {
		n, err := c.e.s.write(data[sent:])
		sent += n
		if err == errAgain {
			err = c.e.s.wait(context.Background(), true)
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

type pipeMessage struct {
	Message string
	N       int
}

func TestPipeIsDuplexAndKeepsOrder(t *testing.T) {
	checkNoFDLeak(t)
	a, b := newTestPipe[pipeMessage](t)
	ctx := context.Background()
	for i := range 5 {
		if err := a.Send(ctx, pipeMessage{"hello", i}); err != nil {
			t.Fatal(err)
		}
		if err := b.Send(ctx, pipeMessage{"back", i}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		if m, err := b.Recv(ctx); err != nil || m != (pipeMessage{"hello", i}) {
			t.Fatalf("b.Recv = %+v, %v", m, err)
		}
		if m, err := a.Recv(ctx); err != nil || m != (pipeMessage{"back", i}) {
			t.Fatalf("a.Recv = %+v, %v", m, err)
		}
	}
}

func TestPipeRecvReturnsEOFAfterThePeerClosedAndEverythingArrived(t *testing.T) {
	a, b := newTestPipe[string](t)
	ctx := context.Background()
	a.Send(ctx, "one")
	a.Send(ctx, "two")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, want := range []string{"one", "two"} {
		if m, err := b.Recv(ctx); err != nil || m != want {
			t.Fatalf("Recv = %q, %v; want %q", m, err, want)
		}
	}
	for range 2 {
		if _, err := b.Recv(ctx); err != io.EOF {
			t.Fatalf("Recv after the peer closed: %v, want io.EOF", err)
		}
	}
	if err := b.Send(ctx, "anyone?"); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Send to a closed peer: %v, want io.ErrClosedPipe", err)
	}
	if err := a.Send(ctx, "x"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send on a closed end: %v, want ErrClosed", err)
	}
	if _, err := a.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv on a closed end: %v, want ErrClosed", err)
	}
}

func TestPipeCloseWakesABlockedRecv(t *testing.T) {
	a, _ := newTestPipe[int](t)
	errc := make(chan error)
	go func() {
		_, err := a.Recv(context.Background())
		errc <- err
	}()
	a.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv blocked during Close: %v, want ErrClosed", err)
	}
}

func TestPipeRecvEndsWithItsContextAndLosesNoPartialMessage(t *testing.T) {
	a, b := newTestPipe[string](t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := b.Recv(ctx)
		errc <- err
	}()
	// Half a frame arrives, then the receiver gives up.
	frame := binary.LittleEndian.AppendUint32(nil, 6)
	frame = append(frame, 5, 'h', 'e', 'l', 'l', 'o')
	if _, err := pipeWriteRaw(a, frame[:6]); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv: %v, want context.Canceled", err)
	}
	if _, err := pipeWriteRaw(a, frame[6:]); err != nil {
		t.Fatal(err)
	}
	if m, err := b.Recv(context.Background()); err != nil || m != "hello" {
		t.Fatalf("Recv after the cancelled one: %q, %v", m, err)
	}
	dl, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if _, err := b.Recv(dl); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv with a deadline: %v", err)
	}
	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := b.Recv(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Recv with a done context: %v", err)
	}
	if err := a.Send(done, "x"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Send with a done context: %v", err)
	}
}

func TestPipeSendEndsWithItsContextWhenThePeerDoesNotRead(t *testing.T) {
	a, b := newTestPipe[[]byte](t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	big := make([]byte, 8<<20) // far more than a socket buffer
	if err := a.Send(ctx, big); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send: %v, want context.DeadlineExceeded", err)
	}
	// Part of the message went out: the stream is broken on both sides.
	if err := a.Send(context.Background(), []byte("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send after a broken one: %v, want ErrClosed", err)
	}
	if _, err := b.Recv(context.Background()); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Recv of the broken message: %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestPipeCarriesBigMessagesAndConcurrentSenders(t *testing.T) {
	a, b := newTestPipe[[]byte](t)
	ctx := context.Background()
	const senders, each = 4, 50
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				size := 1 + (s*each+i)%3*300_000 // some bigger than the read buffer
				if err := a.Send(ctx, bytes.Repeat([]byte{byte(s)}, size)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range senders * each {
		m, err := b.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.Trim(m, string(m[:1]))) != 0 {
			t.Fatalf("message of %d bytes mixes senders", len(m))
		}
	}
	wg.Wait()
}

func TestPipeSendReturnsEncodeErrorsAndSendsNothing(t *testing.T) {
	a, b := newTestPipe[queueBadValue](t)
	ctx := context.Background()
	if err := a.Send(ctx, -1); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("Send(-1) = %v, want the encode error", err)
	}
	if err := a.Send(ctx, 13); err == nil || !strings.Contains(err.Error(), "unlucky") {
		t.Fatalf("Send(13) = %v, want the panic as an error", err)
	}
	a.Send(ctx, 14) // decodes with a panic
	a.Send(ctx, 5)
	if _, err := b.Recv(ctx); err == nil || !strings.Contains(err.Error(), "decode trap") {
		t.Fatalf("Recv of a message that panics while decoding: %v", err)
	}
	if v, err := b.Recv(ctx); err != nil || v != 5 {
		t.Fatalf("Recv after a bad message: %v, %v; want 5", v, err)
	}
}

func TestPipeRecvRejectsAnOversizedFrame(t *testing.T) {
	a, b := newTestPipe[string](t)
	pipeWriteRaw(a, binary.LittleEndian.AppendUint32(nil, MaxMessage+1))
	if _, err := b.Recv(context.Background()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Recv: %v, want ErrCorrupt", err)
	}
}

func TestPipeZeroConnIsClosed(t *testing.T) {
	var c Conn[int]
	ctx := context.Background()
	if err := c.Send(ctx, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Send: %v", err)
	}
	if _, err := c.Recv(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Recv: %v", err)
	}
	if _, err := c.MarshalBinary(); !errors.Is(err, ErrClosed) {
		t.Fatalf("MarshalBinary: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestPipeHandleReservesTheEndUntilDecodedHere(t *testing.T) {
	a, b := newTestPipe[int](t)
	ctx := context.Background()
	h, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send(ctx, 1); !errors.Is(err, ErrMoved) {
		t.Fatalf("Send on an end encoded for a worker: %v, want ErrMoved", err)
	}
	var wrong Conn[string]
	if err := wrong.UnmarshalBinary(h); !errors.Is(err, ErrType) {
		t.Fatalf("decoding a Conn[int] as Conn[string]: %v, want ErrType", err)
	}
	var q Queue[int]
	if err := q.UnmarshalBinary(h); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("decoding a conn handle as a queue: %v, want ErrCorrupt", err)
	}
	var back Conn[int]
	if err := back.UnmarshalBinary(h); err != nil {
		t.Fatal(err)
	}
	if err := back.Send(ctx, 7); err != nil {
		t.Fatalf("Send after decoding the handle in its own process: %v", err)
	}
	if v, err := a.Recv(ctx); err != nil || v != 7 {
		t.Fatalf("Recv = %v, %v", v, err)
	}
}

func TestPipeEndWithARecvRunningCannotBeHandedOver(t *testing.T) {
	a, b := newTestPipe[int](t)
	received := make(chan error)
	go func() {
		_, err := b.Recv(context.Background())
		received <- err
	}()
	// Wait until the Recv holds the end: then MarshalBinary must refuse.
	for b.e.rmu.TryLock() {
		b.e.rmu.Unlock()
	}
	if _, err := b.MarshalBinary(); err == nil || !strings.Contains(err.Error(), "Recv running") {
		t.Fatalf("MarshalBinary during a Recv: %v", err)
	}
	a.Send(context.Background(), 1)
	if err := <-received; err != nil {
		t.Fatal(err)
	}
}

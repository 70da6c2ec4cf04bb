package proc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
)

// quietPair returns two connected quietConns.
func quietPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	fa, fb, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	if a, err = fileConn(fa); err != nil {
		t.Fatal(err)
	}
	if b, err = fileConn(fb); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.(*quietConn); !ok {
		t.Fatalf("fileConn returned %T, want *quietConn", a)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestQuietConnCarriesMoreThanTheSocketBufferThenEOF(t *testing.T) {
	a, b := quietPair(t)
	// Far more than a socket buffer holds: the writer must wait in the
	// poller for the reader (EAGAIN), several times.
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<18)
	werr := make(chan error, 1)
	go func() {
		n, err := a.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		if err == nil {
			err = a.(*quietConn).CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(b) // stops at io.EOF
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("Write: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(want))
	}
	if n, err := b.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
}

func TestQuietConnReadEndsWhenClosed(t *testing.T) {
	_, b := quietPair(t)
	rerr := make(chan error, 1)
	go func() {
		_, err := b.Read(make([]byte, 16))
		rerr <- err
	}()
	b.Close() // the Read is parked in the poller, or starts after this
	if err := <-rerr; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed conn: %v, want net.ErrClosed", err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed conn: %v, want net.ErrClosed", err)
	}
}

func TestQuietConnWriteToClosedPeerFails(t *testing.T) {
	a, b := quietPair(t)
	b.Close()
	if _, err := a.Write([]byte("x")); err == nil {
		t.Fatal("Write to a socket whose peer closed succeeded")
	}
	if n, err := a.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
}

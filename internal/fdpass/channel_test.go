//go:build unix

package fdpass

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
)

// channelPair connects a Peer and this process's client over a socket
// pair, as proc connects a parent and a worker, and undoes it at the end.
func channelPair(t *testing.T) *Peer {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Serve(os.NewFile(uintptr(fds[0]), "parent"), os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if err := Connect(os.NewFile(uintptr(fds[1]), "child")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		client.mu.Lock()
		client.conn.Close()
		client.conn = nil
		client.mu.Unlock()
	})
	return p
}

func tempFile(t *testing.T, content string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "fdpass")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestRequestSendsTheExportedFiles(t *testing.T) {
	channelPair(t)
	a, b := tempFile(t, "first"), tempFile(t, "second")
	// The provider runs on the serving goroutine; the socket orders it
	// before the reply, but only channels tell the race detector so.
	peers, dones := make(chan *Peer, 1), make(chan bool, 2)
	tok := Export("obj", func(p *Peer) ([]*os.File, func(), error) {
		peers <- p
		return []*os.File{a, b}, func() { dones <- true }, nil
	})
	defer Unexport(tok)

	files, err := request(tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("got %d files, want 2", len(files))
	}
	for i, want := range []string{"first", "second"} {
		got, err := io.ReadAll(io.NewSectionReader(files[i], 0, 100))
		if err != nil || string(got) != want {
			t.Errorf("file %d reads %q, %v; want %q", i, got, err, want)
		}
		if files[i].Fd() == a.Fd() || files[i].Fd() == b.Fd() {
			t.Errorf("file %d is the exporter's descriptor, not a duplicate", i)
		}
		files[i].Close()
	}
	<-dones // done runs once, after the send
	if p := <-peers; p.PID() != os.Getpid() {
		t.Errorf("provider saw peer pid %d", p.PID())
	}
	if len(dones) != 0 {
		t.Error("done ran twice")
	}
}

func TestRequestErrors(t *testing.T) {
	channelPair(t)
	failing := Export(nil, func(*Peer) ([]*os.File, func(), error) {
		return nil, nil, errors.New("segment is closed")
	})
	defer Unexport(failing)
	if _, err := request(failing.ID); err == nil || err.Error() != "segment is closed" {
		t.Errorf("provider error came back as %v", err)
	}

	gone := Export(nil, func(*Peer) ([]*os.File, func(), error) { return nil, nil, nil })
	Unexport(gone)
	if _, err := request(gone.ID); !errors.Is(err, ErrUnknown) {
		t.Errorf("unexported token: %v, want ErrUnknown", err)
	}

	tooMany := Export(nil, func(*Peer) ([]*os.File, func(), error) {
		return make([]*os.File, maxFiles+1), nil, nil
	})
	defer Unexport(tooMany)
	if _, err := request(tooMany.ID); err == nil {
		t.Error("more than maxFiles files accepted")
	}
}

func TestPeerDoneWhenChildCloses(t *testing.T) {
	p := channelPair(t)
	client.mu.Lock()
	client.conn.Close()
	client.mu.Unlock()
	<-p.Done() // the serving goroutine saw EOF and returned
	if _, err := request(1); !errors.Is(err, ErrNoChannel) {
		t.Errorf("request on a closed channel: %v, want ErrNoChannel", err)
	}
}

func TestRequestWithoutChannel(t *testing.T) {
	if _, err := request(1); !errors.Is(err, ErrNoChannel) {
		t.Errorf("request with no channel: %v, want ErrNoChannel", err)
	}
}

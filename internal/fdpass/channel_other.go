//go:build !unix

package fdpass

import (
	"errors"
	"os"
)

// Peer is one child process connected to this one. Descriptor channels
// need Unix sockets; on this system Serve always fails.
type Peer struct{ done chan struct{} }

// Serve reports that descriptor passing is not supported here.
func Serve(conn *os.File, pid int) (*Peer, error) {
	conn.Close()
	return nil, errors.ErrUnsupported
}

// PID returns 0.
func (p *Peer) PID() int { return 0 }

// Done returns a closed channel.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Close does nothing.
func (p *Peer) Close() {}

// Connect reports that descriptor passing is not supported here.
func Connect(f *os.File) error {
	f.Close()
	return errors.ErrUnsupported
}

func request(uint64) ([]*os.File, error) { return nil, ErrNoChannel }

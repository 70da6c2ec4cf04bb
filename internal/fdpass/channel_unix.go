//go:build unix

package fdpass

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
)

// The channel protocol. A child sends a request, 8 bytes: the export ID.
// The parent answers
//
//	status  1 byte (replyOK, replyUnknown, replyError)
//	length  4 bytes, big endian: of the message that follows
//	message an error's text (empty when status is replyOK)
//
// with the files, if any, as SCM_RIGHTS on the same sendmsg. One request
// is outstanding at a time per child.
const (
	replyOK byte = iota
	replyUnknown
	replyError
)

// maxFiles bounds the files of one export, and so the control buffer.
const maxFiles = 16

// maxMessage bounds an error message on the channel.
const maxMessage = 4096

// Peer is one child process connected to this one through a descriptor
// channel, as proc connects each worker.
type Peer struct {
	pid  int
	conn *net.UnixConn
	done chan struct{} // closed when serve has returned
}

// Serve answers the requests of child pid on conn, the parent's end of
// its channel, until the child closes its end (it exited) or Close is
// called. It takes ownership of conn.
func Serve(conn *os.File, pid int) (*Peer, error) {
	c, err := net.FileConn(conn)
	conn.Close() // FileConn made its own descriptor
	if err != nil {
		return nil, fmt.Errorf("fdpass: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("fdpass: channel is a %T, not a Unix socket", c)
	}
	p := &Peer{pid: pid, conn: uc, done: make(chan struct{})}
	go p.serve()
	return p, nil
}

// PID returns the child's process id.
func (p *Peer) PID() int { return p.pid }

// Done returns a channel closed when the child's channel has ended: the
// child exited, or Close was called.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Close stops serving and waits until the serving goroutine has returned.
// It is idempotent.
func (p *Peer) Close() {
	p.conn.Close()
	<-p.done
}

func (p *Peer) serve() {
	defer close(p.done)
	defer p.conn.Close()
	var req [8]byte
	for {
		if _, err := io.ReadFull(p.conn, req[:]); err != nil {
			return // the child exited or Close was called
		}
		if err := p.answer(binary.BigEndian.Uint64(req[:])); err != nil {
			return
		}
	}
}

// answer sends the files of export id, or why there are none.
func (p *Peer) answer(id uint64) error {
	e := lookup(id)
	if e == nil {
		return p.reply(replyUnknown, "", nil)
	}
	files, done, err := e.give(p)
	if done != nil {
		defer done()
	}
	switch {
	case err != nil:
		return p.reply(replyError, err.Error(), nil)
	case len(files) > maxFiles:
		return p.reply(replyError, fmt.Sprintf("fdpass: %d files in one handle, at most %d", len(files), maxFiles), nil)
	}
	fds := make([]int, len(files))
	for i, f := range files {
		fds[i] = int(f.Fd())
	}
	return p.reply(replyOK, "", fds)
}

func (p *Peer) reply(status byte, msg string, fds []int) error {
	msg = msg[:min(len(msg), maxMessage)]
	b := make([]byte, 5, 5+len(msg))
	b[0] = status
	binary.BigEndian.PutUint32(b[1:], uint32(len(msg)))
	b = append(b, msg...)
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	_, _, err := p.conn.WriteMsgUnix(b, oob, nil)
	return err
}

// client is this process's channel to its parent, set by Connect.
var client struct {
	mu   sync.Mutex // serializes requests; guards conn
	conn *net.UnixConn
}

// Connect makes f, the child's end of a channel whose other end the
// parent serves, this process's way to attach its parent's exports. proc
// calls it in every worker. It takes ownership of f.
func Connect(f *os.File) error {
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("fdpass: %w", err)
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return fmt.Errorf("fdpass: channel is a %T, not a Unix socket", c)
	}
	client.mu.Lock()
	defer client.mu.Unlock()
	if client.conn != nil {
		client.conn.Close()
	}
	client.conn = uc
	return nil
}

// request asks the parent for the files of export id.
func request(id uint64) ([]*os.File, error) {
	client.mu.Lock()
	defer client.mu.Unlock()
	if client.conn == nil {
		return nil, ErrNoChannel
	}
	if _, err := client.conn.Write(binary.BigEndian.AppendUint64(nil, id)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChannel, err)
	}
	buf := make([]byte, 5+maxMessage)
	oob := make([]byte, syscall.CmsgSpace(maxFiles*4))
	n, oobn, _, _, err := client.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoChannel, err)
	}
	files, ferr := parseRights(oob[:oobn])
	// The header and message may arrive in pieces; files come with the
	// first byte only.
	for n < 5 || n < 5+int(binary.BigEndian.Uint32(buf[1:5])) {
		if n >= 5 && 5+int(binary.BigEndian.Uint32(buf[1:5])) > len(buf) {
			closeAll(files)
			return nil, ErrCorrupt
		}
		m, err := client.conn.Read(buf[n:])
		if err != nil {
			closeAll(files)
			return nil, fmt.Errorf("%w: %w", ErrNoChannel, err)
		}
		n += m
	}
	if ferr != nil {
		closeAll(files)
		return nil, ferr
	}
	msg := string(buf[5 : 5+binary.BigEndian.Uint32(buf[1:5])])
	switch buf[0] {
	case replyOK:
		return files, nil
	case replyUnknown:
		closeAll(files)
		return nil, ErrUnknown
	case replyError:
		closeAll(files)
		return nil, errors.New(msg)
	}
	closeAll(files)
	return nil, fmt.Errorf("%w: reply status %d", ErrCorrupt, buf[0])
}

// parseRights turns the SCM_RIGHTS of a control message into files.
func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	var files []*os.File
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "skein-passed"))
		}
	}
	return files, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

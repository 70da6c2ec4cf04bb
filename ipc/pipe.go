package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/fdpass"
)

// MaxMessage is the largest encoded value a Conn carries, in bytes. A
// bigger one fails Send with ErrTooLarge; a frame announcing a bigger one
// fails Recv with ErrCorrupt.
const MaxMessage = 1 << 30

// ErrMoved is returned by the methods of a Conn whose end was handed to a
// proc worker: the end now belongs to that process (see Conn).
var ErrMoved = errors.New("ipc: pipe end moved to another process")

// Conn is one end of a Pipe: a typed, duplex, message-oriented connection
// to the process holding the other end, Python's multiprocessing
// Connection. Send and Recv are safe for concurrent use (sends are
// serialized, and so are receives); messages arrive whole, in the order
// they were sent.
//
// # Handing an end to a worker
//
// A *Conn[T] (alone or inside a struct) can be a proc task's argument.
// Passing an end MOVES it: once the worker has received it, this
// process's copy is closed, and its methods here return ErrMoved. That is
// what makes Recv on the other end report io.EOF when the worker exits or
// dies: no other process still holds the worker's end. (Python's
// Connection is duplicated instead, and a receiver whose peer died waits
// forever if its own process still holds the peer's end.) An end can move
// once; a second worker asking for it fails to decode its argument. From
// the moment MarshalBinary is called the end is reserved for the worker:
// do not use it here any more.
//
// The zero Conn is not usable; make ends with Pipe.
type Conn[T any] struct {
	e *end
	c *codec.Codec[T]
}

// end is the untyped state of a Conn: the socket and its buffers. One end
// per socket per process; every Conn handle for it points here.
type end struct {
	s *sock // the socket; its methods are safe for concurrent use

	rmu  sync.Mutex // one Recv at a time; guards rbuf, r, w
	rbuf []byte     // received bytes: rbuf[r:w] not yet consumed
	r, w int

	wmu    sync.Mutex // one Send at a time; guards broken
	broken bool       // a cancelled Send left a partial frame: no more sends

	mu       sync.Mutex // guards the fields below
	closed   bool       // Close was called
	token    fdpass.Token
	exported bool // MarshalBinary reserved the end for a worker
	movedTo  int  // pid the end was sent to, 0 if not sent
}

// errEOF is the socket's end of stream.
var errEOF = io.EOF

// Read buffer sizes: a Recv reads up to readBufSize at once, so small
// messages sent in a burst cost one system call for many; a buffer grown
// for big messages is kept up to keepBufSize.
const (
	readBufSize = 256 << 10
	keepBufSize = 4 << 20
	frameHeader = 4 // bytes of a frame's little-endian length
)

// Pipe returns the two ends of a new connection between processes. Keep
// one and hand the other to a proc worker (see Conn), or hand both to two
// workers. Each end must be closed (or moved) by its holder. It fails
// with the codec's error when T cannot cross a process boundary, and
// with errors.ErrUnsupported where Unix sockets are missing.
func Pipe[T any]() (*Conn[T], *Conn[T], error) {
	c, err := codec.For[T]()
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: pipe: %w", err)
	}
	a, b, err := socketPair()
	if err != nil {
		return nil, nil, err
	}
	ea, err := newEnd(a)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	eb, err := newEnd(b)
	if err != nil {
		ea.close()
		return nil, nil, err
	}
	return &Conn[T]{e: ea, c: c}, &Conn[T]{e: eb, c: c}, nil
}

// newEnd wraps f, a connected Unix stream socket, taking it over.
func newEnd(f *os.File) (*end, error) {
	s, err := newSock(f)
	if err != nil {
		return nil, fmt.Errorf("ipc: pipe: %w", err)
	}
	return &end{s: s}, nil
}

// Send sends v to the other end. v is encoded first: an encoding error, or
// an encoding bigger than MaxMessage (ErrTooLarge), is Send's error and
// nothing is sent. Send waits while the socket's buffer is full, until
// ctx ends (checked before anything else). It returns an error wrapping
// io.ErrClosedPipe when the other end is closed or its process died,
// ErrClosed after Close, ErrMoved once the end was handed to a worker.
//
// A Send that ctx interrupts after part of the message went out has
// broken the stream: the end is shut for writing (the other end's Recv
// reports io.ErrUnexpectedEOF) and later Sends fail with ErrClosed.
func (c *Conn[T]) Send(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.e == nil {
		return ErrClosed
	}
	buf := newBuffer()
	defer freeBuffer(buf)
	b, err := c.encodeFrame(append((*buf)[:0], 0, 0, 0, 0), v)
	*buf = b
	if err != nil {
		return err
	}
	return c.e.send(ctx, b)
}

// encodeFrame appends v's encoding to b (which holds a frame header's
// room) and fills in the header.
func (c *Conn[T]) encodeFrame(b []byte, v T) (_ []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ipc: encode %v: panic: %v", c.c.Type(), p)
		}
	}()
	b, err = c.c.Append(b, v)
	if err != nil {
		return b, fmt.Errorf("ipc: encode %v: %w", c.c.Type(), err)
	}
	n := len(b) - frameHeader
	if n > MaxMessage {
		return b, fmt.Errorf("%w: %v of %d bytes encoded, more than MaxMessage", ErrTooLarge, c.c.Type(), n)
	}
	binary.LittleEndian.PutUint32(b, uint32(n))
	return b, nil
}

// Recv waits for the next message and returns it. It returns io.EOF once
// the other end was closed, or its process exited or died, and every
// message sent before that has been received; io.ErrUnexpectedEOF if the
// stream ended inside a message; an error wrapping ErrCorrupt for a
// malformed frame, or the decoding error of a message that arrived whole
// (the stream stays usable); ctx.Err() if ctx ends first (checked before
// anything else: no partial message is lost, the next Recv goes on with
// it); ErrClosed after Close; ErrMoved once the end was handed to a
// worker.
func (c *Conn[T]) Recv(ctx context.Context) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if c.e == nil {
		return zero, ErrClosed
	}
	e := c.e
	e.rmu.Lock()
	defer e.rmu.Unlock()
	msg, err := e.next(ctx)
	if err != nil {
		return zero, err
	}
	return c.decode(msg)
}

// Poll reports whether Recv can return without waiting: Python's
// Connection.poll(timeout), with ctx as the timeout. It returns true at
// once when a whole message has arrived, and also when Recv would return
// an error without waiting (chiefly io.EOF once the other end is closed
// or its process died, as Python's poll returns True before recv raises
// EOFError). Otherwise it waits until one of those holds, or until ctx
// ends: then it returns false and a nil error, since running out of time
// is the answer to the question, not a failure (poll(timeout) returns
// False). A ctx that is already done makes Poll look once without
// waiting, which is Python's poll() with no timeout; pass
// context.Background() for poll(None). Poll consumes nothing: the next
// Recv returns the message Poll saw. Its errors are ErrClosed after Close
// (also while it waits) and ErrMoved once the end was handed to a worker.
//
// Poll and Recv on one end take turns: a Poll waits for a running Recv
// to return, and a Recv waits for a waiting Poll, whatever its own ctx.
// As in Python, where a Connection must not be read from two threads,
// Poll then Recv is meant for the one goroutine that receives on the end:
// with several receivers, the message a Poll saw may go to another's
// Recv.
func (c *Conn[T]) Poll(ctx context.Context) (bool, error) {
	if c.e == nil {
		return false, ErrClosed
	}
	e := c.e
	e.rmu.Lock()
	defer e.rmu.Unlock()
	return e.poll(ctx)
}

// decode decodes one message, turning a panic of the type's own methods
// into an error.
func (c *Conn[T]) decode(msg []byte) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ipc: decode %v: panic: %v", c.c.Type(), p)
		}
	}()
	v, err = c.c.Decode(msg)
	if err != nil {
		return v, fmt.Errorf("ipc: decode %v: %w", c.c.Type(), err)
	}
	return v, nil
}

// Close closes this end: the other end's Recv reports io.EOF once it has
// received what was sent before, and its Send fails. Calls blocked in
// Send or Recv on this end return ErrClosed. Close is idempotent.
//
// On an end handed to a worker (MarshalBinary was called), Close only
// ends this process's claim: an end the worker has not fetched yet stays
// open until it has, as in Python, where a parent closes its copy of the
// child's end right after starting the child.
func (c *Conn[T]) Close() error {
	if c.e == nil {
		return nil
	}
	return c.e.close()
}

// MarshalBinary encodes a handle to this end, so that *Conn[T] (or a
// struct holding one) can be a proc task's argument, and reserves the end
// for the worker that decodes it (see Conn: the end moves). The bytes are
// meaningful only to this process and the proc workers it starts. It fails
// with ErrClosed after Close, ErrMoved once a worker has taken the end, and
// while a Send or Recv on the end is running in this process. Encoding an
// end again before a worker took it gives the same bytes: the first worker
// to decode them gets the end, any other fails to decode.
func (c *Conn[T]) MarshalBinary() ([]byte, error) {
	if c.e == nil {
		return nil, ErrClosed
	}
	tok, err := c.e.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, kindConn, tok, c.c), nil
}

// UnmarshalBinary makes c the end that MarshalBinary encoded: in a worker,
// the end moved from its parent (once per process: every handle decoded
// for it there is the same end). Errors: ErrCorrupt for bytes that are no
// conn handle, ErrType for an end of another element type, and fdpass's
// errors for a handle that did not come from this process or its parent,
// or whose end was closed or already moved elsewhere.
func (c *Conn[T]) UnmarshalBinary(b []byte) error {
	cd, err := codec.For[T]()
	if err != nil {
		return fmt.Errorf("ipc: decode pipe end: %w", err)
	}
	tok, err := parseHandle(b, kindConn, cd)
	if err != nil {
		return err
	}
	e, err := fdpass.Attach(tok, func(files []*os.File) (*end, error) {
		if len(files) != 1 {
			closeAll(files)
			return nil, fmt.Errorf("%w: pipe end handle with %d files", ErrCorrupt, len(files))
		}
		return newEnd(files[0])
	})
	if err != nil {
		return fmt.Errorf("ipc: attach pipe end: %w", err)
	}
	e.reclaim()
	c.e, c.c = e, cd
	return nil
}

// usable reports why the end cannot be used here, if it cannot.
func (e *end) usable() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return ErrClosed
	case e.movedTo != 0:
		return fmt.Errorf("%w (pid %d)", ErrMoved, e.movedTo)
	case e.exported:
		return fmt.Errorf("%w: it was encoded for a worker", ErrMoved)
	}
	return nil
}

// send writes one whole frame.
func (e *end) send(ctx context.Context, frame []byte) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if err := e.usable(); err != nil {
		return err
	}
	if e.broken {
		return fmt.Errorf("%w: a cancelled Send broke the stream", ErrClosed)
	}
	for sent := 0; ; {
		n, err := e.s.write(frame[sent:])
		sent += n
		if sent == len(frame) {
			return nil
		}
		if err == errAgain {
			err = e.s.wait(ctx, true)
		}
		if err == nil {
			continue
		}
		if sent > 0 {
			// The peer has part of a frame: nothing sent later can be
			// framed correctly, so end the stream where it broke.
			e.broken = true
			e.s.shutdownWrite()
		}
		return e.ioError(ctx, "send", err)
	}
}

// next returns the payload of the next frame, valid until the next call.
// The caller holds rmu.
func (e *end) next(ctx context.Context) ([]byte, error) {
	if err := e.usable(); err != nil {
		return nil, err
	}
	for {
		n, whole, err := e.pending()
		if err != nil {
			return nil, err
		}
		if whole {
			msg := e.rbuf[e.r+frameHeader : e.r+frameHeader+n]
			e.r += frameHeader + n
			return msg, nil
		}
		err = e.readMore(ctx, n)
		if err == nil {
			continue
		}
		if uerr := e.usable(); uerr != nil {
			return nil, uerr
		}
		if isPeerGone(err) {
			if e.w > e.r {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, io.EOF
		}
		return nil, e.ioError(ctx, "recv", err)
	}
}

// poll waits until next can return without waiting: a whole frame is
// buffered, or reading met the end of the stream or an error (which next
// will report). It returns false, nil when ctx ends first; a done ctx
// makes it look once without waiting. The caller holds rmu.
func (e *end) poll(ctx context.Context) (bool, error) {
	if err := e.usable(); err != nil {
		return false, err
	}
	for {
		n, whole, err := e.pending()
		if whole || err != nil {
			return true, nil // a message, or a corrupt frame that Recv reports
		}
		err = e.readMore(ctx, n)
		if err == nil {
			continue
		}
		if uerr := e.usable(); uerr != nil {
			return false, uerr
		}
		if cerr := ctx.Err(); cerr != nil && err == cerr {
			return false, nil
		}
		return true, nil // the end of the stream, or an error: Recv returns it at once
	}
}

// pending reports the payload length n of the frame at r (0 while its
// header is incomplete) and whether all of it is buffered; an error for
// a header announcing more than MaxMessage. The caller holds rmu.
func (e *end) pending() (n int, whole bool, err error) {
	avail := e.w - e.r
	if avail < frameHeader {
		return 0, false, nil
	}
	n = int(binary.LittleEndian.Uint32(e.rbuf[e.r:]))
	if n > MaxMessage {
		return 0, false, fmt.Errorf("%w: frame of %d bytes, more than MaxMessage", ErrCorrupt, n)
	}
	return n, avail >= frameHeader+n, nil
}

// readMore reads what the socket holds towards a frame of n payload
// bytes at r, waiting (until ctx ends) if it holds nothing. A nil error
// means that the caller should look at the buffer again; any other is
// the socket's, or ctx.Err(). The caller holds rmu.
func (e *end) readMore(ctx context.Context, n int) error {
	e.makeRoom(frameHeader + n)
	k, err := e.s.read(e.rbuf[e.w:])
	e.w += k
	if err == errAgain {
		err = e.s.wait(ctx, false)
	}
	return err
}

// makeRoom makes room in rbuf to read more of a frame of need bytes
// (header included) that starts at r: it moves the unread bytes to the
// front, and doubles the buffer when it is full and the frame needs more.
func (e *end) makeRoom(need int) {
	if e.r == e.w && cap(e.rbuf) > keepBufSize && need <= readBufSize {
		e.rbuf = nil // drop the buffer a big message needed
	}
	if e.rbuf == nil {
		e.rbuf = make([]byte, readBufSize)
		e.r, e.w = 0, 0
	}
	if e.r > 0 && (len(e.rbuf)-e.r < need || e.w == len(e.rbuf)) {
		e.w = copy(e.rbuf, e.rbuf[e.r:e.w])
		e.r = 0
	}
	if len(e.rbuf) < need && e.w == len(e.rbuf) {
		// Grow with the bytes that arrive, not with the length the frame
		// announces: a frame's header alone must not cost a gigabyte.
		grown := make([]byte, min(need, 2*len(e.rbuf)))
		e.w = copy(grown, e.rbuf[e.r:e.w])
		e.r = 0
		e.rbuf = grown
	}
}

// ioError turns a socket error into Send's or Recv's error.
func (e *end) ioError(ctx context.Context, op string, err error) error {
	if uerr := e.usable(); uerr != nil {
		return uerr
	}
	if cerr := ctx.Err(); cerr != nil && err == cerr {
		return err
	}
	if op == "send" && isPeerGone(err) {
		return fmt.Errorf("ipc: send: the other end is closed: %w", io.ErrClosedPipe)
	}
	return fmt.Errorf("ipc: %s: %w", op, err)
}

// isPeerGone reports whether err means that the other end is closed: an
// end of stream, or a reset (Linux resets a Unix stream whose peer closed
// with data unread).
func isPeerGone(err error) bool {
	return err == errEOF || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// close ends this process's use of the end. The socket is closed now,
// unless the end is reserved for a worker that has not received it yet:
// then it is closed right after the handover, as Python programs close
// their copy of a child's end right after starting the child.
func (e *end) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if e.movedTo != 0 {
		fdpass.Unexport(e.token) // the socket was closed when it moved
		return nil
	}
	if e.exported {
		return nil
	}
	// Wake the calls blocked on the socket (they see closed and return
	// ErrClosed), then close it once none is left inside.
	e.s.shutdown()
	e.mu.Unlock()
	e.rmu.Lock()
	e.wmu.Lock()
	err := e.s.close()
	e.wmu.Unlock()
	e.rmu.Unlock()
	e.mu.Lock()
	if err != nil {
		return fmt.Errorf("ipc: close pipe end: %w", err)
	}
	return nil
}

// export reserves the end for a worker and returns its token.
func (e *end) export() (fdpass.Token, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		return fdpass.Token{}, ErrClosed
	case e.movedTo != 0:
		return fdpass.Token{}, fmt.Errorf("%w (pid %d)", ErrMoved, e.movedTo)
	}
	if !e.exported {
		// A Send or Recv running here would go on with a socket that
		// is about to move: refuse. Calls that start later see
		// exported and return ErrMoved.
		if !e.rmu.TryLock() {
			return fdpass.Token{}, errors.New("ipc: pipe end has a Recv running in this process: it cannot be handed to a worker")
		}
		defer e.rmu.Unlock()
		if !e.wmu.TryLock() {
			return fdpass.Token{}, errors.New("ipc: pipe end has a Send running in this process: it cannot be handed to a worker")
		}
		defer e.wmu.Unlock()
		e.token = fdpass.Export(e, e.provide)
		e.exported = true
	}
	return e.token, nil
}

// reclaim undoes export when a handle is decoded in the process that
// encoded it: the end stays here, usable.
func (e *end) reclaim() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exported && e.movedTo == 0 && e.token.PID == os.Getpid() {
		fdpass.Unexport(e.token)
		e.exported = false
	}
}

// provide is the end's fdpass.Provider: a duplicate of the socket, once;
// after the send, this process's copy is closed.
func (e *end) provide(peer *fdpass.Peer) ([]*os.File, func(), error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.movedTo != 0 {
		return nil, nil, fmt.Errorf("%w: already sent to pid %d", ErrMoved, e.movedTo)
	}
	f, err := e.s.dup()
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: hand over pipe end: %w", err)
	}
	e.movedTo = peer.PID()
	done := func() {
		f.Close()
		// No other goroutine uses the socket any more (usable refuses
		// since MarshalBinary), so it can be closed at once; and without
		// a shutdown, which would end the worker's copy too.
		e.s.close()
	}
	return []*os.File{f}, done, nil
}

// Package wire is the task/result protocol between a skein parent and its
// worker processes, and the framing that carries it over a byte stream.
//
// The protocol is transport independent: every message is self-contained
// (no state carried from one message to the next), so the same Task,
// Cancel and Result messages can travel over a socket pair (proc) or a
// message bus (a cluster backend) unchanged. Values inside them are opaque
// bytes produced by internal/codec; the wire never carries code, only the
// name of a function the receiving binary registered itself.
//
// A frame on a stream is
//
//	length  uint32, big endian: the bytes that follow (kind + payload)
//	kind    one byte (Kind)
//	payload the message (see each type's AppendPayload)
//
// Frames are bounded: a Reader rejects a length over its limit before
// allocating anything, so a corrupt or hostile peer costs an error, not
// the reader's memory.
package wire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Version is the protocol version exchanged in Hello; peers with different
// versions refuse each other.
const Version = 1

// DefaultMaxFrame is the frame size limit used when none is configured.
const DefaultMaxFrame = 64 << 20

// headerLen is the length prefix plus the kind byte.
const headerLen = 5

// Kind identifies a message type.
type Kind uint8

// The message kinds.
const (
	KindHello    Kind = iota + 1 // worker → parent, first frame
	KindSetup                    // parent → worker, answer to Hello
	KindReady                    // worker → parent, after the initializer ran
	KindTask                     // parent → worker
	KindCancel                   // parent → worker
	KindResult                   // worker → parent
	KindProgress                 // worker → parent
	kindEnd
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindHello:
		return "hello"
	case KindSetup:
		return "setup"
	case KindReady:
		return "ready"
	case KindTask:
		return "task"
	case KindCancel:
		return "cancel"
	case KindResult:
		return "result"
	case KindProgress:
		return "progress"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ErrCorrupt is wrapped by every error reporting a malformed frame or
// message.
var ErrCorrupt = errors.New("wire: corrupt frame")

// ErrTooLarge is wrapped by the error for a frame over the size limit.
var ErrTooLarge = errors.New("wire: frame too large")

// Message is a protocol message: it knows its kind and how to write and
// read its payload.
type Message interface {
	Kind() Kind
	// AppendPayload appends the message's encoding to dst.
	AppendPayload(dst []byte) []byte
	// ParsePayload sets the message from b, which it may alias (byte
	// fields point into b). It validates the whole payload: a nil error
	// means every accessor of the message succeeds.
	ParsePayload(b []byte) error
}

// AppendFrame appends m as one frame to dst.
func AppendFrame(dst []byte, m Message) []byte {
	dst, start := BeginFrame(dst, m.Kind())
	return EndFrame(m.AppendPayload(dst), start)
}

// BeginFrame starts a frame of kind k at the end of dst; append the
// payload, then call EndFrame with the returned start. (AppendFrame does
// all three; calling a concrete message's AppendPayload in between keeps
// the message off the heap.)
func BeginFrame(dst []byte, k Kind) ([]byte, int) {
	return append(dst, 0, 0, 0, 0, byte(k)), len(dst)
}

// EndFrame completes the frame begun at start.
func EndFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// CheckSize returns an error wrapping ErrTooLarge when a frame of n bytes
// (header included) exceeds max.
func CheckSize(n, max int) error {
	if n > max {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, max)
	}
	return nil
}

// keepBuffer is the largest frame whose buffer a Reader keeps for reuse.
const keepBuffer = 1 << 20

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r   *bufio.Reader
	max int
	buf []byte
	hdr [headerLen]byte // a field: on Next's stack it would escape through io.ReadFull
}

// NewReader returns a Reader of frames up to max bytes (header included)
// from r.
func NewReader(r io.Reader, max int) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next frame's kind and payload. The payload is valid
// until the following call to Next. At a clean end of stream it returns
// io.EOF; a stream that ends inside a frame yields io.ErrUnexpectedEOF; a
// length over the limit an error wrapping ErrTooLarge; an empty frame or an
// unknown kind one wrapping ErrCorrupt.
func (r *Reader) Next() (Kind, []byte, error) {
	if _, err := io.ReadFull(r.r, r.hdr[:4]); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(r.hdr[:4]))
	if n == 0 {
		return 0, nil, fmt.Errorf("%w: empty frame", ErrCorrupt)
	}
	if err := CheckSize(4+n, r.max); err != nil {
		return 0, nil, err
	}
	var b []byte
	switch {
	case n > keepBuffer:
		b = make([]byte, n) // a rare big frame: do not hold on to its memory
	case cap(r.buf) < n:
		r.buf = make([]byte, max(n, 4<<10))
		fallthrough
	default:
		b = r.buf[:n]
	}
	if _, err := io.ReadFull(r.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	k := Kind(b[0])
	if k == 0 || k >= kindEnd {
		return 0, nil, fmt.Errorf("%w: unknown kind %d", ErrCorrupt, b[0])
	}
	return k, b[1:], nil
}

package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"reflect"
	"sync"

	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/fdpass"
)

// Errors of the package. Compare with errors.Is.
var (
	// ErrClosed is returned by Put and TryPut on a closed queue, by Get and
	// TryGet on a closed queue that has been drained, and by the methods
	// of a Conn closed in this process.
	ErrClosed = errors.New("ipc: closed")
	// ErrFull is returned by TryPut when the queue has no room.
	ErrFull = errors.New("ipc: queue full")
	// ErrEmpty is returned by TryGet when the queue holds no item.
	ErrEmpty = errors.New("ipc: queue empty")
	// ErrTooManyTaskDone is returned by TaskDone when it is called more
	// times than items were put (Python raises ValueError there).
	ErrTooManyTaskDone = errors.New("ipc: TaskDone called more times than items were put")
	// ErrTooLarge is wrapped by the error of a Put or Send whose encoded
	// value can never fit: bigger than the queue's buffer, or than
	// MaxMessage on a Conn.
	ErrTooLarge = errors.New("ipc: message too large")
	// ErrCorrupt is wrapped by the error for malformed bytes from another
	// process: a queue segment whose header or records make no sense, a
	// frame on a Conn, or handle bytes given to UnmarshalBinary.
	ErrCorrupt = errors.New("ipc: corrupt data")
	// ErrType is wrapped by the error of UnmarshalBinary for a handle made
	// for another element type (a Queue[int] decoded as a Queue[string]).
	ErrType = errors.New("ipc: handle of another element type")
	// ErrReleased is returned by every method of a Queue after Release in
	// this process, and by a zero Queue.
	ErrReleased = errors.New("ipc: queue released in this process")
	// ErrInvalidOption is wrapped by NewQueue's error for an option that
	// makes no sense.
	ErrInvalidOption = errors.New("ipc: invalid option")
)

// DefaultBufferSize is the buffer of a Queue made without WithBufferSize:
// 1 MiB, room for about 15,000 small items or 15 of 64 KiB.
const DefaultBufferSize = 1 << 20

// Queue is a FIFO queue of values of type T shared by processes: Python's
// multiprocessing.JoinableQueue, typed. Any number of producers and
// consumers, in the process that made it and in the proc workers it was
// handed to, use it at once; its methods are safe for concurrent use by
// goroutines too. Items put by one producer come out in the order it put
// them.
//
// Make one with NewQueue; hand it to a worker as a task argument (see
// MarshalBinary). The zero Queue is not usable: its methods return
// ErrReleased.
type Queue[T any] struct {
	r *ring
	c *codec.Codec[T]
}

// QueueOption configures NewQueue.
type QueueOption func(*queueConfig) error

type queueConfig struct {
	capacity   int // 0: no item limit
	bufferSize int
}

// WithCapacity bounds the queue to n items, Python's maxsize: Put waits
// and TryPut fails with ErrFull while n items are queued. n must be at
// least 1. Default: no item limit; the buffer's bytes are the only bound.
func WithCapacity(n int) QueueOption {
	return func(c *queueConfig) error {
		if n < 1 || n > maxBufferSize/recordHeader {
			return fmt.Errorf("%w: capacity %d, want 1 to %d items", ErrInvalidOption, n, maxBufferSize/recordHeader)
		}
		c.capacity = n
		return nil
	}
}

// WithBufferSize sets the size in bytes of the shared buffer that holds
// the queued items: Put waits while it is full. Each item takes its
// encoded size plus 4 bytes, and an item bigger than the whole buffer is
// refused by Put with ErrTooLarge. n must be between 64 bytes and 1 GiB.
// Default: DefaultBufferSize.
func WithBufferSize(n int) QueueOption {
	return func(c *queueConfig) error {
		if n < minBufferSize || n > maxBufferSize {
			return fmt.Errorf("%w: buffer size %d, want %d to %d bytes", ErrInvalidOption, n, minBufferSize, maxBufferSize)
		}
		c.bufferSize = n
		return nil
	}
}

// NewQueue makes an empty, open queue of T in a new shared memory
// segment. It fails with an error wrapping ErrInvalidOption for a bad
// option, with the codec's error when T cannot cross a process boundary
// (it holds channels or functions), and with errors.ErrUnsupported where
// shared memory is not available (Linux only for now).
//
// The segment lives until every process using the queue has released it
// or exited: call Release when this process is done with the queue.
func NewQueue[T any](opts ...QueueOption) (*Queue[T], error) {
	cfg := queueConfig{bufferSize: DefaultBufferSize}
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	c, err := codec.For[T]()
	if err != nil {
		return nil, fmt.Errorf("ipc: new queue: %w", err)
	}
	r, err := newRing(uint32(cfg.bufferSize), uint32(cfg.capacity), fingerprint(c))
	if err != nil {
		return nil, err
	}
	return &Queue[T]{r: r, c: c}, nil
}

// Put adds v to the queue, waiting while it is full. v is encoded first,
// in the caller: an error encoding it is Put's error, and a value whose
// encoding can never fit in the buffer fails with ErrTooLarge; neither
// touches the queue. Put returns nil once v is queued, ErrClosed if the
// queue is or becomes closed first, ctx.Err() if ctx is done first
// (checked before anything else). A Put that returns an error did not
// queue v.
func (q *Queue[T]) Put(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	buf, err := q.encode(v)
	if err == nil {
		err = q.r.put(ctx, *buf)
	}
	freeBuffer(buf)
	return err
}

// TryPut adds v if there is room now, without waiting. It fails like Put,
// and with ErrFull when the queue has no room.
func (q *Queue[T]) TryPut(v T) error {
	buf, err := q.encode(v)
	if err == nil {
		err = q.r.tryPut(*buf)
	}
	freeBuffer(buf)
	return err
}

// Get removes and returns the next item, waiting while the queue is
// empty. On a closed queue it returns the remaining items and then
// ErrClosed. It returns ctx.Err() if ctx is done first (checked before
// anything else).
//
// The item leaves the queue at one instant, with the lock held, just
// before Get returns: a consumer killed before that leaves it for the
// others, one killed after it took the item with it. An item that cannot
// be decoded (a bug in a type's own UnmarshalBinary, or a queue of another
// program) is removed and reported as Get's error.
func (q *Queue[T]) Get(ctx context.Context) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if q.r == nil {
		return zero, ErrReleased
	}
	buf := newBuffer()
	b, err := q.r.get(ctx, (*buf)[:0])
	v, err := q.decode(b, err)
	*buf = b
	freeBuffer(buf)
	return v, err
}

// TryGet removes and returns the next item if there is one, without
// waiting. It returns ErrEmpty if the queue is empty and open, ErrClosed
// if it is empty and closed.
func (q *Queue[T]) TryGet() (T, error) {
	if q.r == nil {
		var zero T
		return zero, ErrReleased
	}
	buf := newBuffer()
	b, err := q.r.tryGet((*buf)[:0])
	v, err := q.decode(b, err)
	*buf = b
	freeBuffer(buf)
	return v, err
}

// Close closes the queue for every process that uses it: later Put and
// TryPut calls anywhere fail with ErrClosed, and so do Puts waiting for
// room. Queued items stay: Get returns them, and only then ErrClosed, in
// every process; Gets waiting on an empty queue wake with ErrClosed.
// TaskDone and Join work as before. Close does not release this
// process's resources (that is Release). It is idempotent and may be
// called by any process.
func (q *Queue[T]) Close() error {
	if q.r == nil {
		return ErrReleased
	}
	return q.r.close()
}

// TaskDone marks one item taken from the queue as processed, in any
// process. Join calls return once every item ever put has been marked. It
// returns ErrTooManyTaskDone, and changes nothing, when called more times
// than items were put.
func (q *Queue[T]) TaskDone() error {
	if q.r == nil {
		return ErrReleased
	}
	return q.r.taskDone()
}

// Join waits until every item ever put has been marked with TaskDone, by
// any process. It returns nil then, or ctx.Err() if ctx is done first
// (checked before anything else). Closing the queue does not release
// Join.
//
// A consumer that dies after Get returned an item and before it called
// TaskDone leaves that item unfinished for good: Join then waits until its
// ctx ends (it never hangs past it). Give Join a deadline when consumers
// may die, and count what was done some other way if it matters.
func (q *Queue[T]) Join(ctx context.Context) error {
	if q.r == nil {
		return ErrReleased
	}
	return q.r.join(ctx)
}

// Len returns the number of queued items, Python's qsize. Other processes
// may change it as soon as it is returned.
func (q *Queue[T]) Len() int {
	if q.r == nil {
		return 0
	}
	return q.r.len()
}

// Cap returns the item limit set with WithCapacity, or 0 when only the
// buffer's size bounds the queue.
func (q *Queue[T]) Cap() int {
	if q.r == nil {
		return 0
	}
	return int(q.r.capacity)
}

// Release ends this process's use of the queue, without closing it for
// anyone else: it closes this process's descriptor of the shared segment
// and, in the process that made the queue, stops handing it to workers
// (tasks submitted later with it as an argument fail to decode it; workers
// that have it keep it). Afterwards every method of every handle of this
// queue in this process that returns an error returns ErrReleased (Len
// and Cap still read the shared counts, which stay mapped). The memory goes back to the
// system once every process has released the queue or exited. Release is
// idempotent.
//
// Release applies to the whole process: in a worker, handles that later
// tasks receive for the same queue are released too. A worker need not
// call it; its handles go when it exits.
func (q *Queue[T]) Release() error {
	if q.r == nil {
		return nil
	}
	return q.r.release()
}

// Handle bytes: version, kind, the fdpass token, the type's fingerprint
// and its name (for the error message of a mismatch).
const (
	handleVersion = 1
	kindQueue     = 'Q'
	kindConn      = 'C'
)

// MarshalBinary encodes a handle to q, so that *Queue[T] (or a struct
// holding one) can be a proc task's argument: the worker's UnmarshalBinary
// attaches the same queue. The bytes are meaningful only to this process
// and the proc workers it starts (and theirs): they name the queue through
// this process, not its contents. It fails with ErrReleased after Release.
func (q *Queue[T]) MarshalBinary() ([]byte, error) {
	if q.r == nil {
		return nil, ErrReleased
	}
	tok, err := q.r.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, kindQueue, tok, q.c), nil
}

// UnmarshalBinary makes q a handle to the queue that MarshalBinary
// encoded, attaching its shared memory in this process on first use (once
// per process). Errors: ErrCorrupt for bytes that are no queue handle,
// ErrType for a queue of another element type, and fdpass's errors for a
// handle that did not come from this process or its parent, or whose
// queue was released there.
func (q *Queue[T]) UnmarshalBinary(b []byte) error {
	c, err := codec.For[T]()
	if err != nil {
		return fmt.Errorf("ipc: decode queue handle: %w", err)
	}
	tok, err := parseHandle(b, kindQueue, c)
	if err != nil {
		return err
	}
	r, err := fdpass.Attach(tok, func(files []*os.File) (*ring, error) {
		if len(files) != 1 {
			closeAll(files)
			return nil, fmt.Errorf("%w: queue handle with %d files", ErrCorrupt, len(files))
		}
		return openRing(files[0])
	})
	if err != nil {
		return fmt.Errorf("ipc: attach queue: %w", err)
	}
	if r.fingerprint != fingerprint(c) {
		return fmt.Errorf("%w: the queue's segment holds another type than %v", ErrType, c.Type())
	}
	q.r, q.c = r, c
	return nil
}

// encode encodes v into a pooled buffer, turning a panic of the type's
// own methods into an error.
func (q *Queue[T]) encode(v T) (buf *[]byte, err error) {
	buf = newBuffer()
	if q.r == nil {
		return buf, ErrReleased
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ipc: encode %v: panic: %v", q.c.Type(), p)
		}
	}()
	b, err := q.c.Append((*buf)[:0], v)
	*buf = b
	if err != nil {
		return buf, fmt.Errorf("ipc: encode %v: %w", q.c.Type(), err)
	}
	if uint64(len(b))+recordHeader > uint64(q.r.size) {
		return buf, fmt.Errorf("%w: %v of %d bytes encoded does not fit a %d-byte queue buffer (WithBufferSize)", ErrTooLarge, q.c.Type(), len(b), q.r.size)
	}
	return buf, nil
}

// decode decodes an item that ring.get returned (or passes its error on),
// turning a panic of the type's own methods into an error.
func (q *Queue[T]) decode(b []byte, got error) (v T, err error) {
	if got != nil {
		return v, got
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ipc: decode %v: panic: %v", q.c.Type(), p)
		}
	}()
	v, err = q.c.Decode(b)
	if err != nil {
		return v, fmt.Errorf("ipc: decode %v: %w", q.c.Type(), err)
	}
	return v, nil
}

// buffers recycles encoding buffers across every queue and conn.
var buffers = sync.Pool{New: func() any { return new([]byte) }}

// maxPooled bounds the buffers kept for reuse.
const maxPooled = 1 << 20

func newBuffer() *[]byte { return buffers.Get().(*[]byte) }

func freeBuffer(b *[]byte) {
	if cap(*b) <= maxPooled {
		buffers.Put(b)
	}
}

// fingerprint identifies T and the encoding its codec uses, so that a
// handle or a segment of another type is refused.
func fingerprint[T any](c *codec.Codec[T]) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%v", typeName(c.Type()), c.Kind())
	return h.Sum64()
}

// typeName names t with its package path when it has one, so that two
// packages' types of the same name differ.
func typeName(t reflect.Type) string {
	if t.Name() != "" && t.PkgPath() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}

// appendHandle appends the handle bytes of a queue or conn of T.
func appendHandle[T any](b []byte, kind byte, tok fdpass.Token, c *codec.Codec[T]) []byte {
	b = append(b, handleVersion, kind)
	b = tok.Append(b)
	b = binary.BigEndian.AppendUint64(b, fingerprint(c))
	name := typeName(c.Type())
	b = binary.AppendUvarint(b, uint64(len(name)))
	return append(b, name...)
}

// parseHandle checks handle bytes made by appendHandle for a handle of
// kind and T, and returns the token.
func parseHandle[T any](b []byte, kind byte, c *codec.Codec[T]) (fdpass.Token, error) {
	what := map[byte]string{kindQueue: "queue", kindConn: "conn"}[kind]
	if len(b) < 2 || b[0] != handleVersion || b[1] != kind {
		return fdpass.Token{}, fmt.Errorf("%w: not a %s handle", ErrCorrupt, what)
	}
	tok, rest, err := fdpass.ParseToken(b[2:])
	if err != nil {
		return fdpass.Token{}, fmt.Errorf("%w: %s handle: %v", ErrCorrupt, what, err)
	}
	if len(rest) < 8 {
		return fdpass.Token{}, fmt.Errorf("%w: %s handle truncated", ErrCorrupt, what)
	}
	fp := binary.BigEndian.Uint64(rest)
	n, k := binary.Uvarint(rest[8:])
	if k <= 0 || n != uint64(len(rest)-8-k) {
		return fdpass.Token{}, fmt.Errorf("%w: %s handle: bad type name", ErrCorrupt, what)
	}
	if fp != fingerprint(c) {
		return fdpass.Token{}, fmt.Errorf("%w: %s handle of %s decoded as one of %s", ErrType, what, rest[8+k:], typeName(c.Type()))
	}
	return tok, nil
}

func closeAll(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}

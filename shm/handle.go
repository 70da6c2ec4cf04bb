package shm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/skein-go/skein/internal/fdpass"
)

// handleVersion is the first byte of every handle; a change of layout
// gets a new number.
const handleVersion = 1

// Handle kinds, the second byte.
const (
	kindSegment byte = 'S'
	kindValue   byte = 'V'
	kindArray   byte = 'A'
	kindMutex   byte = 'M'
	kindSem     byte = 'N'
	kindEvent   byte = 'E'
)

// ErrHandle is matched (errors.Is) by the *HandleError that decoding a
// handle returns when its bytes are not a handle of the expected kind.
var ErrHandle = errors.New("shm: bad handle")

// HandleError reports that handle bytes could not be decoded as the
// receiving type: corrupt bytes, a handle of another kind (a Mutex
// decoded as a Value) or of another element type (a Value[int64] decoded
// as a Value[int32]).
type HandleError struct {
	Want   string // what the receiver expected, e.g. "Value[int32]"
	Got    string // what the handle holds, or "" if unreadable
	Reason string // what is wrong, when Got does not say it
}

// Error says what was expected and what arrived.
func (e *HandleError) Error() string {
	if e.Got == "" {
		return fmt.Sprintf("shm: decode %s handle: %s", e.Want, e.Reason)
	}
	return fmt.Sprintf("shm: decode %s handle: it holds a %s", e.Want, e.Got)
}

// Is makes errors.Is(err, ErrHandle) match.
func (e *HandleError) Is(target error) bool { return target == ErrHandle }

// handle is the decoded form of every kind.
type handle struct {
	kind byte
	tok  fdpass.Token
	size int    // the segment's size, checked on arrival
	off  int    // view offset (not Segment)
	n    int    // element count (Array)
	typ  string // element type name (Value, Array)
}

// MarshalBinary encodes a handle to s for a proc worker (see the package
// documentation). It returns ErrClosed after Close.
func (s *Segment) MarshalBinary() ([]byte, error) {
	tok, err := s.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, handle{kind: kindSegment, tok: tok, size: s.m.size}), nil
}

// UnmarshalBinary makes s the segment a handle names: in a proc worker,
// the parent's segment mapped into this process (once per process); in
// the process that encoded it, that same segment. s must be a new,
// unused Segment.
func (s *Segment) UnmarshalBinary(b []byte) error {
	h, err := parseHandle(b, kindSegment, "Segment")
	if err != nil {
		return err
	}
	return s.attach(h)
}

// MarshalBinary encodes a handle to v: its segment, offset and type.
func (v *Value[T]) MarshalBinary() ([]byte, error) {
	tok, err := v.seg.export()
	if err != nil {
		return nil, err
	}
	h := handle{kind: kindValue, tok: tok, size: v.m.size, off: v.off, typ: typeName[T]()}
	return appendHandle(nil, h), nil
}

// UnmarshalBinary makes v the Value a handle names. A handle of another
// kind or element type returns a *HandleError.
func (v *Value[T]) UnmarshalBinary(b []byte) error {
	h, err := parseTyped[T](b, kindValue, "Value")
	if err != nil {
		return err
	}
	seg := new(Segment)
	if err := seg.attach(h); err != nil {
		return err
	}
	got, err := ValueAt[T](seg, h.off)
	if err != nil {
		return err
	}
	*v = *got
	return nil
}

// MarshalBinary encodes a handle to a: its segment, offset, length and
// type.
func (a *Array[T]) MarshalBinary() ([]byte, error) {
	tok, err := a.seg.export()
	if err != nil {
		return nil, err
	}
	h := handle{kind: kindArray, tok: tok, size: a.m.size, off: a.off, n: a.n, typ: typeName[T]()}
	return appendHandle(nil, h), nil
}

// UnmarshalBinary makes a the Array a handle names. A handle of another
// kind or element type returns a *HandleError.
func (a *Array[T]) UnmarshalBinary(b []byte) error {
	h, err := parseTyped[T](b, kindArray, "Array")
	if err != nil {
		return err
	}
	seg := new(Segment)
	if err := seg.attach(h); err != nil {
		return err
	}
	got, err := ArrayAt[T](seg, h.off, h.n)
	if err != nil {
		return err
	}
	*a = *got
	return nil
}

// MarshalBinary encodes a handle to mu: its segment and offset. The
// worker shares the lock, as Python's get_lock() passed to a Process.
func (mu *Mutex) MarshalBinary() ([]byte, error) {
	tok, err := mu.seg.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, handle{kind: kindMutex, tok: tok, size: mu.m.size, off: mu.off}), nil
}

// UnmarshalBinary makes mu the Mutex a handle names. A handle of another
// kind returns a *HandleError.
func (mu *Mutex) UnmarshalBinary(b []byte) error {
	h, err := parseHandle(b, kindMutex, "Mutex")
	if err != nil {
		return err
	}
	seg := new(Segment)
	if err := seg.attach(h); err != nil {
		return err
	}
	got, err := MutexAt(seg, h.off)
	if err != nil {
		return err
	}
	*mu = *got
	return nil
}

// MarshalBinary encodes a handle to sem: its segment and offset. The
// worker shares the semaphore (its count and max live in the segment), as
// Python's Semaphore passed to a Process.
func (sem *Semaphore) MarshalBinary() ([]byte, error) {
	tok, err := sem.seg.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, handle{kind: kindSem, tok: tok, size: sem.m.size, off: sem.off}), nil
}

// UnmarshalBinary makes sem the Semaphore a handle names. A handle of
// another kind, or of a semaphore that is not set up, returns a
// *HandleError.
func (sem *Semaphore) UnmarshalBinary(b []byte) error {
	h, err := parseHandle(b, kindSem, "Semaphore")
	if err != nil {
		return err
	}
	seg := new(Segment)
	if err := seg.attach(h); err != nil {
		return err
	}
	got, err := semaphoreView(seg, h.off)
	if err != nil {
		return err
	}
	bound := got.boundWord().Load()
	if bound&semReady == 0 || got.w.Load()&semReady == 0 {
		return &HandleError{Want: "Semaphore", Reason: fmt.Sprintf("no semaphore is set up at offset %d", h.off)}
	}
	got.setBound(bound)
	*sem = *got
	return nil
}

// MarshalBinary encodes a handle to e: its segment and offset. The worker
// shares the event, as Python's Event passed to a Process.
func (e *Event) MarshalBinary() ([]byte, error) {
	tok, err := e.seg.export()
	if err != nil {
		return nil, err
	}
	return appendHandle(nil, handle{kind: kindEvent, tok: tok, size: e.m.size, off: e.off}), nil
}

// UnmarshalBinary makes e the Event a handle names. A handle of another
// kind returns a *HandleError.
func (e *Event) UnmarshalBinary(b []byte) error {
	h, err := parseHandle(b, kindEvent, "Event")
	if err != nil {
		return err
	}
	seg := new(Segment)
	if err := seg.attach(h); err != nil {
		return err
	}
	got, err := EventAt(seg, h.off)
	if err != nil {
		return err
	}
	*e = *got
	return nil
}

// export returns the token under which s is offered to proc workers,
// registering it on first use. The provider hands each worker a duplicate
// of the descriptor (fdpass duplicates it), as long as s is open.
func (s *Segment) export() (fdpass.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return fdpass.Token{}, fmt.Errorf("shm: encode handle: %w", ErrClosed)
	}
	if s.tok.ID == 0 {
		s.tok = fdpass.Export(s, s.provide)
	}
	return s.tok, nil
}

// provide is s's fdpass.Provider.
func (s *Segment) provide(*fdpass.Peer) ([]*os.File, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil, nil, ErrClosed
	}
	return []*os.File{s.f}, nil, nil
}

// attach fills s, a new Segment, with the segment h names, shared with
// every other Segment decoded from it in this process.
func (s *Segment) attach(h handle) error {
	src, err := fdpass.Attach(h.tok, openHandleSegment)
	if err != nil {
		return fmt.Errorf("shm: attach segment: %w", err)
	}
	if src.m.size != h.size {
		return &HandleError{Want: "segment", Reason: fmt.Sprintf("the segment has %d bytes, the handle says %d", src.m.size, h.size)}
	}
	f := src.File()
	if f == nil {
		return fmt.Errorf("shm: attach segment: %w", ErrClosed)
	}
	s.m, s.name, s.path, s.shared = src.m, src.name, src.path, true
	s.f = f
	return nil
}

// openHandleSegment maps the descriptor a worker received for a handle.
// The Segment it makes is the process-wide attachment and is never closed.
func openHandleSegment(files []*os.File) (*Segment, error) {
	if len(files) != 1 {
		for _, f := range files {
			f.Close()
		}
		return nil, fmt.Errorf("shm: attach segment: got %d descriptors, want 1", len(files))
	}
	s, err := Open(files[0])
	if err != nil {
		files[0].Close()
		return nil, err
	}
	return s, nil
}

// appendHandle appends h's encoding:
//
//	version byte, kind byte, token (fdpass.TokenSize bytes),
//	size uvarint, then by kind: Value off, typ; Array off, n, typ;
//	Mutex, Semaphore and Event off.
//
// typ is a uvarint length and the type's name.
func appendHandle(dst []byte, h handle) []byte {
	dst = append(dst, handleVersion, h.kind)
	dst = h.tok.Append(dst)
	dst = binary.AppendUvarint(dst, uint64(h.size))
	switch h.kind {
	case kindValue, kindArray, kindMutex, kindSem, kindEvent:
		dst = binary.AppendUvarint(dst, uint64(h.off))
	}
	if h.kind == kindArray {
		dst = binary.AppendUvarint(dst, uint64(h.n))
	}
	if h.kind == kindValue || h.kind == kindArray {
		dst = binary.AppendUvarint(dst, uint64(len(h.typ)))
		dst = append(dst, h.typ...)
	}
	return dst
}

// parseHandle decodes b, which must be a handle of kind want (named
// wantName in errors). It never panics, whatever b holds.
func parseHandle(b []byte, want byte, wantName string) (handle, error) {
	bad := func(reason string) (handle, error) {
		return handle{}, &HandleError{Want: wantName, Reason: reason}
	}
	if len(b) < 2 {
		return bad(fmt.Sprintf("%d bytes", len(b)))
	}
	if b[0] != handleVersion {
		return bad(fmt.Sprintf("version %d, want %d", b[0], handleVersion))
	}
	h := handle{kind: b[1]}
	if h.kind != want {
		if name := kindName(h.kind); name != "" {
			return handle{}, &HandleError{Want: wantName, Got: name}
		}
		return bad(fmt.Sprintf("unknown kind %q", h.kind))
	}
	tok, rest, err := fdpass.ParseToken(b[2:])
	if err != nil {
		return bad(err.Error())
	}
	h.tok = tok
	r := handleReader{b: rest}
	h.size = r.int()
	switch h.kind {
	case kindValue, kindArray, kindMutex, kindSem, kindEvent:
		h.off = r.int()
	}
	if h.kind == kindArray {
		h.n = r.int()
	}
	if h.kind == kindValue || h.kind == kindArray {
		h.typ = r.string()
	}
	if r.err != "" {
		return bad(r.err)
	}
	if len(r.b) != 0 {
		return bad(fmt.Sprintf("%d trailing bytes", len(r.b)))
	}
	if h.size <= 0 {
		return bad(fmt.Sprintf("segment size %d", h.size))
	}
	return h, nil
}

// parseTyped is parseHandle for a Value or Array of T: the handle's
// element type must be T's.
func parseTyped[T Number](b []byte, want byte, wantName string) (handle, error) {
	name := wantName + "[" + typeName[T]() + "]"
	h, err := parseHandle(b, want, name)
	if err != nil {
		return h, err
	}
	if h.typ != typeName[T]() {
		return handle{}, &HandleError{Want: name, Got: wantName + "[" + h.typ + "]"}
	}
	return h, nil
}

// kindName names a handle kind for errors, "" if unknown.
func kindName(k byte) string {
	switch k {
	case kindSegment:
		return "Segment"
	case kindValue:
		return "Value"
	case kindArray:
		return "Array"
	case kindMutex:
		return "Mutex"
	case kindSem:
		return "Semaphore"
	case kindEvent:
		return "Event"
	}
	return ""
}

// typeName is the element type as handles record it: its Go name, so a
// named type (type Celsius float64) differs from its underlying type.
func typeName[T Number]() string { return reflect.TypeFor[T]().String() }

// handleReader reads uvarints and strings, remembering the first error.
type handleReader struct {
	b   []byte
	err string
}

// maxHandleString bounds a type name in a handle.
const maxHandleString = 1024

func (r *handleReader) int() int {
	if r.err != "" {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > 1<<48 {
		r.err = "bad number"
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *handleReader) string() string {
	n := r.int()
	if r.err != "" {
		return ""
	}
	if n > len(r.b) || n > maxHandleString {
		r.err = fmt.Sprintf("type name of %d bytes", n)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

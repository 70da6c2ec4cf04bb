package ipc

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The Map's messages. A worker's call is one request and one reply, both
// plain bytes in a slot of its channel (manager_chan.go); the parent's own
// calls go through the same encoding, so there is one code path to test.
//
//	request  op byte, then by op:
//	           Get, Delete, Lock, Unlock   key
//	           Set                         key, value
//	           CompareAndSwap              key, old, new
//	           Add                         key, delta
//	           Snapshot                    (nothing)
//	reply    mgrOK, then by op:
//	           Get        found byte, value (if found)
//	           Delete     existed byte
//	           CAS        swapped byte
//	           Add        value (the new one)
//	           Snapshot   count uvarint, count × (key, value)
//	           Lock       pid uvarint of a holder that died holding it, or 0
//	           Set, Unlock (nothing)
//	      or mgrFailed, code byte, message
//
// key, value, old, new, delta and message are a uvarint length and that
// many bytes; values are V's codec encoding. Nothing in a message is
// trusted: every length is checked against the bytes left.

// mgrOp is a request's operation.
type mgrOp byte

const (
	mgrOpGet mgrOp = iota + 1
	mgrOpSet
	mgrOpDelete
	mgrOpCAS
	mgrOpAdd
	mgrOpSnapshot
	mgrOpLock
	mgrOpUnlock
)

// Reply status bytes.
const (
	mgrOK     byte = 0
	mgrFailed byte = 1
)

// Error codes of a failed reply; each maps to one sentinel.
const (
	mgrCodeOther byte = iota
	mgrCodeClosed
	mgrCodeNotHeld
	mgrCodeNotNumber
	mgrCodeTooLarge
	mgrCodeCorrupt
	mgrCodeCancelled // a Lock wait withdrawn at the worker's request (its ctx ended)
	mgrCodeEncoding  // a value the server could not decode or encode
)

// mgrRequest is a decoded request. Its byte slices alias the message.
type mgrRequest struct {
	op   mgrOp
	key  string
	a, b []byte // Set: a = value; CAS: a = old, b = new; Add: a = delta
}

// appendRequest appends r's encoding to dst.
func appendRequest(dst []byte, r mgrRequest) []byte {
	dst = append(dst, byte(r.op))
	if r.op == mgrOpSnapshot {
		return dst
	}
	dst = mgrAppendBytes(dst, []byte(r.key))
	switch r.op {
	case mgrOpSet, mgrOpAdd:
		dst = mgrAppendBytes(dst, r.a)
	case mgrOpCAS:
		dst = mgrAppendBytes(dst, r.a)
		dst = mgrAppendBytes(dst, r.b)
	}
	return dst
}

// parseRequest decodes a request; it never panics, whatever b holds.
func parseRequest(b []byte) (mgrRequest, error) {
	if len(b) == 0 {
		return mgrRequest{}, fmt.Errorf("%w: empty map request", ErrCorrupt)
	}
	r := mgrRequest{op: mgrOp(b[0])}
	in := mgrReader{b: b[1:]}
	switch r.op {
	case mgrOpSnapshot:
	case mgrOpGet, mgrOpDelete, mgrOpLock, mgrOpUnlock:
		r.key = string(in.bytes())
	case mgrOpSet, mgrOpAdd:
		r.key = string(in.bytes())
		r.a = in.bytes()
	case mgrOpCAS:
		r.key = string(in.bytes())
		r.a = in.bytes()
		r.b = in.bytes()
	default:
		return mgrRequest{}, fmt.Errorf("%w: map request op %d", ErrCorrupt, r.op)
	}
	if err := in.end(); err != nil {
		return mgrRequest{}, err
	}
	return r, nil
}

// mgrReply is a decoded reply. Its byte slices alias the message.
type mgrReply struct {
	failed bool
	code   byte
	msg    string

	flag    bool           // Get: found; Delete: existed; CAS: swapped
	value   []byte         // Get, Add
	pid     int            // Lock: the dead holder's pid, or 0
	entries []mgrEntryWire // Snapshot
}

// mgrEntryWire is one key and encoded value of a Snapshot reply.
type mgrEntryWire struct {
	key   string
	value []byte
}

// appendFailure appends a failed reply for err to dst.
func appendFailure(dst []byte, err error) []byte {
	code := mgrCodeOther
	switch {
	case errors.Is(err, ErrClosed):
		code = mgrCodeClosed
	case errors.Is(err, ErrNotHeld):
		code = mgrCodeNotHeld
	case errors.Is(err, ErrNotNumber):
		code = mgrCodeNotNumber
	case errors.Is(err, ErrTooLarge):
		code = mgrCodeTooLarge
	case errors.Is(err, ErrCorrupt):
		code = mgrCodeCorrupt
	case errors.Is(err, errMgrCancelled):
		code = mgrCodeCancelled
	case errors.Is(err, errMgrEncoding):
		code = mgrCodeEncoding
	}
	dst = append(dst, mgrFailed, code)
	return mgrAppendBytes(dst, []byte(err.Error()))
}

// errMgrCancelled and errMgrEncoding travel as reply codes only.
var (
	errMgrCancelled = errors.New("ipc: lock wait cancelled")
	errMgrEncoding  = errors.New("ipc: map value encoding")
)

// mgrReplyErr turns a failed reply into the error the caller sees: the
// sentinel of its code, with the server's message.
func mgrReplyErr(r mgrReply) error {
	var sentinel error
	switch r.code {
	case mgrCodeClosed:
		return ErrClosed
	case mgrCodeNotHeld:
		sentinel = ErrNotHeld
	case mgrCodeNotNumber:
		sentinel = ErrNotNumber
	case mgrCodeTooLarge:
		sentinel = ErrTooLarge
	case mgrCodeCorrupt:
		sentinel = ErrCorrupt
	case mgrCodeCancelled:
		sentinel = errMgrCancelled
	default:
		return errors.New(r.msg)
	}
	return &mgrRemoteError{msg: r.msg, sentinel: sentinel}
}

// mgrRemoteError is an error reported by the map's server: its message,
// matching its sentinel with errors.Is.
type mgrRemoteError struct {
	msg      string
	sentinel error
}

func (e *mgrRemoteError) Error() string { return e.msg }
func (e *mgrRemoteError) Unwrap() error { return e.sentinel }

// parseReply decodes the reply to a request of op; it never panics,
// whatever b holds.
func parseReply(op mgrOp, b []byte) (mgrReply, error) {
	if len(b) == 0 {
		return mgrReply{}, fmt.Errorf("%w: empty map reply", ErrCorrupt)
	}
	in := mgrReader{b: b[1:]}
	var r mgrReply
	switch b[0] {
	case mgrFailed:
		r.failed = true
		r.code = in.byte()
		r.msg = string(in.bytes())
		return r, in.end()
	case mgrOK:
	default:
		return mgrReply{}, fmt.Errorf("%w: map reply status %d", ErrCorrupt, b[0])
	}
	switch op {
	case mgrOpGet:
		if r.flag = in.bool(); r.flag {
			r.value = in.bytes()
		}
	case mgrOpDelete, mgrOpCAS:
		r.flag = in.bool()
	case mgrOpAdd:
		r.value = in.bytes()
	case mgrOpSnapshot:
		n := in.uvarint()
		// Each entry takes at least two bytes: a bound on n that the
		// input justifies, so a corrupt count cannot make a huge slice.
		if n > uint64(len(in.b)/2) {
			return mgrReply{}, fmt.Errorf("%w: snapshot of %d entries in %d bytes", ErrCorrupt, n, len(in.b))
		}
		r.entries = make([]mgrEntryWire, 0, n)
		for range n {
			k := in.bytes()
			v := in.bytes()
			r.entries = append(r.entries, mgrEntryWire{key: string(k), value: v})
		}
	case mgrOpLock:
		pid := in.uvarint()
		if pid > 1<<31 {
			return mgrReply{}, fmt.Errorf("%w: lock reply pid %d", ErrCorrupt, pid)
		}
		r.pid = int(pid)
	case mgrOpSet, mgrOpUnlock:
	default:
		return mgrReply{}, fmt.Errorf("%w: reply to op %d", ErrCorrupt, op)
	}
	return r, in.end()
}

// mgrAppendBytes appends a uvarint length and b.
func mgrAppendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// mgrAppendBool appends a flag byte.
func mgrAppendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// mgrReader reads a message, remembering the first error: later reads
// return zero values, and end reports it.
type mgrReader struct {
	b   []byte
	err error
}

func (r *mgrReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: map message: %s", ErrCorrupt, what)
	}
	r.b = nil
}

func (r *mgrReader) byte() byte {
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *mgrReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail("bad flag")
	return false
}

func (r *mgrReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad length")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *mgrReader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(fmt.Sprintf("%d bytes announced, %d left", n, len(r.b)))
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// end reports the first error, or trailing bytes.
func (r *mgrReader) end() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: map message: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	return nil
}

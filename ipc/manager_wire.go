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
//	           Snapshot, Len, Keys         (nothing)
//	           Pop                         key
//	           SetDefault                  key, value
//	           Update                      count uvarint, count × (key, value)
//	reply    mgrOK, then by op:
//	           Get        found byte, value (if found)
//	           Delete     existed byte
//	           CAS        swapped byte
//	           Add        value (the new one)
//	           Snapshot   count uvarint, count × (key, value)
//	           Len        count uvarint
//	           Keys       count uvarint, count × key (in no order)
//	           Pop        found byte, value (if found)
//	           SetDefault existed byte, value (the stored one, if it existed)
//	           Lock       pid uvarint of a holder that died holding it, or 0
//	           Set, Unlock, Update (nothing)
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
	mgrOpLen
	mgrOpKeys
	mgrOpPop
	mgrOpSetDefault
	mgrOpUpdate
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
	a, b []byte // Set, SetDefault: a = value; CAS: a = old, b = new; Add: a = delta

	entries []mgrEntryWire // Update
}

// appendRequest appends r's encoding to dst.
func appendRequest(dst []byte, r mgrRequest) []byte {
	dst = append(dst, byte(r.op))
	switch r.op {
	case mgrOpSnapshot, mgrOpLen, mgrOpKeys:
		return dst
	case mgrOpUpdate:
		return mgrAppendEntries(dst, r.entries)
	}
	dst = mgrAppendBytes(dst, []byte(r.key))
	switch r.op {
	case mgrOpSet, mgrOpAdd, mgrOpSetDefault:
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
	case mgrOpSnapshot, mgrOpLen, mgrOpKeys:
	case mgrOpGet, mgrOpDelete, mgrOpLock, mgrOpUnlock, mgrOpPop:
		r.key = string(in.bytes())
	case mgrOpUpdate:
		r.entries = in.entries()
	case mgrOpSet, mgrOpAdd, mgrOpSetDefault:
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

	flag    bool           // Get, Pop: found; Delete, SetDefault: existed; CAS: swapped
	value   []byte         // Get, Pop, Add; SetDefault when it existed
	pid     int            // Lock: the dead holder's pid, or 0
	count   int            // Len
	keys    []string       // Keys
	entries []mgrEntryWire // Snapshot
}

// mgrEntryWire is one key and encoded value of a Snapshot reply or an
// Update request.
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
	case mgrOpGet, mgrOpPop, mgrOpSetDefault:
		if r.flag = in.bool(); r.flag {
			r.value = in.bytes()
		}
	case mgrOpDelete, mgrOpCAS:
		r.flag = in.bool()
	case mgrOpAdd:
		r.value = in.bytes()
	case mgrOpSnapshot:
		r.entries = in.entries()
	case mgrOpLen:
		n := in.uvarint()
		if n > 1<<62 {
			return mgrReply{}, fmt.Errorf("%w: map length %d", ErrCorrupt, n)
		}
		r.count = int(n)
	case mgrOpKeys:
		n := in.uvarint()
		// Each key takes at least a byte: a bound on n that the input
		// justifies, so a corrupt count cannot make a huge slice.
		if n > uint64(len(in.b)) {
			return mgrReply{}, fmt.Errorf("%w: %d keys in %d bytes", ErrCorrupt, n, len(in.b))
		}
		r.keys = make([]string, 0, n)
		for range n {
			r.keys = append(r.keys, string(in.bytes()))
		}
	case mgrOpLock:
		pid := in.uvarint()
		if pid > 1<<31 {
			return mgrReply{}, fmt.Errorf("%w: lock reply pid %d", ErrCorrupt, pid)
		}
		r.pid = int(pid)
	case mgrOpSet, mgrOpUnlock, mgrOpUpdate:
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

// mgrAppendEntries appends a uvarint count and each entry's key and
// value.
func mgrAppendEntries(dst []byte, entries []mgrEntryWire) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(entries)))
	for _, e := range entries {
		dst = mgrAppendBytes(dst, []byte(e.key))
		dst = mgrAppendBytes(dst, e.value)
	}
	return dst
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

// entries reads a count and that many keys and values.
func (r *mgrReader) entries() []mgrEntryWire {
	n := r.uvarint()
	// Each entry takes at least two bytes: a bound on n that the input
	// justifies, so a corrupt count cannot make a huge slice.
	if n > uint64(len(r.b)/2) {
		r.fail(fmt.Sprintf("%d entries in %d bytes", n, len(r.b)))
		return nil
	}
	out := make([]mgrEntryWire, 0, n)
	for range n {
		k := r.bytes()
		v := r.bytes()
		out = append(out, mgrEntryWire{key: string(k), value: v})
	}
	return out
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

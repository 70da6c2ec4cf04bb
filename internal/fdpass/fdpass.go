// Package fdpass hands open files (shared memory segments, socket ends)
// from a process to the proc workers it started, so that handle types such
// as ipc.Queue and shm.Segment can travel as ordinary task arguments.
//
// A handle's MarshalBinary calls Export and writes the Token it gets; the
// worker's UnmarshalBinary calls Attach with that token, which asks the
// parent for the files over a socket reserved for this (proc gives every
// worker one), receives duplicates of them (SCM_RIGHTS) and builds the
// handle once per process. In the exporting process itself Attach returns
// the exported object, so encoding and decoding a handle there is the
// identity.
//
// The rule a handle's users see: a handle passes from a process to its own
// proc workers. A worker can pass one on to its own workers only if the
// handle type exports it again there (a new token); a token stored and
// decoded in any other process fails with ErrNotChild.
package fdpass

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Errors of Attach and ParseToken.
var (
	// ErrNotChild: the token was exported by a process that is neither
	// this one nor its parent.
	ErrNotChild = errors.New("fdpass: handle was made by a process that is not this one or its parent (handles pass from a process to its proc workers)")
	// ErrUnknown: the exporting process no longer exports the token (the
	// handle was closed there).
	ErrUnknown = errors.New("fdpass: handle no longer exported by its process (closed?)")
	// ErrNoChannel: this process has no descriptor channel to its parent:
	// it is not a proc worker, or the parent is gone.
	ErrNoChannel = errors.New("fdpass: no descriptor channel to the parent (not a proc worker?)")
	// ErrCorrupt: a token or a message of the channel is malformed.
	ErrCorrupt = errors.New("fdpass: corrupt token or message")
)

// Token names descriptors a process exported for its children.
type Token struct {
	PID int    // the exporting process
	ID  uint64 // unique within it, never 0
}

// TokenSize is the number of bytes Token.Append writes.
const TokenSize = 12

// Append appends t's TokenSize-byte encoding to dst.
func (t Token) Append(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(t.PID))
	return binary.BigEndian.AppendUint64(dst, t.ID)
}

// ParseToken reads a token written by Append from the front of b and
// returns the bytes after it.
func ParseToken(b []byte) (t Token, rest []byte, err error) {
	if len(b) < TokenSize {
		return Token{}, b, fmt.Errorf("%w: token of %d bytes, want %d", ErrCorrupt, len(b), TokenSize)
	}
	t = Token{PID: int(binary.BigEndian.Uint32(b)), ID: binary.BigEndian.Uint64(b[4:])}
	if t.ID == 0 || t.PID <= 0 {
		return Token{}, b, fmt.Errorf("%w: token %d/%d", ErrCorrupt, t.PID, t.ID)
	}
	return t, b[TokenSize:], nil
}

// Provider returns the files to hand to peer. fdpass sends duplicates (the
// receiver gets descriptors of its own) and closes none of the files; done,
// if not nil, runs after the send attempt, whether it succeeded or not
// (for example to close this process's copy of a socket end that moved to
// the child).
type Provider func(peer *Peer) (files []*os.File, done func(), err error)

// export is one exported object.
type export struct {
	obj  any
	give Provider
}

// exports is this process's table of exported objects.
var exports = struct {
	mu   sync.Mutex // guards the fields below
	next uint64
	byID map[uint64]*export
}{byID: map[uint64]*export{}}

// Export registers obj and p and returns the token naming them. In this
// process Attach(token) returns obj; in a child, what its open function
// builds from the files p gives. Call it once per object and keep the
// token: every call makes a new entry, which stays until Unexport.
func Export(obj any, p Provider) Token {
	exports.mu.Lock()
	defer exports.mu.Unlock()
	exports.next++
	exports.byID[exports.next] = &export{obj: obj, give: p}
	return Token{PID: os.Getpid(), ID: exports.next}
}

// Unexport removes t: later requests for it fail with ErrUnknown. Children
// that attached it already keep what they built.
func Unexport(t Token) {
	if t.PID != os.Getpid() {
		return
	}
	exports.mu.Lock()
	delete(exports.byID, t.ID)
	exports.mu.Unlock()
}

// lookup returns the export with id, or nil.
func lookup(id uint64) *export {
	exports.mu.Lock()
	defer exports.mu.Unlock()
	return exports.byID[id]
}

// attached caches, in a child, the objects built from the parent's
// exports: one per token for the life of the process.
var attached = struct {
	mu   sync.Mutex // guards byID
	byID map[Token]*attachment
}{byID: map[Token]*attachment{}}

type attachment struct {
	once sync.Once
	obj  any
	err  error
}

// Attach returns the object t names: in the exporting process the object
// given to Export; in a proc worker whose parent exported t, the result of
// open on duplicates of the files the parent's Provider gives, made once
// per process and kept for its life (concurrent callers wait for the one
// open; a failed attach is not retried). open owns the files it gets,
// including on error.
//
// Errors: ErrNotChild, ErrUnknown, ErrNoChannel, the provider's or open's
// error, or a type error if the exported object is not a T.
func Attach[T any](t Token, open func(files []*os.File) (T, error)) (T, error) {
	var zero T
	switch t.PID {
	case os.Getpid():
		e := lookup(t.ID)
		if e == nil {
			return zero, ErrUnknown
		}
		obj, ok := e.obj.(T)
		if !ok {
			return zero, fmt.Errorf("fdpass: handle holds %T, not %T", e.obj, zero)
		}
		return obj, nil
	case os.Getppid():
	default:
		return zero, ErrNotChild
	}
	attached.mu.Lock()
	a := attached.byID[t]
	if a == nil {
		a = &attachment{}
		attached.byID[t] = a
	}
	attached.mu.Unlock()
	a.once.Do(func() {
		files, err := request(t.ID)
		if err != nil {
			a.err = err
			return
		}
		a.obj, a.err = open(files)
	})
	if a.err != nil {
		return zero, a.err
	}
	obj, ok := a.obj.(T)
	if !ok {
		return zero, fmt.Errorf("fdpass: handle holds %T, not %T", a.obj, zero)
	}
	return obj, nil
}

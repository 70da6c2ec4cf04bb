package ipc

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"

	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/fdpass"
)

// Errors of Map.
var (
	// ErrNotHeld is wrapped by the error of Unlock when the calling process
	// does not hold the lock (another process does, or nobody does).
	ErrNotHeld = errors.New("ipc: unlock of a lock this process does not hold")
	// ErrNotNumber is wrapped by the error of Add on a Map whose value
	// type is not an integer or floating-point type.
	ErrNotNumber = errors.New("ipc: add to a map whose values are not numbers")
	// ErrOwnerDead is matched (errors.Is) by the *OwnerDeadError that Lock
	// returns, with the lock held, when the previous holder's process died
	// holding it.
	ErrOwnerDead = errors.New("ipc: previous lock holder died holding it")
)

// OwnerDeadError reports that the process that held lock Name, PID, exited
// or was killed while holding it, so what the lock guards may be half
// updated. Lock returns it with the lock held by the caller, who should
// check or repair that state and Unlock as usual (shm.Mutex reports a dead
// holder the same way).
type OwnerDeadError struct {
	Name string // the lock's name
	PID  int    // the dead holder's process id
}

// Error names the lock and the dead holder.
func (e *OwnerDeadError) Error() string {
	return fmt.Sprintf("ipc: lock %q: holder (pid %d) died holding it; the lock is now held by the caller", e.Name, e.PID)
}

// Is makes errors.Is(err, ErrOwnerDead) match.
func (e *OwnerDeadError) Is(target error) bool { return target == ErrOwnerDead }

// Map is a map from strings to values of type V that the process that made
// it serves to its proc workers: Python's Manager().dict() and
// Manager().Lock() in one typed object. The process that made it (the
// parent) and every worker it was handed to see the same entries; each
// operation is atomic. Its methods are safe for concurrent use by the
// goroutines of every process involved.
//
// # Values are copies
//
// Values cross between processes encoded (as proc task arguments do), and
// the Map keeps them encoded: Get returns a new copy every time, Set stores
// a copy, in the parent as in a worker. So changing a value you got (an
// element of a slice, a field of a struct, an entry of a nested map)
// changes your copy only, never the Map: write it back with Set, or with
// CompareAndSwap to be sure nobody changed it meanwhile. Python's Manager
// hands out proxies whose nested values silently drop such changes
// (d["k"].append(x) is lost); here nothing is a proxy, so nothing can be
// lost that way. For a read-modify-write that several processes do,
// use Add (numbers), SetDefault, Pop, a CompareAndSwap loop, or a named
// Lock around Get and Set.
//
// # Python's dict methods
//
// Beside Get, Set and Delete, each one round trip and atomic: Len,
// Keys (sorted), Snapshot (dict(d)), Pop (d.pop(key, None)), SetDefault
// (d.setdefault(key, v)) and Update (d.update(other), all entries at
// once).
//
// # Named locks
//
// Lock and Unlock take a name: each name is a lock (Python's
// Manager().Lock(), as many as needed, made on first use). A lock is held
// by a process, not a goroutine: goroutines of one process exclude each
// other, and any goroutine of the holding process may Unlock it; it is not
// reentrant. When a worker dies holding locks (a crash, a SIGKILL, a
// proc timeout), the parent notices at once (the worker's connection
// ends), releases them, and the next holder's Lock succeeds with an
// *OwnerDeadError naming the dead process: a dead holder never blocks the
// others. If nobody was waiting, the next Lock of that name gets the
// report.
//
// # Passing a Map to workers
//
// *Map[V] implements encoding.BinaryMarshaler and BinaryUnmarshaler, so a
// Map (or a struct holding one) is a proc task argument like any other:
//
//	var work = proc.Register("work", func(ctx context.Context, progress *ipc.Map[float64]) (int, error) {
//		...
//		return 0, progress.Set(ctx, "task-1", 0.5)
//	})
//	progress, err := ipc.NewMap[float64]()
//	p, err := proc.Start(ctx, work, progress)
//
// Each worker gets a shared-memory channel of its own to the parent, made
// the first time the worker decodes the Map and kept for the worker's
// life. A call from a worker is one round trip, which the parent answers
// on a goroutine it runs for the Map while the Map is shared; no call
// needs the parent's main goroutine.
//
// Make one with NewMap. The zero Map is not usable: its methods return
// ErrClosed.
type Map[V any] struct {
	c   *codec.Codec[V]
	srv *mgrServer   // in the process that made the Map; nil elsewhere
	cli *mgrClient   // in a worker that decoded it; nil elsewhere
	tok fdpass.Token // a worker's: the token it decoded, to encode it again
}

// MapOption configures NewMap.
type MapOption func(*mapConfig) error

// mapConfig is what the options set.
type mapConfig struct {
	slots      int
	maxMessage int
}

// Bounds of WithMapMaxMessage.
const (
	mgrMinMessage = 64
	mgrMaxMessage = 1 << 30
)

// WithMapMaxMessage bounds the encoding of one request or reply between a
// worker and the Map, in bytes: a Set of a larger value, or a Snapshot
// whose entries take more, fails in the worker with an error wrapping
// ErrTooLarge (the parent's own calls have no limit). Each worker's
// channel reserves this much address space per concurrent call, but only
// the memory actually written is allocated. n must be between 64 and
// 1 GiB. Default: 1 MiB.
func WithMapMaxMessage(n int) MapOption {
	return func(c *mapConfig) error {
		if n < mgrMinMessage || n > mgrMaxMessage {
			return fmt.Errorf("%w: WithMapMaxMessage(%d): want %d to %d bytes", ErrInvalidOption, n, mgrMinMessage, mgrMaxMessage)
		}
		c.maxMessage = n
		return nil
	}
}

// WithMapConcurrency sets how many calls the goroutines of one worker can
// have in progress on the Map at once; more wait for a free slot (or
// their ctx). Lock calls waiting for a lock may hold all but one of
// them, so that an Unlock always gets through. n must be between 2 and
// 64. Default: 8.
func WithMapConcurrency(n int) MapOption {
	return func(c *mapConfig) error {
		if n < 2 || n > mgrMaxSlots {
			return fmt.Errorf("%w: WithMapConcurrency(%d): want 2 to %d", ErrInvalidOption, n, mgrMaxSlots)
		}
		c.slots = n
		return nil
	}
}

// NewMap returns an empty Map of V values, served by this process. V is
// any type a proc task argument can be (see proc.Register); Add needs an
// integer or floating-point V. It fails for a V that cannot cross a
// process boundary (channels, functions) and for an invalid option
// (ErrInvalidOption).
func NewMap[V any](opts ...MapOption) (*Map[V], error) {
	cfg := mapConfig{slots: 8, maxMessage: 1 << 20}
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil MapOption", ErrInvalidOption)
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	c, err := codec.For[V]()
	if err != nil {
		return nil, fmt.Errorf("ipc: new map: %w", err)
	}
	return &Map[V]{c: c, srv: newMgrServer(cfg, mgrAdder(c), mgrEqual(c))}, nil
}

// Get returns a copy of the value stored under key, and whether there is
// one. It fails with ctx.Err() if ctx is done before the call is made,
// and with ErrClosed once the Map has been closed.
func (m *Map[V]) Get(ctx context.Context, key string) (V, bool, error) {
	var zero V
	r, err := m.do(ctx, mgrRequest{op: mgrOpGet, key: key})
	if err != nil || !r.flag {
		return zero, false, err
	}
	v, err := m.decode(r.value)
	if err != nil {
		return zero, false, fmt.Errorf("ipc: map get %q: %w", key, err)
	}
	return v, true, nil
}

// Set stores a copy of v under key. Errors: ctx.Err(), ErrClosed, an
// encoding error, and in a worker ErrTooLarge (see WithMapMaxMessage).
func (m *Map[V]) Set(ctx context.Context, key string, v V) error {
	b, err := m.encode(v)
	if err != nil {
		return fmt.Errorf("ipc: map set %q: %w", key, err)
	}
	_, err = m.do(ctx, mgrRequest{op: mgrOpSet, key: key, a: b})
	return err
}

// Delete removes key and reports whether it was there. Errors: ctx.Err(),
// ErrClosed.
func (m *Map[V]) Delete(ctx context.Context, key string) (bool, error) {
	r, err := m.do(ctx, mgrRequest{op: mgrOpDelete, key: key})
	return r.flag, err
}

// CompareAndSwap stores new under key if key holds a value equal to old
// (reflect.DeepEqual of the decoded values), and reports whether it did.
// A missing key holds no value: CompareAndSwap then returns false. Errors:
// ctx.Err(), ErrClosed, encoding errors, ErrTooLarge in a worker.
func (m *Map[V]) CompareAndSwap(ctx context.Context, key string, old, new V) (bool, error) {
	a, err := m.encode(old)
	if err != nil {
		return false, fmt.Errorf("ipc: map compare-and-swap %q: %w", key, err)
	}
	b, err := m.encode(new)
	if err != nil {
		return false, fmt.Errorf("ipc: map compare-and-swap %q: %w", key, err)
	}
	r, err := m.do(ctx, mgrRequest{op: mgrOpCAS, key: key, a: a, b: b})
	return r.flag, err
}

// Add adds delta to the number stored under key (a missing key counts as
// zero) and returns the sum, in one atomic step: the way to count across
// processes without a lock. Integers wrap around on overflow. It fails
// with an error wrapping ErrNotNumber unless V's kind is an integer or
// floating-point type, and like Get otherwise.
func (m *Map[V]) Add(ctx context.Context, key string, delta V) (V, error) {
	var zero V
	if m.c != nil && !mgrIsNumber(m.c.Type()) {
		return zero, fmt.Errorf("ipc: map add %q: %w (%v)", key, ErrNotNumber, m.c.Type())
	}
	d, err := m.encode(delta)
	if err != nil {
		return zero, fmt.Errorf("ipc: map add %q: %w", key, err)
	}
	r, err := m.do(ctx, mgrRequest{op: mgrOpAdd, key: key, a: d})
	if err != nil {
		return zero, err
	}
	v, err := m.decode(r.value)
	if err != nil {
		return zero, fmt.Errorf("ipc: map add %q: %w", key, err)
	}
	return v, nil
}

// Snapshot returns a copy of every entry, taken atomically: Python's
// dict(manager_dict). Changing the result changes nothing in the Map.
// Errors: ctx.Err(), ErrClosed, decoding errors, and in a worker
// ErrTooLarge when the entries do not fit one reply (WithMapMaxMessage).
func (m *Map[V]) Snapshot(ctx context.Context) (map[string]V, error) {
	r, err := m.do(ctx, mgrRequest{op: mgrOpSnapshot})
	if err != nil {
		return nil, err
	}
	out := make(map[string]V, len(r.entries))
	for _, e := range r.entries {
		v, err := m.decode(e.value)
		if err != nil {
			return nil, fmt.Errorf("ipc: map snapshot %q: %w", e.key, err)
		}
		out[e.key] = v
	}
	return out, nil
}

// Len returns the number of entries: Python's len(manager_dict).
// Errors: ctx.Err(), ErrClosed.
func (m *Map[V]) Len(ctx context.Context) (int, error) {
	r, err := m.do(ctx, mgrRequest{op: mgrOpLen})
	return r.count, err
}

// Keys returns the keys of every entry, sorted, taken atomically: Python's
// sorted(manager_dict.keys()), in one round trip that carries no values.
// Errors: ctx.Err(), ErrClosed, and in a worker ErrTooLarge when the keys
// do not fit one reply (WithMapMaxMessage).
func (m *Map[V]) Keys(ctx context.Context) ([]string, error) {
	r, err := m.do(ctx, mgrRequest{op: mgrOpKeys})
	if err != nil {
		return nil, err
	}
	slices.Sort(r.keys)
	return r.keys, nil
}

// Pop removes key and returns the value it held, and whether there was
// one, in one atomic step: Python's manager_dict.pop(key, default), with
// the zero V and false for a missing key (where Python's pop(key) raises
// KeyError). Of several processes popping one key, exactly one gets the
// value. Errors: ctx.Err(), ErrClosed, a decoding error (the entry is
// removed all the same).
func (m *Map[V]) Pop(ctx context.Context, key string) (V, bool, error) {
	var zero V
	r, err := m.do(ctx, mgrRequest{op: mgrOpPop, key: key})
	if err != nil || !r.flag {
		return zero, false, err
	}
	v, err := m.decode(r.value)
	if err != nil {
		return zero, false, fmt.Errorf("ipc: map pop %q: %w", key, err)
	}
	return v, true, nil
}

// SetDefault stores a copy of v under key unless key already holds a
// value, in one atomic step, and returns a copy of the value key holds
// now and whether it was there before: Python's
// manager_dict.setdefault(key, v). Of several processes setting a default
// for one key, exactly one stores its v and gets false; all of them get
// that value. Errors: ctx.Err(), ErrClosed, an encoding or decoding
// error, and in a worker ErrTooLarge (see WithMapMaxMessage).
func (m *Map[V]) SetDefault(ctx context.Context, key string, v V) (V, bool, error) {
	var zero V
	b, err := m.encode(v)
	if err != nil {
		return zero, false, fmt.Errorf("ipc: map set default %q: %w", key, err)
	}
	r, err := m.do(ctx, mgrRequest{op: mgrOpSetDefault, key: key, a: b})
	if err != nil {
		return zero, false, err
	}
	stored := b // v went in: return a copy of it, like Get would
	if r.flag {
		stored = r.value
	}
	if v, err = m.decode(stored); err != nil {
		return zero, false, fmt.Errorf("ipc: map set default %q: %w", key, err)
	}
	return v, r.flag, nil
}

// Update stores a copy of every entry of entries, in one atomic step:
// Python's manager_dict.update(entries). No process sees some of the
// entries stored and not the others, and nothing is stored if one fails
// to encode. An empty or nil entries changes nothing. Errors: ctx.Err(),
// ErrClosed, an encoding error, and in a worker ErrTooLarge when the
// entries do not fit one request (WithMapMaxMessage).
func (m *Map[V]) Update(ctx context.Context, entries map[string]V) error {
	wire := make([]mgrEntryWire, 0, len(entries))
	for _, k := range slices.Sorted(maps.Keys(entries)) {
		b, err := m.encode(entries[k])
		if err != nil {
			return fmt.Errorf("ipc: map update %q: %w", k, err)
		}
		wire = append(wire, mgrEntryWire{key: k, value: b})
	}
	_, err := m.do(ctx, mgrRequest{op: mgrOpUpdate, entries: wire})
	return err
}

// Lock locks the lock called name (see Named locks in the Map
// documentation), waiting while another process holds it. It returns nil
// with the lock held; an *OwnerDeadError (matching ErrOwnerDead), also
// with the lock held, when the previous holder died holding it; ctx.Err()
// without the lock if ctx ends first (if the lock was granted just as ctx
// ended, Lock may return nil: the lock is then held); or ErrClosed
// without the lock when the Map is closed, also while Lock waits.
func (m *Map[V]) Lock(ctx context.Context, name string) error {
	if err := m.usable(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	req := appendRequest(nil, mgrRequest{op: mgrOpLock, key: name})
	var raw []byte
	if m.srv != nil {
		var w *mgrWaiter
		if raw, w = m.srv.local(req); w != nil {
			pid, err := m.srv.waitLocal(ctx, name, w)
			if err != nil {
				return err
			}
			return mgrOwnerDead(name, pid)
		}
	} else {
		var err error
		if raw, err = m.cli.call(ctx, req, true); err != nil {
			return err
		}
	}
	r, err := parseReply(mgrOpLock, raw)
	if err != nil {
		return err
	}
	if r.failed {
		err := mgrReplyErr(r)
		if errors.Is(err, errMgrCancelled) {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return context.Canceled
		}
		return err
	}
	return mgrOwnerDead(name, r.pid)
}

// Unlock releases the lock called name, which the calling process must
// hold (any of its goroutines may call Unlock); the longest waiting
// process gets it next. It fails with an error wrapping ErrNotHeld, and
// with ErrClosed after Close. It takes no context so that it works when a
// context has ended: in a worker, it waits at most for a call of another
// goroutine of the worker to finish.
func (m *Map[V]) Unlock(name string) error {
	_, err := m.do(context.Background(), mgrRequest{op: mgrOpUnlock, key: name})
	return err
}

// Close, in the process that made the Map, ends it for every process:
// calls from then on, in this process and in every worker, fail with
// ErrClosed, as do calls in progress that have not been answered and Lock
// calls waiting for a lock; the entries are dropped, and the goroutine
// serving the workers has stopped when Close returns. A worker never hangs
// on a closed Map. In a worker Close does nothing: the Map's connection
// belongs to the worker process and ends with it. Close is idempotent.
// A Map that was handed to workers keeps a goroutine serving them (asleep
// when they are quiet) until it is closed.
func (m *Map[V]) Close() error {
	if m.srv == nil {
		return nil
	}
	return m.srv.close()
}

// MarshalBinary encodes a handle to m, so that *Map[V] (or a struct
// holding one) can be a proc task argument; the worker's UnmarshalBinary
// connects to the same Map. The bytes mean something only to this process
// and to the proc workers it starts. It fails with ErrClosed after Close,
// and with an error wrapping errors.ErrUnsupported on systems without
// shared memory (the Map then works within this process only).
func (m *Map[V]) MarshalBinary() ([]byte, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	tok := m.tok
	if m.srv != nil {
		var err error
		if tok, err = m.srv.export(m); err != nil {
			return nil, err
		}
	}
	return mgrAppendHandle(nil, tok, m.c), nil
}

// UnmarshalBinary makes m a handle to the Map whose handle b is: in a
// proc worker, a connection to the parent's Map (made once per worker
// process and shared by every handle of that Map in it); in the process
// that made the Map, the Map itself. Errors: ErrCorrupt for bytes that
// are no Map handle, ErrType for a Map of another value type, and an
// error saying why the Map could not be reached (the handle was made by a
// process other than this one or its parent, or the Map was closed).
func (m *Map[V]) UnmarshalBinary(b []byte) error {
	c, err := codec.For[V]()
	if err != nil {
		return fmt.Errorf("ipc: decode map handle: %w", err)
	}
	tok, err := mgrParseHandle(b, c)
	if err != nil {
		return err
	}
	if tok.PID == os.Getpid() {
		own, err := fdpass.Attach[*Map[V]](tok, nil)
		if err != nil {
			return fmt.Errorf("ipc: attach map: %w", err)
		}
		*m = *own
		return nil
	}
	cli, err := fdpass.Attach(tok, openMgrClient)
	if err != nil {
		return fmt.Errorf("ipc: attach map: %w", err)
	}
	*m = Map[V]{c: c, cli: cli, tok: tok}
	return nil
}

// usable reports ErrClosed for a zero Map.
func (m *Map[V]) usable() error {
	if m == nil || m.c == nil || m.srv == nil && m.cli == nil {
		return ErrClosed
	}
	return nil
}

// do runs a request that never waits for a lock and returns its reply.
func (m *Map[V]) do(ctx context.Context, req mgrRequest) (mgrReply, error) {
	if err := m.usable(); err != nil {
		return mgrReply{}, err
	}
	if err := ctx.Err(); err != nil {
		return mgrReply{}, err
	}
	b := appendRequest(nil, req)
	var raw []byte
	if m.srv != nil {
		raw, _ = m.srv.local(b)
	} else {
		var err error
		if raw, err = m.cli.call(ctx, b, false); err != nil {
			return mgrReply{}, err
		}
	}
	r, err := parseReply(req.op, raw)
	if err != nil {
		return mgrReply{}, err
	}
	if r.failed {
		return mgrReply{}, mgrReplyErr(r)
	}
	return r, nil
}

// encode encodes v, turning a panic of V's own methods into an error.
func (m *Map[V]) encode(v V) (b []byte, err error) {
	if m.c == nil {
		return nil, ErrClosed
	}
	return mgrEncode(m.c, nil, v)
}

// decode decodes a value, turning a panic of V's own methods into an
// error.
func (m *Map[V]) decode(b []byte) (V, error) { return mgrDecode(m.c, b) }

func mgrEncode[V any](c *codec.Codec[V], dst []byte, v V) (b []byte, err error) {
	if c.UserCode() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: encode %v: panic: %v", errMgrEncoding, c.Type(), p)
			}
		}()
	}
	if b, err = c.Append(dst, v); err != nil {
		return nil, fmt.Errorf("%w: encode %v: %w", errMgrEncoding, c.Type(), err)
	}
	return b, nil
}

func mgrDecode[V any](c *codec.Codec[V], b []byte) (v V, err error) {
	if c.UserCode() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("%w: decode %v: panic: %v", errMgrEncoding, c.Type(), p)
			}
		}()
	}
	if v, err = c.Decode(b); err != nil {
		return v, fmt.Errorf("%w: decode %v: %w", errMgrEncoding, c.Type(), err)
	}
	return v, nil
}

// mgrOwnerDead is Lock's result for a grant that reports pid (0: none).
func mgrOwnerDead(name string, pid int) error {
	if pid == 0 {
		return nil
	}
	return &OwnerDeadError{Name: name, PID: pid}
}

// mgrIsNumber reports whether Add works on t.
func mgrIsNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// mgrAdder returns the server's Add on encoded values of c, or nil if V
// is not a number.
func mgrAdder[V any](c *codec.Codec[V]) func(old, delta []byte) ([]byte, error) {
	if !mgrIsNumber(c.Type()) {
		return nil
	}
	return func(old, delta []byte) ([]byte, error) {
		var cur V
		if old != nil {
			var err error
			if cur, err = mgrDecode(c, old); err != nil {
				return nil, err
			}
		}
		d, err := mgrDecode(c, delta)
		if err != nil {
			return nil, err
		}
		x, y := reflect.ValueOf(&cur).Elem(), reflect.ValueOf(d)
		switch {
		case x.CanInt():
			x.SetInt(x.Int() + y.Int())
		case x.CanUint():
			x.SetUint(x.Uint() + y.Uint())
		default:
			x.SetFloat(x.Float() + y.Float())
		}
		return mgrEncode(c, nil, cur)
	}
}

// mgrEqual returns the server's CompareAndSwap test on encoded values of c.
func mgrEqual[V any](c *codec.Codec[V]) func(a, b []byte) (bool, error) {
	return func(a, b []byte) (bool, error) {
		x, err := mgrDecode(c, a)
		if err != nil {
			return false, err
		}
		y, err := mgrDecode(c, b)
		if err != nil {
			return false, err
		}
		return reflect.DeepEqual(x, y), nil
	}
}

// Map handle bytes: version, kind, the fdpass token, the codec's kind and
// the value type's name.
const (
	mgrHandleVersion = 1
	mgrHandleKind    = 'M'
)

// mgrAppendHandle appends the handle bytes of a Map of c's type.
func mgrAppendHandle[V any](dst []byte, tok fdpass.Token, c *codec.Codec[V]) []byte {
	dst = append(dst, mgrHandleVersion, mgrHandleKind)
	dst = tok.Append(dst)
	dst = append(dst, byte(c.Kind()))
	return mgrAppendBytes(dst, []byte(mgrTypeName(c.Type())))
}

// mgrParseHandle checks Map handle bytes for a Map of c's type and
// returns the token; it never panics, whatever b holds.
func mgrParseHandle[V any](b []byte, c *codec.Codec[V]) (fdpass.Token, error) {
	if len(b) < 2 || b[0] != mgrHandleVersion || b[1] != mgrHandleKind {
		return fdpass.Token{}, fmt.Errorf("%w: not a map handle", ErrCorrupt)
	}
	tok, rest, err := fdpass.ParseToken(b[2:])
	if err != nil {
		return fdpass.Token{}, fmt.Errorf("%w: map handle: %v", ErrCorrupt, err)
	}
	in := mgrReader{b: rest}
	kind := in.byte()
	name := in.bytes()
	if err := in.end(); err != nil {
		return fdpass.Token{}, err
	}
	if string(name) != mgrTypeName(c.Type()) || kind != byte(c.Kind()) {
		return fdpass.Token{}, fmt.Errorf("%w: handle of a Map[%s] decoded as a Map[%s]", ErrType, name, mgrTypeName(c.Type()))
	}
	return tok, nil
}

// mgrTypeName names t with its package path when it has one.
func mgrTypeName(t reflect.Type) string {
	if t.Name() != "" && t.PkgPath() != "" {
		return t.PkgPath() + "." + t.Name()
	}
	return t.String()
}

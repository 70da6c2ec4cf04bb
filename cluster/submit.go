package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/progress"
)

// Submit runs f(in) on a worker of the cluster and returns its future. f
// is the handle proc.Register returned; workers run the function
// registered under its name in their own binary.
//
// ctx is the task's context: its deadline travels with the task (workers
// cancel the task's context at it; mind clock skew between machines), and
// when ctx ends or the future is cancelled the future fails at once with
// ctx's error (context.Canceled for Cancel) and the worker running the
// task, if any, has its context cancelled. A progress.Reporter attached
// with progress.NewContext receives the task's progress from the worker.
//
// Submit never blocks and never panics: the task joins the next message
// the executor's sender publishes (tasks submitted together share one),
// and a message the server did not acknowledge is sent again, with the
// same ID, until it is stored. A nil executor, an unusable f, an argument
// that cannot be encoded (ErrEncoding) or is too large for the server
// (ErrTooLarge), or a closed executor (ErrClosed) give a future that has
// already failed.
func Submit[In, Out any](ctx context.Context, e *Executor, f *proc.Func[In, Out], in In) *future.Future[Out] {
	if e == nil {
		return future.Fail[Out](errors.New("cluster: Submit on a nil *Executor"))
	}
	fi, err := infoFor(f)
	if err != nil {
		return future.Fail[Out](err)
	}
	if err := ctx.Err(); err != nil {
		return future.Fail[Out](err)
	}
	data, err := fi.encodeArg(nil, in)
	if err != nil {
		return future.Fail[Out](err)
	}
	t := &task[In, Out]{fi: fi, ctx: ctx, timeout: int64(e.cfg.timeout)}
	var rep progress.Reporter
	if progress.Reporting(ctx) {
		rep = progress.FromContext(ctx)
	}
	en := e.newEntry(fi.name, 1, t, rep)
	// The hooks are in place before the task is pending: a cancellation
	// that comes before is caught by the check after submit.
	cancel := func() { e.cancel(en) }
	t.promise.OnCancel(cancel)
	t.promise.Start()
	if ctx.Done() != nil {
		t.stop = context.AfterFunc(ctx, cancel)
	}
	wt := &wire.Task{ID: en.seq, Func: fi.name, Deadline: deadline(ctx), Timeout: int64(e.cfg.timeout), Progress: rep != nil, Count: 1, Data: data}
	if err := e.submit(en, wt, fi.sig); err != nil {
		t.err = err
		t.complete()
		return t.promise.Future()
	}
	if ctx.Err() != nil {
		cancel()
	}
	return t.promise.Future()
}

// deadline returns ctx's deadline in Unix nanoseconds, or 0.
func deadline(ctx context.Context) int64 {
	if d, ok := ctx.Deadline(); ok {
		return d.UnixNano()
	}
	return 0
}

// task is a submitted task's sink: its promise and the outcome waiting to
// be published.
type task[In, Out any] struct {
	promise future.Promise[Out]
	fi      *funcInfo[In, Out]
	ctx     context.Context
	timeout int64
	stop    func() bool
	val     Out
	err     error
}

func (t *task[In, Out]) outcome(_ int, o *wire.Outcome) outcomeKind {
	if o.Status == wire.StatusOK {
		t.val, t.err = t.fi.decodeOut(o.Value)
		if t.err != nil {
			return kindFailed
		}
		return kindCompleted
	}
	var k outcomeKind
	k, t.err = outcomeError(t.fi.name, o, t.timeout, t.cancelErr)
	return k
}

func (t *task[In, Out]) fail(_, _ int, err error) { t.err = err }

func (t *task[In, Out]) complete() {
	if t.stop != nil {
		t.stop()
	}
	t.promise.Resolve(t.val, t.err)
}

func (t *task[In, Out]) cancelErr() error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

// outcomeError turns a worker's report of a failed item into the error
// its caller sees: the same types proc uses.
func outcomeError(fn string, o *wire.Outcome, timeout int64, cancelErr func() error) (outcomeKind, error) {
	switch o.Status {
	case wire.StatusError:
		return kindFailed, &proc.TaskError{Func: fn, Message: o.Msg}
	case wire.StatusPanic:
		return kindPanicked, &future.PanicError{Value: o.Msg, Stack: append([]byte(nil), o.Stack...)}
	case wire.StatusTimeout:
		return kindTimedOut, fmt.Errorf("cluster: %s: %w (limit %v)", fn, ErrTimeout, durationString(timeout))
	case wire.StatusCancelled:
		return kindCancelled, cancelErr()
	}
	return kindFailed, &remoteInvalid{msg: o.Msg}
}

func durationString(ns int64) string { return time.Duration(ns).String() }

// remoteInvalid is a worker's report that an item could not run: its
// argument or result could not be decoded or encoded, or was too large.
type remoteInvalid struct{ msg string }

// Error returns the worker's report.
func (e *remoteInvalid) Error() string { return "cluster: worker: " + e.msg }

// Is makes it match ErrEncoding.
func (e *remoteInvalid) Is(target error) bool { return target == ErrEncoding }

// funcInfo is what the submitting side needs of a registered function:
// its name, signature and codecs.
type funcInfo[In, Out any] struct {
	name string
	sig  string
	in   *codec.Codec[In]
	out  *codec.Codec[Out]
}

var infos sync.Map // *proc.Func[In, Out] → *funcInfo[In, Out] or error

// infoFor checks that f is a usable registration and returns its info.
func infoFor[In, Out any](f *proc.Func[In, Out]) (*funcInfo[In, Out], error) {
	if f == nil {
		return nil, errors.New("cluster: nil *proc.Func")
	}
	if v, ok := infos.Load(f); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*funcInfo[In, Out]), nil
	}
	fi, err := newInfo(f)
	if err != nil {
		infos.Store(f, err)
		return nil, err
	}
	v, _ := infos.LoadOrStore(f, fi)
	return v.(*funcInfo[In, Out]), nil
}

func newInfo[In, Out any](f *proc.Func[In, Out]) (*funcInfo[In, Out], error) {
	if err := f.Err(); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	name := f.Name()
	fi := &funcInfo[In, Out]{name: name, sig: signature[In, Out](name)}
	if e := registry.Lookup(name); e == nil || e.Sig != fi.sig {
		return nil, fmt.Errorf("cluster: %q: not in this program's registry", name)
	}
	var err error
	if fi.in, err = codec.For[In](); err != nil {
		return nil, fmt.Errorf("cluster: %q: argument type: %w", name, err)
	}
	if fi.out, err = codec.For[Out](); err != nil {
		return nil, fmt.Errorf("cluster: %q: result type: %w", name, err)
	}
	return fi, nil
}

// signature is registry.Entry.Sig for a function of these types.
func signature[In, Out any](name string) string {
	return fmt.Sprintf("%s(%v) %v", name, reflect.TypeFor[In](), reflect.TypeFor[Out]())
}

// encodeArg appends in to dst as one wire item. A panic in the type's own
// methods is reported as a *future.PanicError.
func (fi *funcInfo[In, Out]) encodeArg(dst []byte, in In) (out []byte, err error) {
	mark := len(dst)
	defer func() {
		if r := recover(); r != nil {
			out, err = dst[:mark], fmt.Errorf("cluster: encode argument of %q: %w", fi.name, &future.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	dst, mark = wire.BeginItem(dst)
	if dst, err = fi.in.Append(dst, in); err != nil {
		return dst[:mark], fmt.Errorf("cluster: encode argument of %q: %w: %w", fi.name, ErrEncoding, err)
	}
	return wire.EndItem(dst, mark), nil
}

// decodeOut decodes a result value sent by a worker.
func (fi *funcInfo[In, Out]) decodeOut(b []byte) (v Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cluster: decode result of %q: %w", fi.name, &future.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	if v, err = fi.out.Decode(b); err != nil {
		return v, fmt.Errorf("cluster: decode result of %q: %w: %w", fi.name, ErrEncoding, err)
	}
	return v, nil
}

package proc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
)

// Func is a registered task function: the handle that Submit, Map, Start
// and WithInit take. Only Register makes a usable Func; it is immutable and
// safe for concurrent use.
type Func[In, Out any] struct {
	name string
	fn   func(context.Context, In) (Out, error)
	in   *codec.Codec[In]
	out  *codec.Codec[Out]
	err  error // why the registration is unusable; every use reports it
}

// Register records fn under name so that worker processes can run it, and
// returns the handle to submit it with. Call it at package level:
//
//	var Resize = proc.Register("resize", resize)
//
// so that it runs in every process of the program, parent and workers
// alike, before main calls Main.
//
// In and Out cross the process boundary as data: plain Go data (numbers,
// strings, slices, maps, structs of exported fields, pointers to them),
// types with binary methods (encoding.BinaryAppender or BinaryMarshaler,
// with BinaryUnmarshaler), or anything else encoding/gob accepts.
//
// Register does not panic. A registration that cannot work (empty name,
// nil fn, a name already taken, a type holding channels or functions, or a
// call after Main) yields a Func whose every use fails with that error;
// for a name taken twice, the first registration keeps it.
func Register[In, Out any](name string, fn func(context.Context, In) (Out, error)) *Func[In, Out] {
	f := &Func[In, Out]{name: name, fn: fn}
	f.err = f.check()
	e := &registry.Entry{
		Name: name,
		Sig:  fmt.Sprintf("%s(%v) %v", name, reflect.TypeFor[In](), reflect.TypeFor[Out]()),
		Run:  f.run,
	}
	f.err = registry.Add(e, f.err)
	return f
}

func (f *Func[In, Out]) check() error {
	if f.name == "" {
		return errors.New("empty name")
	}
	if f.fn == nil {
		return errors.New("nil function")
	}
	var err error
	if f.in, err = codec.For[In](); err != nil {
		return fmt.Errorf("argument type: %w", err)
	}
	if f.out, err = codec.For[Out](); err != nil {
		return fmt.Errorf("result type: %w", err)
	}
	return nil
}

// Name returns the name the function was registered under.
func (f *Func[In, Out]) Name() string { return f.name }

// Err returns why f cannot be used, or nil: the reason its registration
// failed (see Register), which every Submit, Map and Start with f also
// reports. Other executors of registered functions (the cluster package)
// check it the same way.
func (f *Func[In, Out]) Err() error { return f.usable() }

// usable reports why f cannot be submitted, or nil.
func (f *Func[In, Out]) usable() error {
	switch {
	case f == nil || f.name == "" && f.err == nil:
		return errors.New("proc: Func not made by Register")
	case f.err != nil:
		return f.err
	}
	return nil
}

// encodeArg appends in to dst as one wire item. A panic in the type's own
// methods is reported as a *future.PanicError.
func (f *Func[In, Out]) encodeArg(dst []byte, in In) ([]byte, error) {
	if f.in.UserCode() {
		return f.encodeArgGuarded(dst, in)
	}
	dst, mark := wire.BeginItem(dst)
	dst, err := f.in.Append(dst, in)
	if err != nil {
		return dst[:mark], fmt.Errorf("proc: encode argument of %q: %w: %w", f.name, ErrEncoding, err)
	}
	return wire.EndItem(dst, mark), nil
}

// encodeArgGuarded is encodeArg for types whose methods may panic.
func (f *Func[In, Out]) encodeArgGuarded(dst []byte, in In) (out []byte, err error) {
	mark := len(dst)
	defer func() {
		if r := recover(); r != nil {
			out, err = dst[:mark], fmt.Errorf("proc: encode argument of %q: %w", f.name, &future.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	dst, mark = wire.BeginItem(dst)
	if dst, err = f.in.Append(dst, in); err != nil {
		return dst[:mark], fmt.Errorf("proc: encode argument of %q: %w: %w", f.name, ErrEncoding, err)
	}
	return wire.EndItem(dst, mark), nil
}

// decodeOut decodes a result value sent by a worker.
func (f *Func[In, Out]) decodeOut(b []byte) (v Out, err error) {
	if f.out.UserCode() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("proc: decode result of %q: %w", f.name, &future.PanicError{Value: r, Stack: debug.Stack()})
			}
		}()
	}
	if v, err = f.out.Decode(b); err != nil {
		return v, fmt.Errorf("proc: decode result of %q: %w: %w", f.name, ErrEncoding, err)
	}
	return v, nil
}

// run is the worker side of one item: decode the argument, call the
// function, append the encoded result to dst. A panic anywhere (in fn or
// in the types' own methods) becomes a *future.PanicError; codec failures
// wrap ErrEncoding.
func (f *Func[In, Out]) run(ctx context.Context, arg, dst []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, &future.PanicError{Value: fmt.Sprint(r), Stack: debug.Stack()}
		}
	}()
	in, err := f.in.Decode(arg)
	if err != nil {
		return dst, fmt.Errorf("decode argument of %q: %w: %w", f.name, ErrEncoding, err)
	}
	v, err := f.fn(ctx, in)
	if err != nil {
		return dst, err
	}
	if out, err = f.out.Append(dst, v); err != nil {
		return dst, fmt.Errorf("encode result of %q: %w: %w", f.name, ErrEncoding, err)
	}
	return out, nil
}

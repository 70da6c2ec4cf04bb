// Package codec turns Go values of one static type into bytes and back, for
// values that cross a process boundary (skein's proc workers, later a
// network transport).
//
// The wire carries data only: a decoder never runs code named by its input.
// Both ends must use the same Go type; no type information is sent, so a
// Codec is chosen once per type and reused for every value.
//
// For[T] picks the fastest kind that can carry T:
//
//   - Binary: *T implements encoding.BinaryUnmarshaler and T (or *T)
//     implements encoding.BinaryAppender or encoding.BinaryMarshaler
//     (time.Time, netip.Addr, user types). The type's own methods define
//     the bytes.
//   - Plain: T is built from booleans, integers, floats, complex numbers,
//     strings, slices, arrays, maps, pointers and structs whose fields are
//     all exported (nested Binary types are allowed). A compact varint
//     format compiled once per type with reflect; the most common scalar
//     types (int, string, []byte, ...) skip reflect entirely.
//   - Gob: anything else encoding/gob accepts (interfaces holding
//     gob.Register-ed types, structs with unexported fields, which gob
//     skips). Each value is a self-contained gob stream, so it is the
//     slowest kind; it exists so that unusual types still work.
//
// Types that contain channels, functions or unsafe pointers cannot cross a
// process boundary: For returns an error for them.
//
// Decode never panics on malformed input and never allocates more than its
// input can justify (every length is checked against the bytes left).
package codec

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
)

// Kind names the encoding a Codec uses.
type Kind uint8

// The kinds, in the order For prefers them.
const (
	Binary Kind = iota + 1 // the type's own AppendBinary/MarshalBinary and UnmarshalBinary
	Plain                  // skein's compact format for plain data types
	Gob                    // encoding/gob, one self-contained stream per value
)

// String returns the kind's lower-case name.
func (k Kind) String() string {
	switch k {
	case Binary:
		return "binary"
	case Plain:
		return "plain"
	case Gob:
		return "gob"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ErrUnsupported is wrapped by the error For and ForKind return when a
// type cannot be encoded (with the kind asked for).
var ErrUnsupported = errors.New("codec: unsupported type")

// ErrCorrupt is wrapped by every error Decode returns for malformed input.
var ErrCorrupt = errors.New("codec: corrupt input")

// Codec encodes and decodes values of type T. A Codec is immutable and
// safe for concurrent use.
type Codec[T any] struct {
	kind     Kind
	typ      reflect.Type
	userCode bool // encoding or decoding calls methods of the types
	enc      func(dst []byte, v T) ([]byte, error)
	dec      func(src []byte) (T, error)
}

// For returns the codec For prefers for T (see the package comment), or
// an error wrapping ErrUnsupported when no kind can carry T.
func For[T any]() (*Codec[T], error) {
	t := reflect.TypeFor[T]()
	if err := checkCrossable(t, map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	for _, k := range []Kind{Binary, Plain, Gob} {
		if c, err := ForKind[T](k); err == nil {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: %v", ErrUnsupported, t)
}

// ForKind returns a codec of kind k for T, or an error wrapping
// ErrUnsupported when k cannot carry T. It exists to compare kinds (tests,
// benchmarks); programs use For.
func ForKind[T any](k Kind) (*Codec[T], error) {
	t := reflect.TypeFor[T]()
	c := &Codec[T]{kind: k, typ: t}
	switch k {
	case Binary:
		if !isBinary(t) {
			return nil, fmt.Errorf("%w: %v does not implement encoding.BinaryAppender (or BinaryMarshaler) and BinaryUnmarshaler", ErrUnsupported, t)
		}
		c.enc, c.dec, c.userCode = binaryEnc[T], binaryDec[T], true
	case Plain:
		if enc, dec, ok := scalar[T](); ok {
			c.enc, c.dec = enc, dec
			return c, nil
		}
		done := map[reflect.Type]*plain{}
		p, err := compile(t, done)
		if err != nil {
			return nil, err
		}
		for t := range done {
			c.userCode = c.userCode || isBinary(t)
		}
		c.enc = func(dst []byte, v T) ([]byte, error) {
			return p.enc(dst, reflect.ValueOf(&v).Elem())
		}
		c.dec = func(src []byte) (v T, err error) {
			r := reader{b: src}
			if err := p.dec(&r, reflect.ValueOf(&v).Elem()); err != nil {
				return v, err
			}
			return v, r.end()
		}
	case Gob:
		if err := checkCrossable(t, map[reflect.Type]bool{}); err != nil {
			return nil, err
		}
		c.enc, c.dec, c.userCode = gobEnc[T], gobDec[T], true
	default:
		return nil, fmt.Errorf("%w: unknown kind %d", ErrUnsupported, k)
	}
	return c, nil
}

// Kind reports which encoding c uses.
func (c *Codec[T]) Kind() Kind { return c.kind }

// Type returns T as a reflect.Type.
func (c *Codec[T]) Type() reflect.Type { return c.typ }

// UserCode reports whether Append and Decode call methods of the types
// (binary methods, gob's), which may panic; otherwise they run only this
// package's code, which does not.
func (c *Codec[T]) UserCode() bool { return c.userCode }

// Append appends the encoding of v to dst. The error comes from the
// value's own methods (Binary) or from gob (Gob); a panic in a user method
// is the caller's to recover.
func (c *Codec[T]) Append(dst []byte, v T) ([]byte, error) { return c.enc(dst, v) }

// Decode returns the value encoded in src, which must hold exactly one
// value. Malformed input yields an error wrapping ErrCorrupt (or the
// error of the type's own UnmarshalBinary); it never panics unless a user
// method does.
func (c *Codec[T]) Decode(src []byte) (T, error) { return c.dec(src) }

var (
	appenderType    = reflect.TypeFor[encoding.BinaryAppender]()
	marshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	unmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// isBinary reports whether values of t carry themselves through their
// binary methods.
func isBinary(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return (pt.Implements(appenderType) || pt.Implements(marshalerType)) && pt.Implements(unmarshalerType)
}

func binaryEnc[T any](dst []byte, v T) ([]byte, error) {
	return appendBinary(dst, any(&v))
}

func appendBinary(dst []byte, v any) ([]byte, error) {
	if a, ok := v.(encoding.BinaryAppender); ok {
		return a.AppendBinary(dst)
	}
	b, err := v.(encoding.BinaryMarshaler).MarshalBinary()
	return append(dst, b...), err
}

func binaryDec[T any](src []byte) (v T, err error) {
	err = any(&v).(encoding.BinaryUnmarshaler).UnmarshalBinary(src)
	return v, err
}

func gobEnc[T any](dst []byte, v T) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := gob.NewEncoder(buf).Encode(&v); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

func gobDec[T any](src []byte) (v T, err error) {
	// gob reports malformed input as errors, but it is a large decoder fed
	// with bytes from another process: make sure a missed case cannot take
	// the parent down.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: gob: %v", ErrCorrupt, r)
		}
	}()
	r := bytes.NewReader(src)
	if err := gob.NewDecoder(r).Decode(&v); err != nil {
		return v, fmt.Errorf("%w: gob: %v", ErrCorrupt, err)
	}
	if r.Len() != 0 {
		return v, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, r.Len())
	}
	return v, nil
}

// checkCrossable rejects types that hold things only meaningful inside
// one process. Binary types are trusted to encode themselves.
func checkCrossable(t reflect.Type, seen map[reflect.Type]bool) error {
	if seen[t] {
		return nil
	}
	seen[t] = true
	if isBinary(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return fmt.Errorf("%w: %v holds a %v, which cannot cross a process boundary", ErrUnsupported, t, t.Kind())
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return checkCrossable(t.Elem(), seen)
	case reflect.Map:
		if err := checkCrossable(t.Key(), seen); err != nil {
			return err
		}
		return checkCrossable(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue // neither Plain nor Gob carries unexported fields
			}
			if err := checkCrossable(f.Type, seen); err != nil {
				return fmt.Errorf("%w (field %s of %v)", err, f.Name, t)
			}
		}
	}
	return nil
}

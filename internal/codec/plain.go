package codec

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
)

// The Plain format, per kind (no type information, both ends know T):
//
//	bool              one byte, 0 or 1
//	int, int8..int64  zig-zag varint
//	uint..uint64      uvarint
//	float32/64        4/8 bytes little endian (IEEE 754 bits)
//	complex64/128     real then imaginary part, as floats
//	string            uvarint length, bytes
//	slice, map        uvarint length+1 (0 is nil), then the elements
//	                  (a map's as key, value pairs)
//	array             the elements
//	pointer           0 for nil, or 1 followed by the element
//	struct            the exported fields in declaration order
//	nested Binary     uvarint length, the type's own bytes

// maxZeroSized bounds the length of a slice or map whose elements may take
// no bytes on the wire (struct{} and friends), which the bytes left cannot
// bound.
const maxZeroSized = 1 << 20

// plain is the compiled codec of one type.
type plain struct {
	enc func(dst []byte, v reflect.Value) ([]byte, error)
	dec func(r *reader, v reflect.Value) error
	// min is the fewest bytes a value takes on the wire; lengths read from
	// the input are checked against it.
	min int
}

// compile builds the Plain codec of t. done holds the codecs being built,
// so that recursive types (type List struct{ Next *List }) refer to their
// own, still incomplete, codec.
func compile(t reflect.Type, done map[reflect.Type]*plain) (*plain, error) {
	if p, ok := done[t]; ok {
		return p, nil
	}
	p := &plain{}
	done[t] = p
	if isBinary(t) {
		p.enc, p.dec, p.min = nestedBinaryEnc, nestedBinaryDec, 1
		return p, nil
	}
	var err error
	switch t.Kind() {
	case reflect.Bool:
		p.enc, p.dec, p.min = boolEnc, boolDec, 1
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.enc, p.dec, p.min = intEnc, intDec(t.Bits()), 1
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.enc, p.dec, p.min = uintEnc, uintDec(t.Bits()), 1
	case reflect.Float32:
		p.enc, p.dec, p.min = float32Enc, float32Dec, 4
	case reflect.Float64:
		p.enc, p.dec, p.min = float64Enc, float64Dec, 8
	case reflect.Complex64:
		p.enc, p.dec, p.min = complex64Enc, complex64Dec, 8
	case reflect.Complex128:
		p.enc, p.dec, p.min = complex128Enc, complex128Dec, 16
	case reflect.String:
		p.enc, p.dec, p.min = stringEnc, stringDec, 1
	case reflect.Slice:
		err = compileSlice(p, t, done)
	case reflect.Array:
		err = compileArray(p, t, done)
	case reflect.Map:
		err = compileMap(p, t, done)
	case reflect.Pointer:
		err = compilePointer(p, t, done)
	case reflect.Struct:
		err = compileStruct(p, t, done)
	default:
		err = fmt.Errorf("%w: %v (kind %v) is not plain data", ErrUnsupported, t, t.Kind())
	}
	if err != nil {
		delete(done, t)
		return nil, err
	}
	return p, nil
}

func compileSlice(p *plain, t reflect.Type, done map[reflect.Type]*plain) error {
	p.min = 1
	if t.Elem().Kind() == reflect.Uint8 && !isBinary(t.Elem()) {
		p.enc, p.dec = bytesEnc, bytesDec
		return nil
	}
	e, err := compile(t.Elem(), done)
	if err != nil {
		return err
	}
	p.enc = func(dst []byte, v reflect.Value) (_ []byte, err error) {
		if v.IsNil() {
			return append(dst, 0), nil
		}
		n := v.Len()
		dst = binary.AppendUvarint(dst, uint64(n)+1)
		for i := range n {
			if dst, err = e.enc(dst, v.Index(i)); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	p.dec = func(r *reader, v reflect.Value) error {
		n, isNil, err := r.length(e.min)
		if err != nil || isNil {
			v.SetZero()
			return err
		}
		s := reflect.MakeSlice(t, n, n)
		for i := range n {
			if err := e.dec(r, s.Index(i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	}
	return nil
}

func compileArray(p *plain, t reflect.Type, done map[reflect.Type]*plain) error {
	e, err := compile(t.Elem(), done)
	if err != nil {
		return err
	}
	n := t.Len()
	p.min = n * e.min
	p.enc = func(dst []byte, v reflect.Value) (_ []byte, err error) {
		for i := range n {
			if dst, err = e.enc(dst, v.Index(i)); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	p.dec = func(r *reader, v reflect.Value) error {
		for i := range n {
			if err := e.dec(r, v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func compileMap(p *plain, t reflect.Type, done map[reflect.Type]*plain) error {
	k, err := compile(t.Key(), done)
	if err != nil {
		return err
	}
	e, err := compile(t.Elem(), done)
	if err != nil {
		return err
	}
	p.min = 1
	p.enc = func(dst []byte, v reflect.Value) (_ []byte, err error) {
		if v.IsNil() {
			return append(dst, 0), nil
		}
		dst = binary.AppendUvarint(dst, uint64(v.Len())+1)
		it := v.MapRange()
		for it.Next() {
			if dst, err = k.enc(dst, it.Key()); err != nil {
				return dst, err
			}
			if dst, err = e.enc(dst, it.Value()); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	p.dec = func(r *reader, v reflect.Value) error {
		n, isNil, err := r.length(k.min + e.min)
		if err != nil || isNil {
			v.SetZero()
			return err
		}
		m := reflect.MakeMapWithSize(t, n)
		key, val := reflect.New(t.Key()).Elem(), reflect.New(t.Elem()).Elem()
		for range n {
			if err := k.dec(r, key); err != nil {
				return err
			}
			if err := e.dec(r, val); err != nil {
				return err
			}
			m.SetMapIndex(key, val)
		}
		v.Set(m)
		return nil
	}
	return nil
}

func compilePointer(p *plain, t reflect.Type, done map[reflect.Type]*plain) error {
	e, err := compile(t.Elem(), done)
	if err != nil {
		return err
	}
	p.min = 1
	p.enc = func(dst []byte, v reflect.Value) ([]byte, error) {
		if v.IsNil() {
			return append(dst, 0), nil
		}
		return e.enc(append(dst, 1), v.Elem())
	}
	p.dec = func(r *reader, v reflect.Value) error {
		b, err := r.byte()
		if err != nil {
			return err
		}
		switch b {
		case 0:
			v.SetZero()
			return nil
		case 1:
			x := reflect.New(t.Elem())
			if err := e.dec(r, x.Elem()); err != nil {
				return err
			}
			v.Set(x)
			return nil
		}
		return fmt.Errorf("%w: pointer tag %d", ErrCorrupt, b)
	}
	return nil
}

func compileStruct(p *plain, t reflect.Type, done map[reflect.Type]*plain) error {
	type field struct {
		index int
		c     *plain
	}
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			return fmt.Errorf("%w: %v has unexported field %s", ErrUnsupported, t, f.Name)
		}
		c, err := compile(f.Type, done)
		if err != nil {
			return err
		}
		fields = append(fields, field{i, c})
		p.min += c.min
	}
	p.enc = func(dst []byte, v reflect.Value) (_ []byte, err error) {
		for _, f := range fields {
			if dst, err = f.c.enc(dst, v.Field(f.index)); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	p.dec = func(r *reader, v reflect.Value) error {
		for _, f := range fields {
			if err := f.c.dec(r, v.Field(f.index)); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

func nestedBinaryEnc(dst []byte, v reflect.Value) ([]byte, error) {
	// Encode into the tail of dst, then move it behind its length prefix.
	start := len(dst)
	out, err := appendBinary(dst, addressable(v).Addr().Interface())
	if err != nil {
		return dst, err
	}
	body := len(out) - start
	var pre [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(pre[:], uint64(body))
	out = append(out, pre[:n]...)
	copy(out[start+n:], out[start:start+body])
	copy(out[start:], pre[:n])
	return out, nil
}

func nestedBinaryDec(r *reader, v reflect.Value) error {
	b, err := r.bytes()
	if err != nil {
		return err
	}
	return v.Addr().Interface().(encoding.BinaryUnmarshaler).UnmarshalBinary(b)
}

// addressable returns v, or an addressable copy of it (map values and the
// like are not addressable, and pointer-receiver methods need an address).
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

func boolEnc(dst []byte, v reflect.Value) ([]byte, error) {
	if v.Bool() {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func boolDec(r *reader, v reflect.Value) error {
	b, err := r.bool()
	v.SetBool(b)
	return err
}

func intEnc(dst []byte, v reflect.Value) ([]byte, error) {
	return binary.AppendVarint(dst, v.Int()), nil
}

func intDec(bits int) func(*reader, reflect.Value) error {
	return func(r *reader, v reflect.Value) error {
		x, err := r.varint()
		if err != nil {
			return err
		}
		if bits < 64 && (x < -1<<(bits-1) || x >= 1<<(bits-1)) {
			return fmt.Errorf("%w: %d overflows int%d", ErrCorrupt, x, bits)
		}
		v.SetInt(x)
		return nil
	}
}

func uintEnc(dst []byte, v reflect.Value) ([]byte, error) {
	return binary.AppendUvarint(dst, v.Uint()), nil
}

func uintDec(bits int) func(*reader, reflect.Value) error {
	return func(r *reader, v reflect.Value) error {
		x, err := r.uvarint()
		if err != nil {
			return err
		}
		if bits < 64 && x >= 1<<bits {
			return fmt.Errorf("%w: %d overflows uint%d", ErrCorrupt, x, bits)
		}
		v.SetUint(x)
		return nil
	}
}

func float32Enc(dst []byte, v reflect.Value) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v.Float()))), nil
}

func float32Dec(r *reader, v reflect.Value) error {
	x, err := r.float32()
	v.SetFloat(float64(x))
	return err
}

func float64Enc(dst []byte, v reflect.Value) ([]byte, error) {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float())), nil
}

func float64Dec(r *reader, v reflect.Value) error {
	x, err := r.float64()
	v.SetFloat(x)
	return err
}

func complex64Enc(dst []byte, v reflect.Value) ([]byte, error) {
	c := v.Complex()
	dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(real(c))))
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(imag(c)))), nil
}

func complex64Dec(r *reader, v reflect.Value) error {
	re, err := r.float32()
	if err != nil {
		return err
	}
	im, err := r.float32()
	v.SetComplex(complex(float64(re), float64(im)))
	return err
}

func complex128Enc(dst []byte, v reflect.Value) ([]byte, error) {
	c := v.Complex()
	dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(real(c)))
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(imag(c))), nil
}

func complex128Dec(r *reader, v reflect.Value) error {
	re, err := r.float64()
	if err != nil {
		return err
	}
	im, err := r.float64()
	v.SetComplex(complex(re, im))
	return err
}

func stringEnc(dst []byte, v reflect.Value) ([]byte, error) {
	s := v.String()
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
}

func stringDec(r *reader, v reflect.Value) error {
	b, err := r.bytes()
	v.SetString(string(b))
	return err
}

func bytesEnc(dst []byte, v reflect.Value) ([]byte, error) {
	if v.IsNil() {
		return append(dst, 0), nil
	}
	b := v.Bytes()
	return append(binary.AppendUvarint(dst, uint64(len(b))+1), b...), nil
}

func bytesDec(r *reader, v reflect.Value) error {
	n, isNil, err := r.length(1)
	if err != nil || isNil {
		v.SetZero()
		return err
	}
	s := reflect.MakeSlice(v.Type(), n, n)
	copy(s.Bytes(), r.b[r.off:r.off+n])
	r.off += n
	v.Set(s)
	return nil
}

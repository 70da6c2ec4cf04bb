package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"
)

// scalar returns reflect-free codecs for the most common unnamed scalar
// types (the arguments of most task functions), with the same bytes as
// the compiled Plain codec. The type switch runs once; the functions it
// returns reinterpret T as the type it matched, which is exactly T, so
// values never escape to the heap.
func scalar[T any]() (enc func([]byte, T) ([]byte, error), dec func([]byte) (T, error), ok bool) {
	switch any(*new(T)).(type) {
	case int:
		return func(dst []byte, v T) ([]byte, error) {
				return binary.AppendVarint(dst, int64(*(*int)(unsafe.Pointer(&v)))), nil
			}, func(src []byte) (v T, err error) {
				x, err := fullVarint(src)
				if err == nil && int64(int(x)) != x {
					err = fmt.Errorf("%w: %d overflows int", ErrCorrupt, x)
				}
				*(*int)(unsafe.Pointer(&v)) = int(x)
				return v, err
			}, true
	case int64:
		return func(dst []byte, v T) ([]byte, error) {
				return binary.AppendVarint(dst, *(*int64)(unsafe.Pointer(&v))), nil
			}, func(src []byte) (v T, err error) {
				*(*int64)(unsafe.Pointer(&v)), err = fullVarint(src)
				return v, err
			}, true
	case uint64:
		return func(dst []byte, v T) ([]byte, error) {
				return binary.AppendUvarint(dst, *(*uint64)(unsafe.Pointer(&v))), nil
			}, func(src []byte) (v T, err error) {
				x, n := binary.Uvarint(src)
				if n <= 0 || n != len(src) {
					return v, fmt.Errorf("%w: bad uvarint", ErrCorrupt)
				}
				*(*uint64)(unsafe.Pointer(&v)) = x
				return v, nil
			}, true
	case float64:
		return func(dst []byte, v T) ([]byte, error) {
				return binary.LittleEndian.AppendUint64(dst, math.Float64bits(*(*float64)(unsafe.Pointer(&v)))), nil
			}, func(src []byte) (v T, err error) {
				if len(src) != 8 {
					return v, fmt.Errorf("%w: float64 of %d bytes", ErrCorrupt, len(src))
				}
				*(*float64)(unsafe.Pointer(&v)) = math.Float64frombits(binary.LittleEndian.Uint64(src))
				return v, nil
			}, true
	case string:
		return func(dst []byte, v T) ([]byte, error) {
				s := *(*string)(unsafe.Pointer(&v))
				return append(binary.AppendUvarint(dst, uint64(len(s))), s...), nil
			}, func(src []byte) (v T, err error) {
				r := reader{b: src}
				b, err := r.bytes()
				if err != nil {
					return v, err
				}
				*(*string)(unsafe.Pointer(&v)) = string(b)
				return v, r.end()
			}, true
	case []byte:
		return func(dst []byte, v T) ([]byte, error) {
				b := *(*[]byte)(unsafe.Pointer(&v))
				if b == nil {
					return append(dst, 0), nil
				}
				return append(binary.AppendUvarint(dst, uint64(len(b))+1), b...), nil
			}, func(src []byte) (v T, err error) {
				r := reader{b: src}
				n, isNil, err := r.length(1)
				if err != nil || isNil {
					return v, err
				}
				*(*[]byte)(unsafe.Pointer(&v)) = append(make([]byte, 0, n), src[r.off:r.off+n]...)
				r.off += n
				return v, r.end()
			}, true
	}
	return nil, nil, false
}

// fullVarint decodes src, which must be exactly one varint.
func fullVarint(src []byte) (int64, error) {
	x, n := binary.Varint(src)
	if n <= 0 || n != len(src) {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	return x, nil
}

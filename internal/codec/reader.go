package codec

import (
	"encoding/binary"
	"fmt"
	"math"
)

// reader walks an encoded value; every method checks the bytes left and
// reports malformed input as an error wrapping ErrCorrupt.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) end() error {
	if n := r.left(); n != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, n)
	}
	return nil
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, fmt.Errorf("%w: unexpected end of input", ErrCorrupt)
	}
	b := r.b[r.off]
	r.off++
	return b, nil
}

func (r *reader) bool() (bool, error) {
	b, err := r.byte()
	if err != nil {
		return false, err
	}
	if b > 1 {
		return false, fmt.Errorf("%w: bool byte %d", ErrCorrupt, b)
	}
	return b == 1, nil
}

func (r *reader) uvarint() (uint64, error) {
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad uvarint", ErrCorrupt)
	}
	r.off += n
	return x, nil
}

func (r *reader) varint() (int64, error) {
	x, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	r.off += n
	return x, nil
}

func (r *reader) float32() (float32, error) {
	if r.left() < 4 {
		return 0, fmt.Errorf("%w: unexpected end of input", ErrCorrupt)
	}
	x := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return math.Float32frombits(x), nil
}

func (r *reader) float64() (float64, error) {
	if r.left() < 8 {
		return 0, fmt.Errorf("%w: unexpected end of input", ErrCorrupt)
	}
	x := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return math.Float64frombits(x), nil
}

// bytes reads a uvarint length and that many bytes, aliasing the input.
func (r *reader) bytes() ([]byte, error) {
	n, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64(r.left()) {
		return nil, fmt.Errorf("%w: length %d exceeds the %d bytes left", ErrCorrupt, n, r.left())
	}
	b := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

// length reads the length+1 prefix of a slice or map whose elements take
// at least min bytes each, and checks that the bytes left can hold them.
func (r *reader) length(min int) (n int, isNil bool, err error) {
	x, err := r.uvarint()
	if err != nil {
		return 0, false, err
	}
	if x == 0 {
		return 0, true, nil
	}
	x--
	limit := uint64(maxZeroSized)
	if min > 0 {
		limit = uint64(r.left() / min)
	}
	if x > limit {
		return 0, false, fmt.Errorf("%w: length %d exceeds what the %d bytes left can hold", ErrCorrupt, x, r.left())
	}
	return int(x), false, nil
}

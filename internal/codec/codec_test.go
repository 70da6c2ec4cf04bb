package codec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// stamp carries itself through its own binary methods.
type stamp struct{ n uint32 }

func (s stamp) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(b, s.n), nil
}

func (s *stamp) UnmarshalBinary(b []byte) error {
	if len(b) != 4 {
		return errors.New("stamp: want 4 bytes")
	}
	s.n = binary.BigEndian.Uint32(b)
	return nil
}

// marshaled implements only the older BinaryMarshaler.
type marshaled struct{ s string }

func (m marshaled) MarshalBinary() ([]byte, error) { return []byte(m.s), nil }
func (m *marshaled) UnmarshalBinary(b []byte) error {
	m.s = string(b)
	return nil
}

type celsius float64

type record struct {
	Ok    bool
	I8    int8
	I     int
	U16   uint16
	U     uint64
	F32   float32
	F     float64
	C     complex128
	C64   complex64
	Name  string
	Temp  celsius
	Tags  []string
	Raw   []byte
	Grid  [3]uint8
	Attrs map[string]int
	Next  *record
	When  stamp
	Addr  netip.Addr
	Empty []struct{}
}

type hidden struct {
	X int
	y int
}

type withChan struct{ C chan int }

type withFunc struct {
	Name string
	F    func()
}

type iface struct{ V any }

func roundTrip[T any](t *testing.T, want T, kind Kind) {
	t.Helper()
	c, err := For[T]()
	if err != nil {
		t.Fatalf("For[%T]: %v", want, err)
	}
	if c.Kind() != kind {
		t.Fatalf("For[%T] kind = %v, want %v", want, c.Kind(), kind)
	}
	b, err := c.Append(nil, want)
	if err != nil {
		t.Fatalf("Append(%v): %v", want, err)
	}
	got, err := c.Decode(b)
	if err != nil {
		t.Fatalf("Decode(%x): %v", b, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip of %T:\n got %#v\nwant %#v", want, got, want)
	}
}

func TestRoundTripKeepsValues(t *testing.T) {
	full := record{
		Ok: true, I8: -128, I: math.MinInt64, U16: 65535, U: math.MaxUint64,
		F32: 1.5, F: -2.25, C: complex(1, -1), C64: complex(2, 3), Name: "héllo",
		Temp: 21.5, Tags: []string{"a", "", "c"}, Raw: []byte{}, Grid: [3]uint8{1, 2, 3},
		Attrs: map[string]int{"x": 1, "y": -1}, Next: &record{Name: "tail"},
		When: stamp{42}, Addr: netip.MustParseAddr("10.0.0.1"), Empty: make([]struct{}, 3),
	}
	t.Run("int", func(t *testing.T) { roundTrip(t, -7, Plain) })
	t.Run("int64", func(t *testing.T) { roundTrip(t, int64(math.MaxInt64), Plain) })
	t.Run("uint64", func(t *testing.T) { roundTrip(t, uint64(math.MaxUint64), Plain) })
	t.Run("float64", func(t *testing.T) { roundTrip(t, math.Inf(-1), Plain) })
	t.Run("string", func(t *testing.T) { roundTrip(t, "skein", Plain) })
	t.Run("bytes", func(t *testing.T) { roundTrip(t, []byte("abc"), Plain) })
	t.Run("nil bytes", func(t *testing.T) { roundTrip(t, []byte(nil), Plain) })
	t.Run("empty bytes", func(t *testing.T) { roundTrip(t, []byte{}, Plain) })
	t.Run("named float", func(t *testing.T) { roundTrip(t, celsius(-40), Plain) })
	t.Run("bool", func(t *testing.T) { roundTrip(t, true, Plain) })
	t.Run("int32", func(t *testing.T) { roundTrip(t, int32(math.MinInt32), Plain) })
	t.Run("slice of ints", func(t *testing.T) { roundTrip(t, []int{1, -2, 3}, Plain) })
	t.Run("nil slice", func(t *testing.T) { roundTrip(t, []int(nil), Plain) })
	t.Run("empty slice", func(t *testing.T) { roundTrip(t, []int{}, Plain) })
	t.Run("nil map", func(t *testing.T) { roundTrip(t, map[int]bool(nil), Plain) })
	t.Run("zero record", func(t *testing.T) { roundTrip(t, record{}, Plain) })
	t.Run("full record", func(t *testing.T) { roundTrip(t, full, Plain) })
	t.Run("pointer", func(t *testing.T) { roundTrip(t, &full, Plain) })
	t.Run("map of records", func(t *testing.T) { roundTrip(t, map[string]record{"a": full}, Plain) })
	t.Run("binary appender", func(t *testing.T) { roundTrip(t, stamp{7}, Binary) })
	t.Run("binary marshaler", func(t *testing.T) { roundTrip(t, marshaled{"m"}, Binary) })
	t.Run("time", func(t *testing.T) { roundTrip(t, time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC), Binary) })
	t.Run("unexported field", func(t *testing.T) { roundTrip(t, hidden{X: 3}, Gob) })
	t.Run("interface", func(t *testing.T) { roundTrip(t, iface{V: "text"}, Gob) })
}

func TestForRejectsTypesThatCannotCross(t *testing.T) {
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"chan", func() error { _, err := For[chan int](); return err }, "chan"},
		{"func", func() error { _, err := For[func()](); return err }, "func"},
		{"field of struct", func() error { _, err := For[withChan](); return err }, "field C"},
		{"func field", func() error { _, err := For[withFunc](); return err }, "field F"},
		{"slice of funcs", func() error { _, err := For[[]func()](); return err }, "func"},
		{"plain with unexported", func() error { _, err := ForKind[hidden](Plain); return err }, "unexported"},
		{"binary without methods", func() error { _, err := ForKind[int](Binary); return err }, "BinaryUnmarshaler"},
		{"plain interface", func() error { _, err := ForKind[iface](Plain); return err }, "not plain"},
		{"unknown kind", func() error { _, err := ForKind[int](Kind(9)); return err }, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrUnsupported mentioning %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRejectsCorruptInput(t *testing.T) {
	rec, _ := For[record]()
	ints, _ := For[[]int]()
	i, _ := For[int]()
	s, _ := For[string]()
	b, _ := For[[]byte]()
	f, _ := For[float64]()
	u, _ := For[uint64]()
	i8, _ := ForKind[int8](Plain)
	ok, _ := ForKind[bool](Plain)
	p, _ := For[*int]()
	g, _ := For[hidden]()
	tests := []struct {
		name string
		dec  func([]byte) error
		in   []byte
	}{
		{"empty record", func(in []byte) error { _, err := rec.Decode(in); return err }, nil},
		{"huge slice length", func(in []byte) error { _, err := ints.Decode(in); return err }, binary.AppendUvarint(nil, 1<<40)},
		{"slice shorter than length", func(in []byte) error { _, err := ints.Decode(in); return err }, []byte{4, 2}},
		{"trailing bytes", func(in []byte) error { _, err := ints.Decode(in); return err }, []byte{1, 0}},
		{"truncated varint", func(in []byte) error { _, err := i.Decode(in); return err }, []byte{0x80}},
		{"varint with trailer", func(in []byte) error { _, err := i.Decode(in); return err }, []byte{2, 2}},
		{"string too long", func(in []byte) error { _, err := s.Decode(in); return err }, []byte{9, 'a'}},
		{"bytes too long", func(in []byte) error { _, err := b.Decode(in); return err }, []byte{9, 'a'}},
		{"short float", func(in []byte) error { _, err := f.Decode(in); return err }, []byte{1, 2, 3}},
		{"bad uvarint", func(in []byte) error { _, err := u.Decode(in); return err }, []byte{0xff}},
		{"int8 overflow", func(in []byte) error { _, err := i8.Decode(in); return err }, binary.AppendVarint(nil, 300)},
		{"bool not 0 or 1", func(in []byte) error { _, err := ok.Decode(in); return err }, []byte{2}},
		{"pointer tag", func(in []byte) error { _, err := p.Decode(in); return err }, []byte{7}},
		{"gob garbage", func(in []byte) error { _, err := g.Decode(in); return err }, []byte{3, 1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.dec(tt.in); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

func TestBinaryMethodErrorsPassThrough(t *testing.T) {
	c, _ := For[stamp]()
	if _, err := c.Decode([]byte{1}); err == nil || !strings.Contains(err.Error(), "want 4 bytes") {
		t.Fatalf("err = %v, want the type's own error", err)
	}
}

func TestGobDropsUnexportedFields(t *testing.T) {
	c, _ := For[hidden]()
	b, err := c.Append(nil, hidden{X: 1, y: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Decode(b); err != nil || got.X != 1 || got.y != 0 {
		t.Fatalf("got %+v, %v; want X kept and y dropped", got, err)
	}
}

func TestGobEncodeErrorIsReported(t *testing.T) {
	c, _ := For[iface]()
	// An unregistered concrete type behind an interface cannot be sent.
	type unregistered struct{ A int }
	if _, err := c.Append(nil, iface{V: unregistered{1}}); err == nil {
		t.Fatal("Append of an unregistered interface value: no error")
	}
}

func TestUserCodeIsReported(t *testing.T) {
	plain, _ := For[propRecord]() // holds a stamp, which has methods
	ints, _ := For[[]int]()
	bin, _ := For[stamp]()
	g, _ := For[hidden]()
	for name, tt := range map[string]struct {
		got, want bool
	}{"plain with a binary field": {plain.UserCode(), true}, "plain": {ints.UserCode(), false}, "binary": {bin.UserCode(), true}, "gob": {g.UserCode(), true}} {
		if tt.got != tt.want {
			t.Errorf("%s: UserCode() = %v, want %v", name, tt.got, tt.want)
		}
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Binary: "binary", Plain: "plain", Gob: "gob", 9: "kind(9)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}

type propRecord struct {
	B    bool
	I    int
	I16  int16
	U8   uint8
	U32  uint32
	S    string
	Raw  []byte
	L    []int64
	M    map[int32]string
	P    *propRecord
	Arr  [2]uint16
	When stamp
}

// TestPlainRoundTripProperty checks decode(encode(v)) == v for generated
// values, and that the scalar fast paths write the same bytes as the
// reflect codec.
func TestPlainRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Make[propRecord]().Draw(t, "v")
		c, err := For[propRecord]()
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.Append(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(b)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("got %#v, want %#v", got, v)
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		i := rapid.Int().Draw(t, "i")
		s := rapid.String().Draw(t, "s")
		fast, _ := For[int]()
		slow, _ := compile(reflect.TypeFor[int](), map[reflect.Type]*plain{})
		a, _ := fast.Append(nil, i)
		b, _ := slow.enc(nil, reflect.ValueOf(i))
		if !bytes.Equal(a, b) {
			t.Fatalf("int %d: fast %x, reflect %x", i, a, b)
		}
		fs, _ := For[string]()
		ss, _ := compile(reflect.TypeFor[string](), map[reflect.Type]*plain{})
		a, _ = fs.Append(nil, s)
		b, _ = ss.enc(nil, reflect.ValueOf(s))
		if !bytes.Equal(a, b) {
			t.Fatalf("string %q: fast %x, reflect %x", s, a, b)
		}
	})
}

package shm

import (
	"fmt"
	"iter"
	"math"
	"sync/atomic"
	"unsafe"
)

// Number is the set of element types a Value or Array can hold: fixed-size
// numbers, so that every process (whatever its word size) agrees on the
// layout, and every operation is one hardware atomic. Python's type codes
// map as 'i' → int32, 'I' → uint32, 'q' → int64, 'Q' → uint64,
// 'f' → float32, 'd' → float64.
type Number interface {
	~int32 | ~int64 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// Value is one number in a segment, Python's multiprocessing.Value. Every
// method is atomic with respect to every process that maps the segment,
// and safe for concurrent use. Get one with ValueAt; the zero Value is not
// usable.
type Value[T Number] struct {
	c   cell[T]
	m   *mapping // keeps the memory mapped while v is reachable
	seg *Segment // for MarshalBinary
	off int
}

// ValueAt returns the Value of type T at byte offset off of s; off must be
// a multiple of T's size (ErrAlign) and the value must lie inside s
// (ErrRange). It does not change the memory: a fresh segment reads as 0,
// and every process calling ValueAt at the same offset shares one value.
func ValueAt[T Number](s *Segment, off int) (*Value[T], error) {
	size := int(unsafe.Sizeof(*new(T)))
	p, err := s.view(off, size, size)
	if err != nil {
		return nil, fmt.Errorf("shm: value at %d: %w", off, err)
	}
	return &Value[T]{c: newCell[T](p), m: s.m, seg: s, off: off}, nil
}

// Load returns the value.
func (v *Value[T]) Load() T { return v.c.load(v.c.p) }

// Store sets the value to x.
func (v *Value[T]) Store(x T) { v.c.store(v.c.p, x) }

// Add adds delta to the value and returns the new value. Integers wrap
// around on overflow; floats are added in a compare-and-swap loop, so
// concurrent Adds are never lost.
func (v *Value[T]) Add(delta T) T { return v.c.add(v.c.p, delta) }

// Swap sets the value to x and returns the previous value.
func (v *Value[T]) Swap(x T) T { return v.c.swap(v.c.p, x) }

// CompareAndSwap sets the value to new if it is old, and reports whether
// it did. Floats are compared by bit pattern: NaN matches the same NaN,
// and 0.0 does not match -0.0.
func (v *Value[T]) CompareAndSwap(old, new T) bool { return v.c.cas(v.c.p, old, new) }

// Array is a fixed-length run of numbers in a segment, Python's
// multiprocessing.Array. Each element is accessed atomically, on its own:
// a sequence of calls is not atomic as a whole (hold a Mutex for that).
// Methods taking an index panic if it is out of range, like a slice index.
// Get one with ArrayAt; the zero Array is not usable.
type Array[T Number] struct {
	c   cell[T]
	n   int
	m   *mapping // keeps the memory mapped while a is reachable
	seg *Segment // for MarshalBinary
	off int
}

// ArrayAt returns the Array of n elements of type T starting at byte
// offset off of s. n <= 0 returns ErrInvalidSize; off must be a multiple of
// T's size (ErrAlign) and the whole array must lie inside s (ErrRange).
func ArrayAt[T Number](s *Segment, off, n int) (*Array[T], error) {
	if n <= 0 {
		return nil, fmt.Errorf("shm: array of %d elements: %w", n, ErrInvalidSize)
	}
	size := int(unsafe.Sizeof(*new(T)))
	if n > math.MaxInt/size {
		return nil, fmt.Errorf("shm: array of %d elements: %w", n, ErrRange)
	}
	p, err := s.view(off, n*size, size)
	if err != nil {
		return nil, fmt.Errorf("shm: array at %d: %w", off, err)
	}
	return &Array[T]{c: newCell[T](p), n: n, m: s.m, seg: s, off: off}, nil
}

// Len returns the number of elements.
func (a *Array[T]) Len() int { return a.n }

// Load returns element i.
func (a *Array[T]) Load(i int) T { return a.c.load(a.at(i)) }

// Store sets element i to x.
func (a *Array[T]) Store(i int, x T) { a.c.store(a.at(i), x) }

// Add adds delta to element i and returns its new value (see Value.Add).
func (a *Array[T]) Add(i int, delta T) T { return a.c.add(a.at(i), delta) }

// Swap sets element i to x and returns its previous value.
func (a *Array[T]) Swap(i int, x T) T { return a.c.swap(a.at(i), x) }

// CompareAndSwap sets element i to new if it is old, and reports whether it
// did (see Value.CompareAndSwap).
func (a *Array[T]) CompareAndSwap(i int, old, new T) bool { return a.c.cas(a.at(i), old, new) }

// All yields each index and element, loading each element atomically as it
// goes (not a snapshot of the whole array).
func (a *Array[T]) All() iter.Seq2[int, T] {
	return func(yield func(int, T) bool) {
		for i := range a.n {
			if !yield(i, a.Load(i)) {
				return
			}
		}
	}
}

// Copy loads every element into dst, one at a time, and returns how many it
// copied: min(len(dst), a.Len()).
func (a *Array[T]) Copy(dst []T) int {
	n := min(len(dst), a.n)
	for i := range n {
		dst[i] = a.Load(i)
	}
	return n
}

// at returns the address of element i, panicking if i is out of range.
func (a *Array[T]) at(i int) unsafe.Pointer {
	if uint(i) >= uint(a.n) {
		panic(fmt.Sprintf("shm: index %d out of range [0:%d]", i, a.n))
	}
	return unsafe.Add(a.c.p, uintptr(i)*unsafe.Sizeof(*new(T)))
}

// cell holds the atomic operations for one element type, picked once when
// a view is made: T's size decides which sync/atomic width is used, and
// whether T is a float decides how Add works.
type cell[T Number] struct {
	p    unsafe.Pointer // the first (or only) element
	wide bool           // 8 bytes rather than 4
	flt  bool           // float32 or float64
}

// newCell returns the cell of type T at p.
func newCell[T Number](p unsafe.Pointer) cell[T] {
	half := 0.5 // a variable, so T(half) truncates to 0 for integer types
	return cell[T]{p: p, wide: unsafe.Sizeof(*new(T)) == 8, flt: T(half) != 0}
}

func (c cell[T]) load(p unsafe.Pointer) T {
	if c.wide {
		return fromBits[T](atomic.LoadUint64((*uint64)(p)))
	}
	return fromBits[T](uint64(atomic.LoadUint32((*uint32)(p))))
}

func (c cell[T]) store(p unsafe.Pointer, x T) {
	if c.wide {
		atomic.StoreUint64((*uint64)(p), toBits(x))
		return
	}
	atomic.StoreUint32((*uint32)(p), uint32(toBits(x)))
}

func (c cell[T]) swap(p unsafe.Pointer, x T) T {
	if c.wide {
		return fromBits[T](atomic.SwapUint64((*uint64)(p), toBits(x)))
	}
	return fromBits[T](uint64(atomic.SwapUint32((*uint32)(p), uint32(toBits(x)))))
}

func (c cell[T]) cas(p unsafe.Pointer, old, new T) bool {
	if c.wide {
		return atomic.CompareAndSwapUint64((*uint64)(p), toBits(old), toBits(new))
	}
	return atomic.CompareAndSwapUint32((*uint32)(p), uint32(toBits(old)), uint32(toBits(new)))
}

func (c cell[T]) add(p unsafe.Pointer, delta T) T {
	switch {
	case c.flt:
		for {
			old := c.load(p)
			if c.cas(p, old, old+delta) {
				return old + delta
			}
		}
	case c.wide:
		// Two's complement addition is the same for signed and unsigned.
		return fromBits[T](atomic.AddUint64((*uint64)(p), toBits(delta)))
	default:
		return fromBits[T](uint64(atomic.AddUint32((*uint32)(p), uint32(toBits(delta)))))
	}
}

// toBits returns x's bit pattern in the low bits of a uint64.
func toBits[T Number](x T) uint64 {
	if unsafe.Sizeof(x) == 8 {
		return *(*uint64)(unsafe.Pointer(&x))
	}
	return uint64(*(*uint32)(unsafe.Pointer(&x)))
}

// fromBits is the inverse of toBits.
func fromBits[T Number](b uint64) T {
	var x T
	if unsafe.Sizeof(x) == 8 {
		*(*uint64)(unsafe.Pointer(&x)) = b
	} else {
		*(*uint32)(unsafe.Pointer(&x)) = uint32(b)
	}
	return x
}

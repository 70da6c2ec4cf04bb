//go:build linux

package shm

import (
	"math"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"pgregory.net/rapid"
)

// Every operation of every element type, on a Value and on an Array.
func TestValueOperationsForEveryNumberType(t *testing.T) {
	t.Run("int32", testValueOps[int32])
	t.Run("int64", testValueOps[int64])
	t.Run("uint32", testValueOps[uint32])
	t.Run("uint64", testValueOps[uint64])
	t.Run("float32", testValueOps[float32])
	t.Run("float64", testValueOps[float64])
	t.Run("named int64", testValueOps[cents])
}

// cents is a named type: the ~ in Number admits it.
type cents int64

func testValueOps[T Number](t *testing.T) {
	s, err := New(64)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, err := ValueAt[T](s, 8)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Load(); got != 0 {
		t.Fatalf("fresh value = %v, want 0", got)
	}
	v.Store(5)
	if got := v.Add(3); got != 8 {
		t.Fatalf("Add(3) = %v, want 8", got)
	}
	if got := v.Swap(2); got != 8 || v.Load() != 2 {
		t.Fatalf("Swap(2) = %v, then %v; want 8, then 2", got, v.Load())
	}
	if v.CompareAndSwap(3, 4) || v.Load() != 2 {
		t.Fatal("CompareAndSwap with a wrong old value swapped")
	}
	if !v.CompareAndSwap(2, 4) || v.Load() != 4 {
		t.Fatal("CompareAndSwap with the right old value did not swap")
	}
	// Neighbouring bytes are untouched: the view has exactly T's size.
	for i, b := range s.Bytes() {
		inside := i >= 8 && i < 8+int(unsafe.Sizeof(*new(T)))
		if !inside && b != 0 {
			t.Fatalf("byte %d outside the value = %d", i, b)
		}
	}

	a, err := ArrayAt[T](s, 24, 4)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 {
		t.Fatalf("Len = %d, want 4", a.Len())
	}
	for i := range a.Len() {
		a.Store(i, T(i))
		a.Add(i, 10)
	}
	if got := a.Swap(1, 1); got != 11 {
		t.Fatalf("Swap(1) = %v, want 11", got)
	}
	if !a.CompareAndSwap(2, 12, 2) || a.CompareAndSwap(3, 0, 3) {
		t.Fatal("array CompareAndSwap wrong")
	}
	want := []T{10, 1, 2, 13}
	got := make([]T, 6)
	if n := a.Copy(got); n != 4 {
		t.Fatalf("Copy = %d, want 4", n)
	}
	for i := range want {
		if got[i] != want[i] || a.Load(i) != want[i] {
			t.Fatalf("element %d = %v (Copy) %v (Load), want %v", i, got[i], a.Load(i), want[i])
		}
	}
	for i, x := range a.All() {
		if x != want[i] {
			t.Fatalf("All yields [%d] = %v, want %v", i, x, want[i])
		}
		if i == 1 {
			break // All stops when asked
		}
	}
}

func TestIntegerAddWrapsAround(t *testing.T) {
	s, err := New(16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	i32, _ := ValueAt[int32](s, 0)
	u64, _ := ValueAt[uint64](s, 8)
	i32.Store(math.MaxInt32)
	if got := i32.Add(1); got != math.MinInt32 {
		t.Errorf("MaxInt32 + 1 = %d, want MinInt32", got)
	}
	if got := u64.Add(^uint64(0)); got != math.MaxUint64 {
		t.Errorf("0 + (2^64-1) = %d", got)
	}
	if got := u64.Add(1); got != 0 {
		t.Errorf("MaxUint64 + 1 = %d, want 0", got)
	}
}

// Floats compare by bit pattern: NaN can be swapped out, -0 is not 0.
func TestFloatCompareAndSwapComparesBits(t *testing.T) {
	s, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, _ := ValueAt[float64](s, 0)
	v.Store(math.NaN())
	if !v.CompareAndSwap(math.NaN(), 1) || v.Load() != 1 {
		t.Error("CompareAndSwap(NaN, 1) on NaN did not swap")
	}
	v.Store(math.Copysign(0, -1))
	if v.CompareAndSwap(0, 1) {
		t.Error("CompareAndSwap(0, 1) on -0 swapped")
	}
	v.Store(1.5)
	if got := v.Add(-0.25); got != 1.25 {
		t.Errorf("1.5 + -0.25 = %v", got)
	}
}

func TestArrayIndexOutOfRangePanics(t *testing.T) {
	s, err := New(16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, _ := ArrayAt[int32](s, 0, 4)
	for _, i := range []int{-1, 4, math.MaxInt} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "out of range") {
					t.Errorf("Load(%d) panic = %q, want an out of range panic", i, msg)
				}
			}()
			a.Load(i)
		}()
	}
}

// Concurrent float Adds from goroutines lose nothing (the CAS loop).
func TestFloatAddFromGoroutinesLosesNothing(t *testing.T) {
	s, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, _ := ValueAt[float32](s, 0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				v.Add(1)
			}
		})
	}
	wg.Wait()
	if got := v.Load(); got != 4000 {
		t.Fatalf("sum = %v, want 4000", got)
	}
}

// A Value behaves like a plain variable under any sequence of operations.
func TestValueMatchesPlainVariable(t *testing.T) {
	s, err := New(8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	v, _ := ValueAt[int64](s, 0)
	rapid.Check(t, func(t *rapid.T) {
		model := rapid.Int64().Draw(t, "start")
		v.Store(model)
		for _, op := range rapid.SliceOfN(rapid.IntRange(0, 3), 1, 20).Draw(t, "ops") {
			x := rapid.Int64().Draw(t, "x")
			switch op {
			case 0:
				model += x
				if got := v.Add(x); got != model {
					t.Fatalf("Add = %d, want %d", got, model)
				}
			case 1:
				if got := v.Swap(x); got != model {
					t.Fatalf("Swap = %d, want %d", got, model)
				}
				model = x
			case 2:
				old := x - 1 // rarely the current value
				if rapid.Bool().Draw(t, "match") {
					old = model
				}
				swapped := v.CompareAndSwap(old, x)
				if swapped != (old == model) {
					t.Fatalf("CompareAndSwap(%d, %d) on %d = %v", old, x, model, swapped)
				}
				if swapped {
					model = x
				}
			case 3:
				v.Store(x)
				model = x
			}
			if v.Load() != model {
				t.Fatalf("Load = %d, want %d", v.Load(), model)
			}
		}
	})
}

package ipc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/skein-go/skein/internal/codec"
)

// newTestQueue makes a queue that the test releases at its end.
func newTestQueue[T any](t testing.TB, opts ...QueueOption) *Queue[T] {
	t.Helper()
	q, err := NewQueue[T](opts...)
	if err != nil {
		t.Fatalf("NewQueue: %v", err)
	}
	t.Cleanup(func() {
		if err := q.Release(); err != nil {
			t.Errorf("Release: %v", err)
		}
	})
	return q
}

func TestQueuePutGetIsFIFO(t *testing.T) {
	checkNoFDLeak(t)
	q := newTestQueue[string](t)
	ctx := context.Background()
	for i := range 100 {
		if err := q.Put(ctx, fmt.Sprint("item-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := q.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	for i := range 100 {
		v, err := q.Get(ctx)
		if want := fmt.Sprint("item-", i); err != nil || v != want {
			t.Fatalf("Get = %q, %v; want %q", v, err, want)
		}
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet on empty queue: %v, want ErrEmpty", err)
	}
}

func TestNewQueueRejectsNonsenseOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  QueueOption
	}{
		{"zero capacity", WithCapacity(0)},
		{"negative capacity", WithCapacity(-1)},
		{"huge capacity", WithCapacity(1 << 30)},
		{"tiny buffer", WithBufferSize(63)},
		{"negative buffer", WithBufferSize(-1)},
		{"huge buffer", WithBufferSize(1<<30 + 1)},
		{"nil option", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewQueue[int](tt.opt); !errors.Is(err, ErrInvalidOption) {
				t.Fatalf("err = %v, want ErrInvalidOption", err)
			}
		})
	}
}

func TestNewQueueRejectsTypesThatCannotCross(t *testing.T) {
	if _, err := NewQueue[chan int](); err == nil {
		t.Fatal("NewQueue[chan int] succeeded")
	}
}

func TestQueueCapacityAppliesBackpressure(t *testing.T) {
	q := newTestQueue[int](t, WithCapacity(2))
	ctx := context.Background()
	for i := range 2 {
		if err := q.TryPut(i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.TryPut(2); !errors.Is(err, ErrFull) {
		t.Fatalf("TryPut on a full queue: %v, want ErrFull", err)
	}
	if q.Cap() != 2 {
		t.Fatalf("Cap = %d", q.Cap())
	}
	// A Put waits for room, and gets it when a Get takes an item.
	put := make(chan error)
	go func() { put <- q.Put(ctx, 2) }()
	if v, err := q.Get(ctx); err != nil || v != 0 {
		t.Fatalf("Get = %v, %v", v, err)
	}
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 2; want++ {
		if v, err := q.Get(ctx); err != nil || v != want {
			t.Fatalf("Get = %v, %v; want %d", v, err, want)
		}
	}
}

func TestQueueBufferBytesApplyBackpressure(t *testing.T) {
	q := newTestQueue[[]byte](t, WithBufferSize(64))
	big := make([]byte, 40)
	if err := q.TryPut(big); err != nil {
		t.Fatal(err)
	}
	if err := q.TryPut(big); !errors.Is(err, ErrFull) {
		t.Fatalf("second 40-byte item in a 64-byte buffer: %v, want ErrFull", err)
	}
}

func TestQueuePutRefusesAnItemBiggerThanTheBuffer(t *testing.T) {
	q := newTestQueue[[]byte](t, WithBufferSize(64))
	ctx := context.Background()
	err := q.Put(ctx, make([]byte, 100))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "WithBufferSize") {
		t.Fatalf("Put of 100 bytes into 64: %v, want ErrTooLarge", err)
	}
	if err := q.TryPut(make([]byte, 100)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("TryPut: %v, want ErrTooLarge", err)
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after refused puts", q.Len())
	}
}

// queueBadValue fails to encode when negative and panics when 13.
type queueBadValue int

func (v queueBadValue) AppendBinary(b []byte) ([]byte, error) {
	if v < 0 {
		return b, errors.New("negative values cannot be encoded")
	}
	if v == 13 {
		panic("unlucky")
	}
	return append(b, byte(v)), nil
}

func (v *queueBadValue) UnmarshalBinary(b []byte) error {
	if len(b) != 1 {
		return errors.New("want one byte")
	}
	if b[0] == 14 {
		panic("decode trap")
	}
	*v = queueBadValue(b[0])
	return nil
}

func TestQueuePutReturnsEncodeErrorsAndLeavesTheQueueAlone(t *testing.T) {
	q := newTestQueue[queueBadValue](t)
	ctx := context.Background()
	if err := q.Put(ctx, -1); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("Put(-1) = %v, want the encode error", err)
	}
	if err := q.TryPut(13); err == nil || !strings.Contains(err.Error(), "unlucky") {
		t.Fatalf("TryPut(13) = %v, want the panic as an error", err)
	}
	if err := q.Put(ctx, 14); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 {
		t.Fatalf("Len = %d, want 1", q.Len())
	}
	if _, err := q.Get(ctx); err == nil || !strings.Contains(err.Error(), "decode trap") {
		t.Fatalf("Get of an item that panics while decoding: %v", err)
	}
	if q.Len() != 0 {
		t.Fatalf("the undecodable item is still queued")
	}
}

func TestQueueCloseDrainsThenErrClosed(t *testing.T) {
	q := newTestQueue[int](t)
	ctx := context.Background()
	for i := range 3 {
		q.Put(ctx, i)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := q.Put(ctx, 9); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after Close: %v", err)
	}
	if err := q.TryPut(9); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryPut after Close: %v", err)
	}
	for i := range 3 {
		if v, err := q.Get(ctx); err != nil || v != i {
			t.Fatalf("Get = %v, %v; want %d", v, err, i)
		}
	}
	if _, err := q.Get(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on a drained closed queue: %v", err)
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrClosed) {
		t.Fatalf("TryGet on a drained closed queue: %v", err)
	}
}

func TestQueueCloseWakesWaitingGetAndPut(t *testing.T) {
	ctx := context.Background()
	empty := newTestQueue[int](t)
	full := newTestQueue[int](t, WithCapacity(1))
	full.Put(ctx, 1)
	errs := make(chan error, 2)
	go func() { _, err := empty.Get(ctx); errs <- err }()
	go func() { errs <- full.Put(ctx, 2) }()
	// Whether they are asleep yet or not, Close must end both.
	empty.Close()
	full.Close()
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("waiting call after Close: %v, want ErrClosed", err)
		}
	}
}

func TestQueueWaitsEndWithTheirContext(t *testing.T) {
	empty := newTestQueue[int](t)
	full := newTestQueue[int](t, WithCapacity(1))
	full.TryPut(1)
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get on an empty queue", func(ctx context.Context) error { _, err := empty.Get(ctx); return err }},
		{"Put on a full queue", func(ctx context.Context) error { return full.Put(ctx, 2) }},
		{"Join with an unfinished item", func(ctx context.Context) error { return full.Join(ctx) }},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/cancel", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error)
			go func() { errc <- tt.call(ctx) }()
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
		t.Run(tt.name+"/deadline", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			if err := tt.call(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
		})
		t.Run(tt.name+"/already done", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := tt.call(ctx); !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		})
	}
}

func TestQueueJoinWaitsForTaskDone(t *testing.T) {
	q := newTestQueue[int](t)
	ctx := context.Background()
	if err := q.Join(ctx); err != nil {
		t.Fatalf("Join on a fresh queue: %v", err)
	}
	if err := q.TaskDone(); !errors.Is(err, ErrTooManyTaskDone) {
		t.Fatalf("TaskDone with nothing put: %v", err)
	}
	for i := range 10 {
		q.Put(ctx, i)
	}
	joined := make(chan error)
	go func() { joined <- q.Join(ctx) }()
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				if _, err := q.TryGet(); err != nil {
					return
				}
				if err := q.TaskDone(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, ErrTooManyTaskDone) {
		t.Fatalf("eleventh TaskDone: %v", err)
	}
}

func TestQueueManyGoroutinesLoseAndDuplicateNothing(t *testing.T) {
	q := newTestQueue[queueItem](t, WithBufferSize(256))
	ctx := context.Background()
	const producers, consumers, n = 4, 3, 2000
	got := make(chan queueItem, producers*n)
	var prod, cons sync.WaitGroup
	for p := range producers {
		prod.Go(func() {
			for i := range n {
				if err := q.Put(ctx, queueItem{Producer: p, Seq: i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for range consumers {
		cons.Go(func() {
			for {
				v, err := q.Get(ctx)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				got <- v
			}
		})
	}
	prod.Wait()
	q.Close()
	cons.Wait()
	close(got)
	seen := make(map[queueItem]bool)
	for v := range got {
		if seen[v] {
			t.Fatalf("%+v received twice", v)
		}
		seen[v] = true
	}
	if len(seen) != producers*n {
		t.Fatalf("received %d items, want %d", len(seen), producers*n)
	}
}

func TestQueueReleaseDetachesThisProcessOnly(t *testing.T) {
	checkNoFDLeak(t)
	q, err := NewQueue[int]()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q.Put(ctx, 1)
	if err := q.Release(); err != nil {
		t.Fatal(err)
	}
	if err := q.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	checks := map[string]error{
		"Put":           q.Put(ctx, 2),
		"TryPut":        q.TryPut(2),
		"Close":         q.Close(),
		"TaskDone":      q.TaskDone(),
		"Join":          q.Join(ctx),
		"MarshalBinary": func() error { _, err := q.MarshalBinary(); return err }(),
		"Get":           func() error { _, err := q.Get(ctx); return err }(),
		"TryGet":        func() error { _, err := q.TryGet(); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrReleased) {
			t.Errorf("%s after Release: %v, want ErrReleased", name, err)
		}
	}
	var zero Queue[int]
	if _, err := zero.Get(ctx); !errors.Is(err, ErrReleased) {
		t.Errorf("Get on a zero Queue: %v", err)
	}
	if err := zero.Put(ctx, 1); !errors.Is(err, ErrReleased) {
		t.Errorf("Put on a zero Queue: %v", err)
	}
}

func TestQueueHandleRoundTripsInTheSameProcess(t *testing.T) {
	q := newTestQueue[int](t)
	b, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var q2 Queue[int]
	if err := q2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q.Put(ctx, 42)
	if v, err := q2.Get(ctx); err != nil || v != 42 {
		t.Fatalf("Get through the decoded handle: %v, %v", v, err)
	}
	var wrong Queue[string]
	if err := wrong.UnmarshalBinary(b); !errors.Is(err, ErrType) || !strings.Contains(err.Error(), "int") {
		t.Fatalf("decoding a Queue[int] handle as Queue[string]: %v, want ErrType", err)
	}
	for _, bad := range [][]byte{nil, {1}, {1, 'C'}, b[:len(b)-1], append(b[:2:2], make([]byte, 30)...)} {
		if err := q2.UnmarshalBinary(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("UnmarshalBinary(%x) = %v, want ErrCorrupt", bad, err)
		}
	}
}

// TestQueueMatchesAModel drives a small queue with random operations and
// checks it against a slice, wrapping records around the buffer's end in
// every possible place.
func TestQueueMatchesAModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		size := rapid.IntRange(64, 200).Draw(rt, "size")
		opts := []QueueOption{WithBufferSize(size)}
		capacity := rapid.IntRange(0, 8).Draw(rt, "capacity")
		if capacity > 0 {
			opts = append(opts, WithCapacity(capacity))
		}
		q, err := NewQueue[[]byte](opts...)
		if err != nil {
			rt.Fatal(err)
		}
		defer q.Release()
		var model [][]byte
		used := 0
		for range rapid.IntRange(1, 200).Draw(rt, "ops") {
			if rapid.Bool().Draw(rt, "put") {
				v := rapid.SliceOfN(rapid.Byte(), 0, 60).Draw(rt, "v")
				need := len(v) + 1 + recordHeader // uvarint length (+1 for nil) fits one byte here
				err := q.TryPut(v)
				full := used+need > size || (capacity > 0 && len(model) == capacity)
				switch {
				case full && !errors.Is(err, ErrFull):
					rt.Fatalf("TryPut with %d/%d bytes used: %v, want ErrFull", used, size, err)
				case !full && err != nil:
					rt.Fatalf("TryPut with %d/%d bytes used: %v", used, size, err)
				case !full:
					model = append(model, v)
					used += need
				}
			} else {
				v, err := q.TryGet()
				if len(model) == 0 {
					if !errors.Is(err, ErrEmpty) {
						rt.Fatalf("TryGet on empty: %v", err)
					}
					continue
				}
				if err != nil || string(v) != string(model[0]) {
					rt.Fatalf("TryGet = %x, %v; want %x", v, err, model[0])
				}
				used -= len(model[0]) + 1 + recordHeader
				model = model[1:]
			}
			if q.Len() != len(model) {
				rt.Fatalf("Len = %d, want %d", q.Len(), len(model))
			}
		}
	})
}

// queueItem is what the tests' producers send: who sent it, and its
// number in that producer's sequence.
type queueItem struct {
	Producer int
	Seq      int
}

// queueInStruct holds a queue among other fields, as a task argument may.
type queueInStruct struct {
	Name  string
	Queue *Queue[int]
}

// queueInGobStruct needs gob: only gob carries an interface field.
type queueInGobStruct struct {
	Name  string
	Queue *Queue[int]
	Extra any
}

func TestQueueTravelsInsideAStructThroughPlainAndGob(t *testing.T) {
	q := newTestQueue[int](t)
	ctx := context.Background()
	check := func(t *testing.T, got *Queue[int]) {
		t.Helper()
		if err := got.Put(ctx, 5); err != nil {
			t.Fatal(err)
		}
		if v, err := q.Get(ctx); err != nil || v != 5 {
			t.Fatalf("Get = %v, %v", v, err)
		}
	}
	t.Run("plain", func(t *testing.T) {
		got := queueRoundTrip(t, codec.Plain, queueInStruct{Name: "jobs", Queue: q})
		check(t, got.Queue)
	})
	t.Run("gob", func(t *testing.T) {
		got := queueRoundTrip(t, codec.Gob, queueInGobStruct{Name: "jobs", Queue: q})
		check(t, got.Queue)
	})
}

func queueRoundTrip[T any](t *testing.T, kind codec.Kind, v T) T {
	t.Helper()
	c, err := codec.ForKind[T](kind)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Append(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

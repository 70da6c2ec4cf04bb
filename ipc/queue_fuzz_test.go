package ipc

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/shm"
)

// FuzzQueueHandle feeds arbitrary bytes to Queue.UnmarshalBinary and
// Conn.UnmarshalBinary: they must fail cleanly, never panic.
func FuzzQueueHandle(f *testing.F) {
	q, err := NewQueue[int]()
	if err != nil {
		f.Fatal(err)
	}
	defer q.Release()
	valid, err := q.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add([]byte{})
	f.Add([]byte{handleVersion, kindConn})
	f.Add(append([]byte{handleVersion, kindQueue}, fdpass.Token{PID: 1, ID: 7}.Append(nil)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Queue[int]
		if err := q.UnmarshalBinary(b); err == nil && q.r == nil {
			t.Fatal("UnmarshalBinary succeeded without a queue")
		}
		var c Conn[int]
		if err := c.UnmarshalBinary(b); err == nil {
			t.Fatal("a queue handle decoded as a pipe end")
		}
	})
}

// FuzzQueueSegment attaches a queue to a segment whose header and buffer
// hold arbitrary bytes, as a broken or hostile process could leave them,
// and drains it: every operation must return (an item or an error), never
// panic, hang, or touch memory outside the buffer. The lock words are the
// only bytes zeroed: a lock held by a live stranger would only make the
// operations wait, which is not what this test is about.
func FuzzQueueSegment(f *testing.F) {
	f.Add(false, []byte{})
	f.Add(true, []byte("some bytes that will be a header and records"))
	// A consistent queue with two records, "a" and "bc".
	seed := make([]byte, headerSize+64)
	binary.LittleEndian.PutUint32(seed[offMagic:], ringMagic)
	binary.LittleEndian.PutUint32(seed[offVersion:], ringVersion)
	binary.LittleEndian.PutUint32(seed[offSize:], 64)
	rec := []byte{2, 0, 0, 0, 1, 'a', 3, 0, 0, 0, 2, 'b', 'c'}
	copy(seed[headerSize:], rec)
	binary.LittleEndian.PutUint64(seed[offTail:], pos{off: uint32(len(rec)), seq: 2}.pack())
	f.Add(false, seed)
	f.Fuzz(func(t *testing.T, raw bool, b []byte) {
		size := max(len(b), headerSize+minBufferSize)
		if size > 1<<16 {
			return
		}
		seg, err := shm.New(size)
		if err != nil {
			t.Fatal(err)
		}
		mem := seg.Bytes()
		copy(mem, b)
		if !raw {
			// A well-formed identity, so that the fuzzer spends its time
			// on the positions and the records.
			binary.LittleEndian.PutUint32(mem[offMagic:], ringMagic)
			binary.LittleEndian.PutUint32(mem[offVersion:], ringVersion)
			binary.LittleEndian.PutUint32(mem[offSize:], uint32(size-headerSize))
			if c := binary.LittleEndian.Uint32(mem[offCapacity:]); c > uint32(size) {
				binary.LittleEndian.PutUint32(mem[offCapacity:], 0)
			}
		}
		clear(mem[offTailLock : offTailLock+shm.MutexSize])
		clear(mem[offHeadLock : offHeadLock+shm.MutexSize])
		r, err := mapRing(seg)
		if err != nil {
			seg.Close()
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("mapRing: %v, want ErrCorrupt", err)
			}
			return
		}
		q := &Queue[[]byte]{r: r}
		q.c, _ = codec.For[[]byte]()
		defer q.Release()
		for range 64 {
			_, err := q.TryGet()
			if errors.Is(err, ErrEmpty) || errors.Is(err, ErrClosed) || errors.Is(err, ErrCorrupt) {
				break
			}
		}
		q.TryPut([]byte("after"))
		q.TaskDone()
		q.Len()
	})
}

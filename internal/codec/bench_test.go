package codec

import (
	"bytes"
	"encoding/gob"
	"testing"
	"time"
)

// task is a typical small task argument: a few numbers and a name.
type task struct {
	ID     int64
	Name   string
	Weight float64
	Tags   []string
}

// taskB is task with hand-written binary methods (the BinaryAppender fast
// path a user can opt into).
type taskB task

func (t taskB) AppendBinary(b []byte) ([]byte, error) {
	c, _ := For[task]()
	return c.Append(b, task(t))
}

func (t *taskB) UnmarshalBinary(b []byte) error {
	c, _ := For[task]()
	v, err := c.Decode(b)
	*t = taskB(v)
	return err
}

// BenchmarkCodec compares the kinds on the same values: one encode and one
// decode per op. The Gob kind writes a self-contained stream per value
// (what a frame must carry); "gob-stream" is gob with one long-lived
// encoder and decoder, the best gob can do when the stream is stateful.
func BenchmarkCodec(b *testing.B) {
	v := task{ID: 12345, Name: "resize-image", Weight: 0.75, Tags: []string{"png", "thumb"}}
	b.Run("int/plain", func(b *testing.B) { benchKind(b, 42, Plain) })
	b.Run("int/gob", func(b *testing.B) { benchKind(b, 42, Gob) })
	b.Run("struct/plain", func(b *testing.B) { benchKind(b, v, Plain) })
	b.Run("struct/binary", func(b *testing.B) { benchKind(b, taskB(v), Binary) })
	b.Run("struct/gob", func(b *testing.B) { benchKind(b, v, Gob) })
	b.Run("struct/gob-stream", func(b *testing.B) {
		var buf bytes.Buffer
		enc, dec := gob.NewEncoder(&buf), gob.NewDecoder(&buf)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(&v); err != nil {
				b.Fatal(err)
			}
			var got task
			if err := dec.Decode(&got); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
	})
	b.Run("time/binary", func(b *testing.B) { benchKind(b, time.Unix(1700000000, 5), Binary) })
	b.Run("time/gob", func(b *testing.B) { benchKind(b, time.Unix(1700000000, 5), Gob) })
}

func benchKind[T any](b *testing.B, v T, k Kind) {
	c, err := ForKind[T](k)
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, err = c.Append(buf[:0], v)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "values/s")
	b.ReportMetric(float64(len(buf)), "bytes/value")
}

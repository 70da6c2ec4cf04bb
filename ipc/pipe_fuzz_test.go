package ipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzPipeFrames sends arbitrary bytes down a pipe in place of frames and
// receives until the stream ends: Recv must return messages or clean
// errors, never panic or hang, whatever the lengths announce.
func FuzzPipeFrames(f *testing.F) {
	frame := func(payload ...byte) []byte {
		return append(binary.LittleEndian.AppendUint32(nil, uint32(len(payload))), payload...)
	}
	f.Add([]byte{})
	f.Add(frame(3, 'a', 'b', 'c'))                             // one []byte message
	f.Add(append(frame(1, 'x'), frame(0)...))                  // a message and a nil slice
	f.Add(append(frame(9, 'x'), 0, 0))                         // a frame cut short
	f.Add(binary.LittleEndian.AppendUint32(nil, MaxMessage+1)) // an oversized length
	f.Add(append(frame(200, 1), frame(1, 'y')...))             // a payload that does not decode
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b, err := Pipe[[]byte]()
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		written := make(chan error, 1)
		go func() {
			_, err := pipeWriteRaw(a, data)
			a.Close()
			written <- err
		}()
		ctx := context.Background()
		for {
			_, err := b.Recv(ctx)
			if err == nil {
				continue
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF || errors.Is(err, ErrCorrupt) {
				break
			}
			// A payload that does not decode is reported, and the
			// stream goes on.
		}
		b.Close() // unblocks the writer if Recv stopped early
		<-written
	})
}

package wire

import (
	"bytes"
	"fmt"
)

// A task travels as one length-prefixed frame; the reader bounds its size.
func ExampleReader() {
	task := &Task{ID: 7, Func: "square", Count: 0}
	var stream bytes.Buffer
	stream.Write(AppendFrame(nil, task))

	r := NewReader(&stream, DefaultMaxFrame)
	kind, payload, err := r.Next()
	if err != nil {
		panic(err)
	}
	var got Task
	if err := got.ParsePayload(payload); err != nil {
		panic(err)
	}
	fmt.Println(kind == KindTask, got.ID, got.Func)
	// Output: true 7 square
}

package lock

import (
	"bytes"
	"runtime"
	"strconv"
)

// The checker needs to know which locks the calling goroutine holds, and Go
// deliberately gives goroutines no identity. On amd64 and arm64 the runtime
// keeps a pointer to the running goroutine's descriptor in a fixed place
// (thread-local storage, or a register), which a two-instruction assembly
// function reads; descriptors are never freed, so the pointer identifies the
// goroutine for as long as it runs. Elsewhere the goroutine number is parsed
// from runtime.Stack, which is correct but slow. Only checked locks ask.

// currentGoroutine identifies the calling goroutine among the live ones.
func currentGoroutine() uint64 { return goroutineID() }

// stackGoroutineID parses the goroutine number from the first line of the
// caller's stack trace, "goroutine 42 [running]:".
func stackGoroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i >= 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

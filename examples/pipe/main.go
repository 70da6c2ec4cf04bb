// Command pipe runs the pipe demo: the seed's sender and receiver
// processes on an ipc.Pipe, ending in io.EOF (see examples/pipe.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("pipe", os.Stdout))
}

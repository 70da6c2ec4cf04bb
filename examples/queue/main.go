// Command queue runs the queue demo: producer and consumer processes
// sharing an ipc.Queue (see examples/queue.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("queue", os.Stdout))
}

// Command shm runs the shm demo: the seed's shared counter across two
// processes, then a lock holder killed and the survivor recovering (see
// examples/shm.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("shm", os.Stdout))
}

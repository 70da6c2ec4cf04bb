// Command manager runs the manager demo: the seed's ProgressTracker on a
// shared map and lock across worker processes (see examples/manager.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("manager", os.Stdout))
}

// Command progress-procs runs the progress-procs demo: tasks in worker
// processes report progress that the parent's tracker shows live (see
// examples/progressprocs.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("progress-procs", os.Stdout))
}

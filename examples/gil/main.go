// Command gil runs the gil demo: the seed's CPU-bound task sequentially,
// on goroutines and on worker processes (see examples/gil.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("gil", os.Stdout))
}

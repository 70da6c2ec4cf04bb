// Command map runs the map demo: the seed's Pool.map over chunks on a
// pool of worker processes (see examples/map.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
	"github.com/skein-go/skein/proc"
)

func main() {
	proc.Main() // the demo's worker processes are this program, re-executed
	os.Exit(examples.Main("map", os.Stdout))
}

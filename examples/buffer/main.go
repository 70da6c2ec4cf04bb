// Command buffer runs the buffer demo: producers and consumers on a bounded queue.Queue, every item consumed exactly once.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("buffer", os.Stdout)) }

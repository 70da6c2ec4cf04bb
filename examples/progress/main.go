// Command progress runs the progress demo: goroutine workers report into a progress tracker shown live.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("progress", os.Stdout)) }

// Command context runs the context demo: per-request values carried by context.Context across goroutines.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("context", os.Stdout)) }

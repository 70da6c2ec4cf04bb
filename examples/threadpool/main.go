// Command threadpool runs skein's threadpool demo (see examples/threadpool.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("threadpool", os.Stdout)) }

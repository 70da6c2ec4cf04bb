// Command executor runs skein's executor demo (see examples/executor.go).
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("executor", os.Stdout)) }

// Command counter runs the counter demo: a mutex-guarded and an atomic counter, checked and timed.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("counter", os.Stdout)) }

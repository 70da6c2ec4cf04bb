// Command connpool runs the connpool demo: a resource.Pool of real TCP connections to a loopback echo server.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("connpool", os.Stdout)) }

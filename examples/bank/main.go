// Command bank runs the bank demo: concurrent transfers between accounts in cents, money conserved.
package main

import (
	"os"

	"github.com/skein-go/skein/examples"
)

func main() { os.Exit(examples.Main("bank", os.Stdout)) }

package examples_test

import (
	"context"
	"fmt"
	"io"

	"github.com/skein-go/skein/examples"
)

// Every demo can be looked up by name and run from a program; `skein demo`
// does exactly this.
func ExampleLookup() {
	d, err := examples.Lookup("threadpool")
	if err != nil {
		panic(err)
	}
	summary, err := d.Run(context.Background(), io.Discard)
	fmt.Println(d.Name, err == nil, summary != "")
	// Output: threadpool true true
}

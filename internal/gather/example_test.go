package gather_test

import (
	"fmt"
	"slices"

	"github.com/skein-go/skein/internal/gather"
	"github.com/skein-go/skein/pool"
)

// Results arrive in any order; the slice is in input order.
func ExampleSlice() {
	rs := []pool.Result[string]{{Index: 1, Value: "b"}, {Index: 0, Value: "a"}}
	out, err := gather.Slice(slices.Values(rs), 2, pool.FirstError, "proc")
	fmt.Println(out, err)
	// Output: [a b] <nil>
}

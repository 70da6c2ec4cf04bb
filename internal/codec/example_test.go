package codec

import "fmt"

// A codec is chosen per type once; values cross the wire as plain data.
func ExampleFor() {
	type point struct{ X, Y int32 }
	c, err := For[point]()
	if err != nil {
		panic(err)
	}
	b, err := c.Append(nil, point{3, -4})
	if err != nil {
		panic(err)
	}
	p, err := c.Decode(b)
	fmt.Println(p, err)
	// Output: {3 -4} <nil>
}

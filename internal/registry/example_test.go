package registry_test

import (
	"fmt"

	"github.com/skein-go/skein/internal/registry"
)

// A handshake compares both sides' signatures and names what differs.
func ExampleDiff() {
	parent := []string{"resize(image.Image) []uint8", "square(int) int"}
	worker := []string{"square(int) int", "square2(int) int"}
	onlyParent, onlyWorker := registry.Diff(parent, worker)
	fmt.Println(onlyParent, onlyWorker)
	// Output: [resize(image.Image) []uint8] [square2(int) int]
}

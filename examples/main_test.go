package examples_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/skein-go/skein/proc"
)

// TestMain lets the demos that use proc re-execute this test binary as
// their worker processes, then checks for leaked goroutines.
func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(m)
}

package shm

import (
	"testing"

	"github.com/skein-go/skein/proc"
	"go.uber.org/goleak"
)

// TestMain lets the test binary serve as a proc worker for the handle
// tests (proc.Main returns at once in the test process itself).
func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(m)
}

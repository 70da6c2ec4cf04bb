package main

import (
	"testing"

	"github.com/skein-go/skein/proc"
	"go.uber.org/goleak"
)

// TestMain makes the test binary its own proc worker (the bench and the
// demos start worker processes of the running executable), then checks
// that the tests leave no goroutine behind.
func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(m)
}

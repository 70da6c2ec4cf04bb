package fdpass_test

import (
	"testing"

	"github.com/skein-go/skein/proc"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	proc.Main()
	goleak.VerifyTestMain(m)
}

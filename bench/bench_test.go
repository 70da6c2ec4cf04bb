package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

// TestMain fails the bench package if any benchmark leaves a goroutine
// running: every pool a benchmark starts must be shut down by it.
func TestMain(m *testing.M) {
	// Importing ants starts its package-level default pool, whose two
	// housekeeping goroutines would otherwise be reported as leaks. No
	// benchmark uses that pool; stopping it keeps goleak strict about the
	// pools the benchmarks do start.
	if err := ants.ReleaseTimeout(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "bench: stopping ants' default pool:", err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

//go:build skeinlockcheck

package lock

import (
	"strings"
	"testing"
)

// TestCheckedBuildWatchesZeroValueMutexes runs with -tags skeinlockcheck:
// every mutex, even one that was never constructed, reports to the
// program-wide checker.
func TestCheckedBuildWatchesZeroValueMutexes(t *testing.T) {
	c := DefaultChecker()
	if c == nil {
		t.Fatal("DefaultChecker() = nil in a checked build")
	}
	before := len(c.Reports())
	var a, b Mutex
	nest(t, &a, &b)
	nest(t, &b, &a)
	reps := c.Reports()
	if len(reps) != before+1 {
		t.Fatalf("got %d new reports, want 1", len(reps)-before)
	}
	if from := reps[len(reps)-1].Cycle[0].From; !strings.Contains(from, "checker_test.go") {
		t.Fatalf("zero-value mutex named %q, want its first lock site", from)
	}
}

func TestCheckedBuildHonoursWithCheckerNil(t *testing.T) {
	if m := NewMutex(WithChecker(nil)); m.tracker() != nil {
		t.Fatal("WithChecker(nil) mutex is checked")
	}
}

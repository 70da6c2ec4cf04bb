//go:build !skeinlockcheck

package lock

import "testing"

func TestUncheckedBuildHasNoDefaultChecker(t *testing.T) {
	if c := DefaultChecker(); c != nil {
		t.Fatal("DefaultChecker() != nil without -tags skeinlockcheck")
	}
	var m Mutex
	_ = m.Lock(t.Context())
	m.Unlock()
	if m.tracker() != nil || m.state.Load()&mutexChecked != 0 {
		t.Fatal("a zero-value mutex is checked in an unchecked build")
	}
}

package lock

import "testing"

func TestGoroutineIdentityIsStableAndDistinct(t *testing.T) {
	for _, tt := range []struct {
		name string
		id   func() uint64
	}{
		{"current", currentGoroutine},
		{"stack", stackGoroutineID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mine := tt.id()
			if mine == 0 || tt.id() != mine {
				t.Fatalf("identity %d not stable", mine)
			}
			other := make(chan uint64)
			go func() { other <- tt.id() }()
			if theirs := <-other; theirs == mine || theirs == 0 {
				t.Fatalf("two live goroutines share identity %d", mine)
			}
		})
	}
}

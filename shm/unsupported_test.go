//go:build !linux

package shm

import (
	"errors"
	"testing"
)

func TestConstructorsReportUnsupported(t *testing.T) {
	if _, err := New(8); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("New = %v, want errors.ErrUnsupported", err)
	}
	if _, err := Create("x", 8); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Create = %v, want errors.ErrUnsupported", err)
	}
	if _, err := Attach("x", 8); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Attach = %v, want errors.ErrUnsupported", err)
	}
}

package registry

import (
	"context"
	"errors"
	"slices"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func echo(_ context.Context, arg, dst []byte) ([]byte, error) { return append(dst, arg...), nil }

// reset empties the process-wide table, so that a test (run again with
// -count) starts from a program's first state.
func reset() {
	table.mu.Lock()
	table.byName = map[string]*Entry{}
	table.sealed = false
	table.mu.Unlock()
}

// The table is process-wide, so one test walks it through its life: add,
// refuse a duplicate, seal, refuse late additions.
func TestRegistryLifecycle(t *testing.T) {
	reset()
	t.Cleanup(reset)
	if err := Ready(); !errors.Is(err, ErrNotSealed) {
		t.Fatalf("Ready before Seal = %v, want ErrNotSealed", err)
	}
	if err := Add(&Entry{Name: "b", Sig: "b(int) int", Run: echo}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Add(&Entry{Name: "a", Sig: "a(string) string", Run: echo}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Add(&Entry{Name: "a", Sig: "a(int) int", Run: echo}, nil); err == nil {
		t.Fatal("second registration of a name accepted")
	}
	bad := errors.New("nil function")
	if err := Add(&Entry{Name: "c"}, bad); !errors.Is(err, bad) || Lookup("c") != nil {
		t.Fatalf("Add with an error = %v, lookup %v", err, Lookup("c"))
	}
	if e := Lookup("a"); e == nil || e.Sig != "a(string) string" {
		t.Fatalf("Lookup(a) = %+v, the first registration should keep the name", e)
	}
	if got, want := Signatures(), []string{"a(string) string", "b(int) int"}; !slices.Equal(got, want) {
		t.Fatalf("Signatures = %q, want %q", got, want)
	}
	out, err := Lookup("b").Run(context.Background(), []byte("x"), []byte("y"))
	if err != nil || string(out) != "yx" {
		t.Fatalf("Run = %q, %v", out, err)
	}
	Seal()
	if err := Ready(); err != nil {
		t.Fatalf("Ready after Seal = %v", err)
	}
	if err := Add(&Entry{Name: "d", Sig: "d(int) int", Run: echo}, nil); !errors.Is(err, ErrSealed) {
		t.Fatalf("Add after Seal = %v, want ErrSealed", err)
	}
}

func TestDiff(t *testing.T) {
	ours, theirs := Diff([]string{"a", "b", "c"}, []string{"b", "d"})
	if !slices.Equal(ours, []string{"a", "c"}) || !slices.Equal(theirs, []string{"d"}) {
		t.Fatalf("Diff = %q, %q", ours, theirs)
	}
}

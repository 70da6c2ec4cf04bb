//go:build linux

package shm

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
)

// testName returns a segment name unique to this test and process, and
// makes sure it is gone when the test ends.
func testName(t *testing.T) string {
	t.Helper()
	name := "skein-test-" + strconv.Itoa(os.Getpid()) + "-" + strings.ReplaceAll(t.Name(), "/", "-")
	t.Cleanup(func() { os.Remove(namedDir + "/" + name) })
	return name
}

// An unrelated process (not given any descriptor) attaches by name and
// sees the creator's memory.
func TestCreateThenAttachByNameFromAnotherProcess(t *testing.T) {
	name := testName(t)
	s, err := Create(name, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != name || s.Size() != 64 {
		t.Fatalf("Name, Size = %q, %d", s.Name(), s.Size())
	}
	v, err := ValueAt[int64](s, 0)
	if err != nil {
		t.Fatal(err)
	}
	v.Store(1)
	c := startChild(t, "attach", nil, nameEnv+"="+name, sizeEnv+"=64", countEnv+"=41")
	c.wait(t)
	if got := v.Load(); got != 42 {
		t.Fatalf("value = %d, want 42 (child output %q)", got, c.stdout.String())
	}
}

func TestAttachMissingSegmentReturnsErrNotExist(t *testing.T) {
	name := testName(t)
	if _, err := Attach(name, 8); !errors.Is(err, ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Attach(missing) = %v, want ErrNotExist (and fs.ErrNotExist)", err)
	}
	c := startChild(t, "attach", nil, nameEnv+"="+name, sizeEnv+"=8")
	c.wait(t)
	if c.stdout.String() != "notexist" {
		t.Fatalf("child reports %q, want notexist", c.stdout.String())
	}
}

func TestAttachWrongSizeReturnsSizeError(t *testing.T) {
	name := testName(t)
	s, err := Create(name, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Attach(name, 128)
	var sizeErr *SizeError
	if !errors.As(err, &sizeErr) || !errors.Is(err, ErrSizeMismatch) {
		t.Fatalf("Attach(wrong size) = %v, want a *SizeError matching ErrSizeMismatch", err)
	}
	if *sizeErr != (SizeError{Name: name, Want: 128, Got: 64}) {
		t.Fatalf("SizeError = %+v", *sizeErr)
	}
	c := startChild(t, "attach", nil, nameEnv+"="+name, sizeEnv+"=32")
	c.wait(t)
	if c.stdout.String() != "size 32 64" {
		t.Fatalf("child reports %q, want \"size 32 64\"", c.stdout.String())
	}
}

func TestCreateTakenNameReturnsErrExist(t *testing.T) {
	name := testName(t)
	s, err := Create(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Create("/"+name, 8); !errors.Is(err, ErrExist) || !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create(taken) = %v, want ErrExist (and fs.ErrExist)", err)
	}
}

// The creator's Close unlinks: attached processes keep the memory, nobody
// new can attach. An attacher's Close never unlinks.
func TestCreatorCloseUnlinksAttacherCloseDoesNot(t *testing.T) {
	name := testName(t)
	creator, err := Create(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	attached, err := Attach(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	extra, err := Attach(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := extra.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(name, 8); err != nil {
		t.Fatalf("Attach after an attacher's Close = %v, want the name still there", err)
	}
	v, _ := ValueAt[int64](attached, 0)
	if err := creator.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Attach(name, 8); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Attach after the creator's Close = %v, want ErrNotExist", err)
	}
	v.Add(3)
	if v.Load() != 3 {
		t.Fatal("attached segment unusable after the creator unlinked it")
	}
	attached.Close()
}

func TestWithKeepLeavesNameUntilUnlink(t *testing.T) {
	name := testName(t)
	s, err := Create(name, 8, WithKeep())
	if err != nil {
		t.Fatal(err)
	}
	v, _ := ValueAt[int64](s, 0)
	v.Store(9)
	s.Close()
	again, err := Attach(name, 8)
	if err != nil {
		t.Fatalf("Attach after a WithKeep creator closed = %v", err)
	}
	w, _ := ValueAt[int64](again, 0)
	if w.Load() != 9 {
		t.Fatalf("kept segment reads %d, want 9", w.Load())
	}
	again.Close()
	if err := Unlink(name); err != nil {
		t.Fatal(err)
	}
	if err := Unlink(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Unlink(missing) = %v, want ErrNotExist", err)
	}
}

// A creator whose name was unlinked and reused by someone else must not
// remove the newcomer's segment on Close.
func TestCreatorCloseLeavesAReplacementAlone(t *testing.T) {
	name := testName(t)
	old, err := Create(name, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := Unlink(name); err != nil {
		t.Fatal(err)
	}
	replacement, err := Create(name, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer replacement.Close()
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Attach(name, 16); err != nil {
		t.Fatalf("replacement gone after the old creator's Close: %v", err)
	} else {
		s.Close()
	}
}

func TestCreateAppliesMode(t *testing.T) {
	name := testName(t)
	s, err := Create(name, 8, WithMode(0o640))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := os.Stat(namedDir + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v, want 0640", st.Mode().Perm())
	}
}

func TestNamedArgumentsAreValidated(t *testing.T) {
	ok := testName(t)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"empty name", func() error { _, err := Create("", 8); return err }, ErrInvalidName},
		{"slash only", func() error { _, err := Create("/", 8); return err }, ErrInvalidName},
		{"dot", func() error { _, err := Attach(".", 8); return err }, ErrInvalidName},
		{"dot dot", func() error { _, err := Attach("..", 8); return err }, ErrInvalidName},
		{"inner slash", func() error { _, err := Create("a/b", 8); return err }, ErrInvalidName},
		{"nul", func() error { _, err := Create("a\x00b", 8); return err }, ErrInvalidName},
		{"too long", func() error { _, err := Create(strings.Repeat("x", 256), 8); return err }, ErrInvalidName},
		{"unlink bad name", func() error { return Unlink("a/b") }, ErrInvalidName},
		{"create size 0", func() error { _, err := Create(ok, 0); return err }, ErrInvalidSize},
		{"attach size -1", func() error { _, err := Attach(ok, -1); return err }, ErrInvalidSize},
		{"mode with type bits", func() error { _, err := Create(ok, 8, WithMode(fs.ModeDir|0o600)); return err }, fs.ErrInvalid},
		{"mode beyond perm", func() error { _, err := Create(ok, 8, WithMode(0o1777)); return err }, fs.ErrInvalid},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := os.Stat(namedDir + "/" + ok); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a rejected Create left %s behind", ok)
	}
}

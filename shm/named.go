package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

var (
	// ErrExist is returned by Create when the name is already taken.
	ErrExist = errors.New("shm: segment already exists")
	// ErrNotExist is returned by Attach and Unlink when no segment has the
	// name.
	ErrNotExist = errors.New("shm: segment does not exist")
	// ErrInvalidName is returned for a name that is empty, longer than 255
	// bytes, "." or "..", or contains a slash (other than a leading one)
	// or a NUL byte.
	ErrInvalidName = errors.New("shm: invalid segment name")
	// ErrSizeMismatch is matched (errors.Is) by the *SizeError Attach
	// returns when the segment's size is not the one asked for.
	ErrSizeMismatch = errors.New("shm: segment size mismatch")
)

// SizeError reports that the named segment Attach found does not have the
// expected size: most likely another program's segment under the same
// name, or a different version of the layout.
type SizeError struct {
	Name string // the segment's name
	Want int    // the size passed to Attach
	Got  int    // the segment's actual size
}

// Error names the segment and the two sizes.
func (e *SizeError) Error() string {
	return fmt.Sprintf("shm: segment %q has %d bytes, want %d", e.Name, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrSizeMismatch) match.
func (e *SizeError) Is(target error) bool { return target == ErrSizeMismatch }

// Option configures Create.
type Option func(*createConfig) error

// createConfig is what Create's options set.
type createConfig struct {
	keep bool
	perm fs.FileMode
}

// WithKeep leaves the name in place when the creator closes the segment,
// so processes can still attach to it; someone must then call Unlink.
// Default: the creator's Close unlinks the name.
func WithKeep() Option {
	return func(c *createConfig) error {
		c.keep = true
		return nil
	}
}

// WithMode sets the segment's permission bits, which decide which users
// may Attach. perm must hold only permission bits (0o777). Default: 0o600,
// this user only.
func WithMode(perm fs.FileMode) Option {
	return func(c *createConfig) error {
		if perm&^fs.ModePerm != 0 {
			return fmt.Errorf("shm: mode %v has bits other than permissions: %w", perm, fs.ErrInvalid)
		}
		c.perm = perm
		return nil
	}
}

// Create creates a named segment of size bytes, filled with zeros, that any
// process may Attach by name (Python's SharedMemory(name, create=True,
// size=size); on Linux the segment is /dev/shm/NAME, so the same name works
// from C's shm_open and from Python). A leading slash in name is ignored.
//
// Who unlinks: the creator. Its Close removes the name (unless WithKeep),
// after which no process can attach, while processes already attached keep
// using the memory until they Close. Crashed creators leave the name
// behind; Unlink removes it.
//
// Errors: ErrInvalidSize for size <= 0, ErrInvalidName, ErrExist if the name
// is taken, and the error of an invalid option.
func Create(name string, size int, opts ...Option) (*Segment, error) {
	cfg := createConfig{perm: 0o600}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("shm: nil Option")
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("shm: create %q of %d bytes: %w", name, size, ErrInvalidSize)
	}
	path := namedDir + "/" + name
	f, err := createNamed(path, size, cfg.perm)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("shm: create %q: %w (%w)", name, ErrExist, err)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	s, err := newSegment(f, size, name, path)
	if err != nil {
		f.Close()
		removeNamed(path)
		return nil, err
	}
	s.unlink = !cfg.keep
	return s, nil
}

// Attach maps the existing named segment, which must have exactly size
// bytes (Python's SharedMemory(name)). Closing the returned Segment never
// removes the name. Nothing stops a process from truncating a named
// segment's file while others have it mapped (their next access past the
// new end would raise SIGBUS): leave its size alone.
//
// Errors: ErrInvalidSize for size <= 0, ErrInvalidName, ErrNotExist if no
// segment has the name, and a *SizeError (matching ErrSizeMismatch) if it
// has another size.
func Attach(name string, size int) (*Segment, error) {
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	if size <= 0 {
		return nil, fmt.Errorf("shm: attach %q of %d bytes: %w", name, size, ErrInvalidSize)
	}
	f, err := openNamed(namedDir + "/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("shm: attach %q: %w (%w)", name, ErrNotExist, err)
	}
	if err != nil {
		return nil, fmt.Errorf("shm: attach %q: %w", name, err)
	}
	got, err := fileSize(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: attach %q: %w", name, err)
	}
	if got != int64(size) {
		f.Close()
		return nil, &SizeError{Name: name, Want: size, Got: int(got)}
	}
	s, err := newSegment(f, size, name, namedDir+"/"+name)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Unlink removes the name of a named segment, Python's
// SharedMemory.unlink: no process can attach to it any more, while those
// attached keep their memory until they close it. It returns ErrNotExist if
// no segment has the name, and ErrInvalidName for a bad name.
func Unlink(name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	err = removeNamed(namedDir + "/" + name)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("shm: unlink %q: %w (%w)", name, ErrNotExist, err)
	}
	if err != nil {
		return fmt.Errorf("shm: unlink %q: %w", name, err)
	}
	return nil
}

// cleanName validates a segment name and drops its leading slash.
func cleanName(name string) (string, error) {
	clean := strings.TrimPrefix(name, "/")
	switch {
	case clean == "", clean == ".", clean == "..", len(clean) > 255,
		strings.ContainsAny(clean, "/\x00"):
		return "", fmt.Errorf("shm: name %q: %w", name, ErrInvalidName)
	}
	return clean, nil
}

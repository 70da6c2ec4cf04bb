// Package registry holds the task functions a skein program registered,
// seen without their types: a name, a signature to compare with a peer's,
// and a function from an encoded argument to an encoded result.
//
// proc.Register fills it; proc's workers and the cluster package's workers
// run from it. It lives apart from proc so that another executor can run
// the same registered functions over another transport.
package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Entry is one registered function.
type Entry struct {
	// Name is the name it was registered under.
	Name string
	// Sig is "name(In) Out", compared with a peer's at a handshake so that
	// both sides agree on the types.
	Sig string
	// Run decodes arg, calls the function and appends the encoded result
	// to dst. Errors of the codec wrap the caller's encoding sentinel; a
	// panic anywhere becomes a *future.PanicError.
	Run func(ctx context.Context, arg, dst []byte) ([]byte, error)
}

// ErrSealed is returned by Add after Seal: a function registered that late
// is unknown to workers that were already started.
var ErrSealed = errors.New("registered after proc.Main ran: workers will not know it (register at package level)")

// ErrNotSealed is returned by Ready before Seal.
var ErrNotSealed = errors.New("proc.Main was not called")

var table = struct {
	mu     sync.Mutex // guards the fields below
	byName map[string]*Entry
	sealed bool // Seal ran: later registrations cannot reach workers
}{byName: map[string]*Entry{}}

// Add records e, or the reason it cannot be used (err, or one found here:
// a name taken, a call after Seal), which it returns wrapped as
// "proc: register NAME: ...". The first registration of a name keeps it.
func Add(e *Entry, err error) error {
	table.mu.Lock()
	defer table.mu.Unlock()
	switch {
	case err != nil:
	case table.sealed:
		err = ErrSealed
	case table.byName[e.Name] != nil:
		err = errors.New("name already registered")
	default:
		table.byName[e.Name] = e
		return nil
	}
	return fmt.Errorf("proc: register %q: %w", e.Name, err)
}

// Lookup returns the entry registered under name, or nil.
func Lookup(name string) *Entry {
	table.mu.Lock()
	defer table.mu.Unlock()
	return table.byName[name]
}

// Signatures returns the sorted "name(In) Out" list a handshake exchanges.
func Signatures() []string {
	table.mu.Lock()
	defer table.mu.Unlock()
	sigs := make([]string, 0, len(table.byName))
	for _, e := range table.byName {
		sigs = append(sigs, e.Sig)
	}
	slices.Sort(sigs)
	return sigs
}

// Seal marks the point (proc.Main) after which registrations are refused.
func Seal() {
	table.mu.Lock()
	table.sealed = true
	table.mu.Unlock()
}

// Ready returns ErrNotSealed until Seal ran: a worker started before that
// would run the program's main instead of serving.
func Ready() error {
	table.mu.Lock()
	defer table.mu.Unlock()
	if !table.sealed {
		return ErrNotSealed
	}
	return nil
}

// Diff lists the signatures only in ours and only in theirs.
func Diff(ours, theirs []string) (onlyOurs, onlyTheirs []string) {
	for _, s := range ours {
		if !slices.Contains(theirs, s) {
			onlyOurs = append(onlyOurs, s)
		}
	}
	for _, s := range theirs {
		if !slices.Contains(ours, s) {
			onlyTheirs = append(onlyTheirs, s)
		}
	}
	return onlyOurs, onlyTheirs
}

// Package gather gathers the results of an executor's streaming Map into
// the slice its MapSlice returns, the same way for every executor that
// yields pool.Result (proc, cluster).
package gather

import (
	"errors"
	"fmt"
	"iter"

	"github.com/skein-go/skein/pool"
)

// Slice stores the values of results by their Index in a slice of n.
// A Result with Index < 0 (an error of the whole Map) ends it with that
// error. With pool.FirstError the first failed input ends it with that
// input's error; with pool.AllErrors every input is stored (zero for the
// failed ones) and the errors are joined. Errors name the input index,
// prefixed with pkg ("proc", "cluster").
func Slice[T any](results iter.Seq[pool.Result[T]], n int, mode pool.ErrorMode, pkg string) ([]T, error) {
	out := make([]T, n)
	var errs []error
	for r := range results {
		switch {
		case r.Index < 0:
			return nil, r.Err
		case r.Err == nil:
			out[r.Index] = r.Value
		case mode == pool.FirstError:
			return nil, fmt.Errorf("%s: input %d: %w", pkg, r.Index, r.Err)
		default:
			errs = append(errs, fmt.Errorf("%s: input %d: %w", pkg, r.Index, r.Err))
		}
	}
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

package future

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// All waits until every future has resolved (Python's wait with
// ALL_COMPLETED) and returns their values in the order of fs. The error
// joins the errors of the futures that did not succeed, each prefixed with
// its index, or is ctx.Err() if ctx ended first. A nil future in fs is an
// error.
func All[T any](ctx context.Context, fs []*Future[T]) ([]T, error) {
	if err := checkFutures(fs); err != nil {
		return nil, err
	}
	vals := make([]T, len(fs))
	var errs []error
	for i, f := range fs {
		v, err := f.Wait(ctx)
		if err != nil && !f.State().Done() {
			return vals, err // ctx ended before f resolved
		}
		vals[i] = v
		if err != nil {
			errs = append(errs, fmt.Errorf("future %d: %w", i, err))
		}
	}
	return vals, errors.Join(errs...)
}

// First waits until any future resolves (Python's wait with
// FIRST_COMPLETED) and returns its index, value and error. Among futures
// already resolved, the lowest index wins. It fails if fs is empty or
// holds a nil future, and returns index -1 and ctx.Err() if ctx ends first.
func First[T any](ctx context.Context, fs []*Future[T]) (int, T, error) {
	var zero T
	if len(fs) == 0 {
		return -1, zero, errors.New("future: First of no futures")
	}
	if err := checkFutures(fs); err != nil {
		return -1, zero, err
	}
	for i, f := range fs {
		if v, err, ok := f.Result(); ok {
			return i, v, err
		}
	}
	ready := make(chan int, len(fs))
	for i, f := range fs {
		f.OnDone(func(T, error) { ready <- i })
	}
	select {
	case i := <-ready:
		v, err, _ := fs[i].Result()
		return i, v, err
	case <-ctx.Done():
		return -1, zero, ctx.Err()
	}
}

// FailFast waits until every future has succeeded or one has failed
// (Python's wait with FIRST_EXCEPTION). On the first failure it cancels
// every other future (see [Future.Cancel]) and returns that error at once,
// without waiting for running functions to notice the cancellation. On
// success it returns the values in the order of fs. It returns ctx.Err()
// if ctx ends first.
func FailFast[T any](ctx context.Context, fs []*Future[T]) ([]T, error) {
	if err := checkFutures(fs); err != nil {
		return nil, err
	}
	vals := make([]T, len(fs))
	index := make(map[*Future[T]]int, len(fs))
	for i, f := range fs {
		index[f] = i
	}
	for f, err := range AsCompleted(ctx, fs) {
		if err != nil {
			return vals, err
		}
		v, ferr, _ := f.Result()
		if ferr != nil {
			for _, g := range fs {
				if g != f {
					g.Cancel()
				}
			}
			return vals, fmt.Errorf("future %d: %w", index[f], ferr)
		}
		for i, g := range fs {
			if g == f {
				vals[i] = v // the same future may appear more than once
			}
		}
	}
	return vals, nil
}

// AsCompleted yields the futures of fs as they resolve (Python's
// as_completed), each distinct future once, with a nil error. If ctx ends
// before all have resolved, it yields (nil, ctx.Err()) and stops. A nil
// future in fs yields (nil, error) at once. Breaking out of the loop is
// allowed at any point.
func AsCompleted[T any](ctx context.Context, fs []*Future[T]) iter.Seq2[*Future[T], error] {
	return func(yield func(*Future[T], error) bool) {
		if err := checkFutures(fs); err != nil {
			yield(nil, err)
			return
		}
		seen := make(map[*Future[T]]bool, len(fs))
		ready := make(chan *Future[T], len(fs))
		for _, f := range fs {
			if seen[f] {
				continue
			}
			seen[f] = true
			f.OnDone(func(T, error) { ready <- f })
		}
		for range len(seen) {
			select {
			case f := <-ready:
				if !yield(f, nil) {
					return
				}
			case <-ctx.Done():
				yield(nil, ctx.Err())
				return
			}
		}
	}
}

func checkFutures[T any](fs []*Future[T]) error {
	for i, f := range fs {
		if f == nil {
			return fmt.Errorf("future: nil future at index %d", i)
		}
	}
	return nil
}

package cluster

import (
	"errors"
	"fmt"

	"github.com/skein-go/skein/proc"
)

// Errors of the cluster package. Test for them with errors.Is.
var (
	// ErrClosed: the executor was shut down or closed; the task was not
	// accepted, or its future was failed by Close before a result came.
	ErrClosed = errors.New("cluster: executor closed")

	// ErrTimeout: a task ran longer than WithTimeout allows. It is
	// proc.ErrTimeout, so it also matches context.DeadlineExceeded.
	ErrTimeout = proc.ErrTimeout

	// ErrEncoding: an argument or result could not be encoded or decoded.
	// It is proc.ErrEncoding, so code written for proc keeps working.
	ErrEncoding = proc.ErrEncoding

	// ErrTooLarge: a task's message, or a result, is larger than the NATS
	// server's max_payload. Submit reports it at once, with the sizes.
	ErrTooLarge = errors.New("cluster: message larger than the server's max_payload")

	// ErrUnknownFunc: no worker that received the task had the function
	// registered (see *DeadLetterError: the task was offered to workers
	// MaxDeliveries times).
	ErrUnknownFunc = errors.New("cluster: function not registered in the worker")

	// ErrMismatch: the worker registered the function under the same name
	// with different argument or result types (a different build).
	ErrMismatch = errors.New("cluster: worker registered the function with other types")

	// ErrDeadLetter: a task was delivered MaxDeliveries times without a
	// result (its workers died, or none could run it). See
	// *DeadLetterError.
	ErrDeadLetter = errors.New("cluster: task failed too many deliveries")

	// ErrLockLost: Unlock found that the lock had expired (its holder did
	// not refresh it within its TTL) or was taken by someone else.
	ErrLockLost = errors.New("cluster: lock lost")

	// ErrConflict: a compare-and-swap on a Dict found another revision.
	ErrConflict = errors.New("cluster: revision conflict")

	// ErrExists: Dict.Add found the key already present.
	ErrExists = errors.New("cluster: key exists")

	// ErrNotFound: Dict.Get found no such key.
	ErrNotFound = errors.New("cluster: key not found")
)

// DeadLetterError is the error of a task that was delivered to workers
// MaxDeliveries times without a result: each worker that took it died or
// lost its connection before storing a result, or could not run it (Err
// then wraps ErrUnknownFunc or ErrMismatch). It matches ErrDeadLetter.
type DeadLetterError struct {
	Func       string // the registered name
	TaskID     string // the task's idempotency key
	Deliveries int    // how many times it was delivered
	Err        error  // what the last worker said, or nil when workers died
}

// Error describes the task and why it was given up.
func (e *DeadLetterError) Error() string {
	s := fmt.Sprintf("cluster: task %s (%s) given up after %d deliveries", e.TaskID, e.Func, e.Deliveries)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes a DeadLetterError match ErrDeadLetter.
func (e *DeadLetterError) Is(target error) bool { return target == ErrDeadLetter }

// Unwrap returns Err.
func (e *DeadLetterError) Unwrap() error { return e.Err }

//go:build !linux

package shm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"time"
	"unsafe"
)

// namedDir is where named segments would live; nothing is created there
// on this system.
const namedDir = "/dev/shm"

// errUnsupported is what every constructor returns on this system.
var errUnsupported = fmt.Errorf("shm: shared memory is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func newAnonymous(int) (*os.File, error)                     { return nil, errUnsupported }
func fileSize(*os.File) (int64, error)                       { return 0, errUnsupported }
func mapFile(*os.File, int) (unsafe.Pointer, error)          { return nil, errUnsupported }
func unmap(unsafe.Pointer, int)                              {}
func createNamed(string, int, fs.FileMode) (*os.File, error) { return nil, errUnsupported }
func openNamed(string) (*os.File, error)                     { return nil, errUnsupported }
func removeNamed(string) error                               { return errUnsupported }
func sameFile(*os.File, string) bool                         { return false }
func futexWaitFor(*uint32, uint32, time.Duration) bool       { return false }
func futexWakeN(*uint32, int)                                {}
func processAlive(int) bool                                  { return true }

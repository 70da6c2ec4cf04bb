//go:build !unix

package ipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errNoSockets = fmt.Errorf("ipc: pipes need Unix sockets, missing on %s: %w", runtime.GOOS, errors.ErrUnsupported)

var errAgain = errors.New("ipc: would block")

// sock is never made on this system: Pipe fails first.
type sock struct{}

func socketPair() (a, b *os.File, err error)   { return nil, nil, errNoSockets }
func newSock(*os.File) (*sock, error)          { return nil, errNoSockets }
func (*sock) read([]byte) (int, error)         { return 0, errNoSockets }
func (*sock) write([]byte) (int, error)        { return 0, errNoSockets }
func (*sock) wait(context.Context, bool) error { return errNoSockets }
func (*sock) shutdown()                        {}
func (*sock) shutdownWrite()                   {}
func (*sock) dup() (*os.File, error)           { return nil, errNoSockets }
func (*sock) close() error                     { return nil }

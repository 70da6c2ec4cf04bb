package fdpass_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/proc"
)

// Log is a handle on an open file that travels to proc workers as a task
// argument: the parent exports the file once, a worker attaches it once.
type Log struct {
	f   *os.File
	tok fdpass.Token
}

// MarshalBinary writes the token that names the file.
func (l *Log) MarshalBinary() ([]byte, error) {
	if l.tok.ID == 0 {
		l.tok = fdpass.Export(l, func(*fdpass.Peer) ([]*os.File, func(), error) {
			return []*os.File{l.f}, nil, nil
		})
	}
	return l.tok.Append(nil), nil
}

// UnmarshalBinary attaches the file the token names.
func (l *Log) UnmarshalBinary(b []byte) error {
	tok, _, err := fdpass.ParseToken(b)
	if err != nil {
		return err
	}
	got, err := fdpass.Attach(tok, func(files []*os.File) (*Log, error) {
		return &Log{f: files[0], tok: tok}, nil
	})
	if err != nil {
		return err
	}
	*l = *got
	return nil
}

// readLog runs in a worker and reads the file its parent opened.
var readLog = proc.Register("fdpass.readLog", func(ctx context.Context, l *Log) (string, error) {
	b, err := io.ReadAll(io.NewSectionReader(l.f, 0, 1<<20))
	return fmt.Sprintf("worker read %q", b), err
})

func Example() {
	f, _ := os.CreateTemp("", "fdpass-example")
	os.Remove(f.Name()) // the worker cannot open it by name: only the descriptor passes
	defer f.Close()
	f.WriteString("written by the parent")

	ctx := context.Background()
	p, err := proc.Start(ctx, readLog, &Log{f: f})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Pid() != os.Getpid())
	fmt.Println(p.Wait(ctx))
	// Output:
	// true
	// worker read "written by the parent" <nil>
}

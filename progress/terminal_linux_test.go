package progress

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns both ends of a new pseudo-terminal, or skips the test
// where there is none.
func openPTY(t *testing.T) (primary, replica *os.File) {
	t.Helper()
	primary, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { primary.Close() })
	fd := int(primary.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlock pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("pseudo-terminal number: %v", err)
	}
	replica, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { replica.Close() })
	return primary, replica
}

func TestAutoDrawsBarsOnATerminal(t *testing.T) {
	primary, replica := openPTY(t)
	if err := unix.IoctlSetWinsize(int(replica.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 100}); err != nil {
		t.Skipf("size pseudo-terminal: %v", err)
	}
	tr := mustNew(t)
	r := mustRenderer(t, tr, replica)
	if r.Mode() != Bars {
		t.Fatalf("Mode() on a terminal = %v, want bars", r.Mode())
	}
	if err := r.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	task := mustTask(t, tr, "on-a-tty", 3)
	task.Add(3)
	task.Done()
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	replica.Close()               // the reader below sees the end of the output
	out, _ := io.ReadAll(primary) // ends with EIO once the replica is closed
	if !bytes.Contains(out, []byte("on-a-tty")) || !bytes.Contains(out, []byte("3/3 items")) {
		t.Errorf("terminal output lacks the task's bar:\n%q", out)
	}
}

func TestAutoWritesLinesOnATerminalOfNoWidth(t *testing.T) {
	_, replica := openPTY(t) // a new pseudo-terminal has 0 columns, like some CI consoles
	if got := mustRenderer(t, mustNew(t), replica).Mode(); got != Lines {
		t.Errorf("Mode() on a terminal of no width = %v, want lines (mpb would draw nothing)", got)
	}
}

package proc

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestParentDeathKillsWorkers runs a parent as a subprocess (this test
// binary, see runTestParent), kills it with SIGKILL, and checks that its
// workers die with it: one of them ignores its context, so only the
// kernel (Pdeathsig) or the closed control socket can end it.
func TestParentDeathKillsWorkers(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envTestParent+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	var workers []int
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("parent said %q, then %v", line, err)
		}
		if line == "ready\n" {
			break
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(line), "worker "))
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("parent said %q", line)
		}
		workers = append(workers, pid)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The workers share the parent's stdout: the pipe reaches EOF only
	// once every process holding it, workers included, has exited.
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if len(workers) != 2 || len(rest) != 0 {
		t.Fatalf("workers %v, trailing output %q", workers, rest)
	}
	// EOF means their files are closed: they are exiting. Wait for each
	// to be gone (a pidfd becomes readable when its process exits).
	for _, pid := range workers {
		fd, err := unix.PidfdOpen(pid, 0)
		if err == unix.ESRCH {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); err != unix.EINTR {
				break
			}
		}
		unix.Close(fd)
	}
}

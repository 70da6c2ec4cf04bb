//go:build linux

package shm

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestLayout makes a fresh segment with testLayout in it.
func newTestLayout(t *testing.T) (*Segment, layout) {
	t.Helper()
	seg, err := New(layoutSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	l, err := newLayout(seg)
	if err != nil {
		t.Fatal(err)
	}
	return seg, l
}

// The seed's shared_memory_example: two processes × 1000 increments of a
// shared counter, each under the shared lock → exactly 2000.
func TestMutexTwoProcessesLockedIncrementsReachExactly2000(t *testing.T) {
	seg, l := newTestLayout(t)
	a := startChild(t, "locked-inc", seg, countEnv+"=1000")
	b := startChild(t, "locked-inc", seg, countEnv+"=1000")
	a.wait(t)
	b.wait(t)
	if got := l.counter.Load(); got != 2000 {
		t.Fatalf("counter = %d, want 2000", got)
	}
	if err := l.mu.TryLock(); err != nil {
		t.Fatalf("mutex left locked after both children unlocked: %v", err)
	}
}

// A holder SIGKILLed while it holds the mutex, half way through an update:
// a process already waiting for the mutex gets it, with the owner-dead
// report naming the holder, and repairs the update.
func TestMutexLockAfterHolderKilledReportsOwnerDeadAndStateIsRepairable(t *testing.T) {
	seg, l := newTestLayout(t)
	holder := startChild(t, "hold", seg)
	holder.waitSignal(t, "L")

	survivor := startChild(t, "survivor", seg, pidEnv+"="+strconv.Itoa(holder.cmd.Process.Pid))
	survivor.waitSignal(t, "W") // about to Lock, or already waiting in it
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	survivor.wait(t) // Lock returned owner-dead, the survivor repaired and unlocked
	holder.cmd.Wait()

	if got := l.counter.Load(); got != 100 {
		t.Fatalf("counter = %d, want 100 (the dead holder's increment undone, the survivor's done)", got)
	}
	if got := l.dirty.Load(); got != 0 {
		t.Fatalf("dirty = %d after repair, want 0", got)
	}
	if err := l.mu.Lock(context.Background()); err != nil {
		t.Fatalf("Lock after the survivor's Unlock = %v, want nil", err)
	}
	if err := l.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// The owner's death is seen even before its parent reaps it: a killed
// child stays a zombie until Wait, and Lock must not take it for alive.
func TestMutexLockReportsOwnerDeadWhileHolderIsAnUnreapedZombie(t *testing.T) {
	seg, l := newTestLayout(t)
	holder := startChild(t, "hold", seg)
	holder.waitSignal(t, "L")
	if err := holder.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Not reaped: the holder is (or is about to be) a zombie.
	err := l.mu.Lock(context.Background())
	var dead *OwnerDeadError
	if !errors.As(err, &dead) || !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock = %v, want an *OwnerDeadError matching ErrOwnerDead", err)
	}
	if dead.PID != holder.cmd.Process.Pid {
		t.Fatalf("OwnerDeadError.PID = %d, want %d", dead.PID, holder.cmd.Process.Pid)
	}
	if err := l.mu.Unlock(); err != nil {
		t.Fatalf("Unlock by the process that got owner-dead = %v", err)
	}
	holder.cmd.Wait()
}

// TryLock reports a live holder as busy and a dead one as owner-dead, with
// the lock then held.
func TestMutexTryLockBusyWhileHolderLivesOwnerDeadAfter(t *testing.T) {
	seg, l := newTestLayout(t)
	holder := startChild(t, "hold", seg)
	holder.waitSignal(t, "L")
	if err := l.mu.TryLock(); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryLock while a live process holds it = %v, want ErrBusy", err)
	}
	holder.cmd.Process.Kill()
	holder.cmd.Wait()
	if err := l.mu.TryLock(); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("TryLock after the holder died = %v, want ErrOwnerDead", err)
	}
	if err := l.mu.TryLock(); !errors.Is(err, ErrBusy) {
		t.Fatalf("TryLock while this process holds it = %v, want ErrBusy", err)
	}
	if err := l.mu.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// Only the owning process can unlock; another process can neither unlock
// nor take the mutex.
func TestMutexUnlockByNonOwnerFails(t *testing.T) {
	seg, l := newTestLayout(t)
	if err := l.mu.Unlock(); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Unlock of an unlocked mutex = %v, want ErrNotOwner", err)
	}
	if err := l.mu.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	startChild(t, "foreign", seg).wait(t)
	if err := l.mu.Unlock(); err != nil {
		t.Fatalf("Unlock by the owner after a foreign attempt = %v", err)
	}
}

// A child holding the mutex makes the parent's Lock wait; the wait ends
// with ctx's error, without the lock, when ctx ends.
func TestMutexLockReturnsContextErrorWithoutTheLock(t *testing.T) {
	seg, l := newTestLayout(t)
	holder := startChild(t, "hold", seg)
	holder.waitSignal(t, "L")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.mu.Lock(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock cancelled while held = %v, want context.Canceled", err)
	}

	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	if err := l.mu.Lock(expired); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with an expired deadline while held = %v, want DeadlineExceeded", err)
	}
	if err := l.mu.Unlock(); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Unlock after failed Locks = %v, want ErrNotOwner (the child still holds it)", err)
	}
	holder.cmd.Process.Kill()
	holder.cmd.Wait()
}

// atomic adds from two processes and this one at once: nothing is lost.
func TestValueAndArrayAtomicAddsAcrossProcessesLoseNothing(t *testing.T) {
	seg, l := newTestLayout(t)
	const n = 6000
	a := startChild(t, "atomic-add", seg, countEnv+"="+strconv.Itoa(n))
	b := startChild(t, "atomic-add", seg, countEnv+"="+strconv.Itoa(n))
	a.stdin.Close()
	b.stdin.Close()
	for i := range n {
		l.counter.Add(1)
		l.float.Add(0.5)
		l.array.Add(i%arrayLen, 1)
	}
	a.wait(t)
	b.wait(t)
	if got := l.counter.Load(); got != 3*n {
		t.Errorf("counter = %d, want %d", got, 3*n)
	}
	if got := l.float.Load(); got != 1.5*n {
		t.Errorf("float = %v, want %v", got, 1.5*n)
	}
	for i, v := range l.array.All() {
		if v != 3*n/arrayLen {
			t.Errorf("array[%d] = %d, want %d", i, v, 3*n/arrayLen)
		}
	}
}

// Goroutines of one process exclude each other like sync.Mutex, through
// both the fast path and the futex sleep.
func TestMutexExcludesGoroutinesOfOneProcess(t *testing.T) {
	_, l := newTestLayout(t)
	const goroutines, each = 4, 2000
	var wg sync.WaitGroup
	plain := 0 // guarded by l.mu: the race detector does not see l.mu, so no race check here
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Go(func() {
			for range each {
				if err := l.mu.Lock(context.Background()); err != nil {
					errs <- err
					return
				}
				l.counter.Store(l.counter.Load() + 1)
				plain++
				if err := l.mu.Unlock(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := l.counter.Load(); got != goroutines*each {
		t.Fatalf("counter = %d, want %d", got, goroutines*each)
	}
}

// A process that exited counts as dead, zombie or reaped; this process and
// one that runs count as alive; pid 0 (a process group to kill) never
// counts as an owner. Both the pidfd check and the kill fallback agree.
func TestProcessAliveSeesExitedProcessesDead(t *testing.T) {
	for name, alive := range map[string]func(int) bool{"pidfd": processAlive, "kill": signalAlive} {
		t.Run(name, func(t *testing.T) {
			if !alive(int(self)) {
				t.Error("this process counted dead")
			}
			running := exec.Command("cat") // runs until its stdin closes
			stdin, err := running.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := running.Start(); err != nil {
				t.Fatal(err)
			}
			if !alive(running.Process.Pid) {
				t.Error("running child counted dead")
			}
			stdin.Close()
			running.Wait()
			if alive(running.Process.Pid) {
				t.Error("reaped child counted alive")
			}

			zombie := exec.Command("true")
			if err := zombie.Start(); err != nil {
				t.Fatal(err)
			}
			waitZombie(t, zombie.Process.Pid)
			if alive(zombie.Process.Pid) {
				t.Error("zombie child counted alive")
			}
			zombie.Wait()
		})
	}
	if processAlive(0) {
		t.Error("pid 0 counted alive")
	}
}

// waitZombie waits until process pid has exited, without reaping it.
func waitZombie(t *testing.T, pid int) {
	t.Helper()
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
}

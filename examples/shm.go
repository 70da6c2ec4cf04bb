package examples

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/skein-go/skein/proc"
	"github.com/skein-go/skein/shm"
)

func init() {
	register(Demo{
		Name:    "shm",
		Summary: "the seed's shared counter: two processes x 1000 increments under a shared lock = 2000; then a holder SIGKILLed with the lock, and the survivor recovers",
		Run:     shmDemo,
	})
}

// shmCounter is what the demo's processes share, and get as their task
// argument: the seed's Value('i') and its get_lock(), plus a flag that says
// an update is half done (set before it starts, cleared after), so that a
// survivor can repair what a dead holder left.
type shmCounter struct {
	Lock    *shm.Mutex
	Value   *shm.Value[int64]
	Pending *shm.Value[int64]
	N       int
}

// Segment layout (byte offsets): the mutex, then the two values.
const (
	shmDemoOffLock    = 0
	shmDemoOffValue   = 8
	shmDemoOffPending = 16
	shmDemoSize       = 24
)

// The demo's task functions, run in worker processes.
var (
	// shmIncrement is the seed's increment_counter: n increments, each a
	// read and a write under the lock, so that without the lock updates
	// would be lost.
	shmIncrement = proc.Register("examples.shm.increment", func(ctx context.Context, c shmCounter) (int64, error) {
		for range c.N {
			if err := c.Lock.Lock(ctx); err != nil {
				return 0, err
			}
			c.Value.Store(c.Value.Load() + 1)
			if err := c.Lock.Unlock(); err != nil {
				return 0, err
			}
		}
		return c.Value.Load(), nil
	})
	// shmHoldForever takes the lock, starts an update and never finishes
	// it: it prints "locked" and waits to be killed.
	shmHoldForever = proc.Register("examples.shm.hold", func(ctx context.Context, c shmCounter) (int64, error) {
		if err := c.Lock.Lock(ctx); err != nil {
			return 0, err
		}
		c.Pending.Store(1)
		c.Value.Add(1) // half an update: the holder dies before it is done
		fmt.Println("locked")
		<-ctx.Done()
		return 0, ctx.Err()
	})
	// shmSurvive waits for the lock ("waiting" when it is about to), and
	// when the holder turns out dead, undoes its half update. It returns
	// the dead holder's pid.
	shmSurvive = proc.Register("examples.shm.survive", func(ctx context.Context, c shmCounter) (int64, error) {
		fmt.Println("waiting")
		err := c.Lock.Lock(ctx)
		var dead *shm.OwnerDeadError
		if !errors.As(err, &dead) {
			if err == nil {
				c.Lock.Unlock()
			}
			return 0, fmt.Errorf("lock = %v, want an *shm.OwnerDeadError", err)
		}
		if c.Pending.Load() == 1 { // repair: take the half update back
			c.Value.Add(-1)
			c.Pending.Store(0)
		}
		return int64(dead.PID), c.Lock.Unlock()
	})
)

func shmDemo(ctx context.Context, w io.Writer) (string, error) {
	seg, err := shm.New(shmDemoSize)
	if err != nil {
		return "", err
	}
	defer seg.Close()
	var c shmCounter
	var e1, e2, e3 error
	c.Lock, e1 = shm.MutexAt(seg, shmDemoOffLock)
	c.Value, e2 = shm.ValueAt[int64](seg, shmDemoOffValue)
	c.Pending, e3 = shm.ValueAt[int64](seg, shmDemoOffPending)
	if err := errors.Join(e1, e2, e3); err != nil {
		return "", err
	}

	// Part 1, the seed: two processes, 1000 locked increments each.
	c.N = 1000
	var procs []*proc.Process[int64]
	for range 2 {
		p, err := proc.Start(ctx, shmIncrement, c) // the Value and the Mutex travel as arguments
		if err != nil {
			return "", err
		}
		defer p.Kill()
		procs = append(procs, p)
	}
	for _, p := range procs {
		if _, err := p.Wait(ctx); err != nil {
			return "", fmt.Errorf("process %d: %w", p.Pid(), err)
		}
		fmt.Fprintf(w, "process %d did 1000 locked increments\n", p.Pid())
	}
	final := c.Value.Load()
	fmt.Fprintf(w, "Final counter: %d\n", final)
	if final != 2000 {
		return "", fmt.Errorf("final counter %d, want 2000", final)
	}

	// Part 2: what Python cannot do. A process dies holding the lock; the
	// process waiting for it gets it, learns the holder died, and repairs.
	locked := shmSignalOn()
	holder, err := proc.Start(ctx, shmHoldForever, c, proc.WithStdout(locked))
	if err != nil {
		return "", err
	}
	defer holder.Kill()
	if err := shmAwait(ctx, locked, holder); err != nil {
		return "", err
	}
	fmt.Fprintf(w, "process %d holds the lock, half way through an update (counter %d)\n", holder.Pid(), c.Value.Load())
	waiting := shmSignalOn()
	survivor, err := proc.Start(ctx, shmSurvive, c, proc.WithStdout(waiting))
	if err != nil {
		return "", err
	}
	defer survivor.Kill()
	if err := shmAwait(ctx, waiting, survivor); err != nil {
		return "", err
	}
	fmt.Fprintf(w, "process %d waits for the lock; SIGKILL to %d\n", survivor.Pid(), holder.Pid())
	holder.Kill()
	if _, err := holder.Wait(ctx); err == nil {
		return "", errors.New("the killed holder reported success")
	}
	deadPID, err := survivor.Wait(ctx)
	if err != nil {
		return "", fmt.Errorf("survivor: %w", err)
	}
	if int(deadPID) != holder.Pid() {
		return "", fmt.Errorf("survivor was told pid %d died, want %d", deadPID, holder.Pid())
	}
	fmt.Fprintf(w, "process %d got the lock with shm.OwnerDeadError{PID: %d}, undid the half update: counter %d\n",
		survivor.Pid(), deadPID, c.Value.Load())
	if got := c.Value.Load(); got != 2000 {
		return "", fmt.Errorf("counter %d after the repair, want 2000", got)
	}
	if err := c.Lock.TryLock(); err != nil {
		return "", fmt.Errorf("lock not free after the survivor unlocked: %w", err)
	}
	c.Lock.Unlock()
	return "2 processes x 1000 locked increments = 2000; a SIGKILLed holder's lock went to the waiting process with OwnerDeadError, state repaired", nil
}

// shmSignal is a worker's stdout that closes seen at the first line the
// worker prints: how the demo learns that a worker reached a point.
type shmSignal struct {
	once sync.Once
	seen chan struct{}
}

func shmSignalOn() *shmSignal { return &shmSignal{seen: make(chan struct{})} }

func (s *shmSignal) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.seen) })
	return len(p), nil
}

// shmAwait waits until p has printed its line, or has ended without doing
// so (an error), or ctx has ended.
func shmAwait(ctx context.Context, s *shmSignal, p *proc.Process[int64]) error {
	select {
	case <-s.seen:
		return nil
	case <-p.Done():
		_, err := p.Wait(ctx)
		return fmt.Errorf("process %d ended early: %v", p.Pid(), err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

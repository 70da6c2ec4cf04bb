package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skein-go/skein/future"
	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/internal/registry"
	"github.com/skein-go/skein/internal/wire"
)

// waitDelay bounds how long reaping a dead worker waits for its stderr
// pipe to drain, in case a grandchild process still holds it open.
const waitDelay = 2 * time.Second

// worker is the parent's handle on one worker process. Two goroutines
// serve it: read (results in, and the worker's end) and write (frames
// out, batched: everything queued while a write is in progress goes out
// in the next one).
type worker struct {
	cmd  *exec.Cmd
	pid  int
	conn net.Conn     // tasks out, results in
	ctl  net.Conn     // cancellations out
	fds  *fdpass.Peer // serves the files of handles its tasks attach
	r    *wire.Reader
	tail *tail

	outcome wire.Outcome // the reader goroutine's scratch, for Pool.result

	// Guarded by Pool.mu.
	inflight []*job        // sent and not finished, in the order sent (the worker's order)
	given    int           // items sent over the worker's life
	rss      uint64        // last reported resident set size
	full     bool          // its window filled up and has not drained to half since
	perJob   time.Duration // average time a job takes on it, 0 until one finished
	idleFrom time.Time     // when the job now running could start (last completion, or the send to an idle worker)
	retiring bool          // recycled: takes no new work, leaves when empty
	closing  bool          // its socket was half-closed: it was asked to exit
	exiting  bool          // it announced it ends itself (a task would not stop)
	killed   error         // why the pool killed it, or nil

	wmu  sync.Mutex    // guards wbuf
	wbuf []byte        // frames for conn
	wake chan struct{} // capacity 1: wbuf has data
	quit chan struct{} // closed when the worker is gone: the writer returns
}

// startWorker starts a worker process and runs the handshake: same build,
// same functions, initializer done. On error the process is gone.
func startWorker(cfg *config, sp *spawner) (*worker, error) {
	exe, err := executable()
	if err != nil {
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	parentEnd, childEnd, err := socketPair()
	if err != nil {
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	parentCtl, childCtl, err := socketPair()
	if err != nil {
		parentEnd.Close()
		childEnd.Close()
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	parentFDs, childFDs, err := socketPair()
	if err != nil {
		parentEnd.Close()
		childEnd.Close()
		parentCtl.Close()
		childCtl.Close()
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	w := &worker{tail: &tail{out: cfg.stderr}, wake: make(chan struct{}, 1), quit: make(chan struct{})}
	w.cmd = &exec.Cmd{
		Path:        exe,
		Args:        []string{os.Args[0]},
		Env:         workerEnv(),
		Stdout:      cfg.stdout,
		Stderr:      w.tail,
		ExtraFiles:  []*os.File{childEnd, childCtl, childFDs},
		SysProcAttr: sysProcAttr(),
		WaitDelay:   waitDelay,
	}
	err = sp.start(w.cmd)
	childEnd.Close()
	childCtl.Close()
	childFDs.Close()
	if err != nil {
		parentEnd.Close()
		parentCtl.Close()
		parentFDs.Close()
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	w.pid = w.cmd.Process.Pid
	// The worker's descriptor channel: handles (ipc, shm) passed to its
	// tasks fetch their files through it. Serve owns parentFDs from here.
	if w.fds, err = fdpass.Serve(parentFDs, w.pid); err != nil {
		parentEnd.Close()
		parentCtl.Close()
		w.reap(nil)
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	w.conn, err = fileConn(parentEnd)
	if err == nil {
		w.ctl, err = fileConn(parentCtl)
	} else {
		parentCtl.Close()
	}
	if err != nil {
		w.closeConns()
		w.reap(nil)
		return nil, fmt.Errorf("proc: start worker: %w", err)
	}
	w.r = wire.NewReader(w.conn, cfg.maxFrame)
	if err := w.handshake(cfg); err != nil {
		w.closeConns()
		werr := w.reap(nil)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("proc: start worker: no handshake (does main call proc.Main first?): %w", werr)
		}
		return nil, fmt.Errorf("proc: start worker %d: %w", w.pid, err)
	}
	return w, nil
}

// workerEnv is the parent's environment plus the worker marker.
func workerEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, envWorker+"=") })
	if raceEnabled {
		gorace := os.Getenv("GORACE")
		if !strings.Contains(gorace, "atexit_sleep_ms") {
			env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "GORACE=") })
			env = append(env, "GORACE="+strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
		}
	}
	return append(env, envWorker+"="+strconv.Itoa(workerFD))
}

// handshake checks the worker's Hello, sends Setup and waits for Ready,
// all within the start timeout.
func (w *worker) handshake(cfg *config) error {
	if err := w.conn.SetDeadline(time.Now().Add(cfg.startTimeout)); err != nil {
		return err
	}
	var hello wire.Hello
	if err := w.expect(wire.KindHello, &hello); err != nil {
		return err
	}
	if err := checkHello(&hello); err != nil {
		return err
	}
	setup := &wire.Setup{Grace: int64(cfg.grace), ReportRSS: cfg.maxRSS > 0, MaxFrame: cfg.maxFrame}
	if cfg.init != nil {
		setup.Init, setup.InitArg = cfg.init.name, cfg.init.arg
	}
	if _, err := w.conn.Write(wire.AppendFrame(nil, setup)); err != nil {
		return err
	}
	var ready wire.Ready
	if err := w.expect(wire.KindReady, &ready); err != nil {
		return err
	}
	if o := ready.Outcome; o.Status != wire.StatusOK {
		_, cause := outcomeError(setup.Init, &o, 0, nil)
		if o.Status == wire.StatusPanic {
			cause = &future.PanicError{Value: o.Msg, Stack: o.Stack}
		}
		return fmt.Errorf("%w: %q: %w", ErrInit, setup.Init, cause)
	}
	return w.conn.SetDeadline(time.Time{})
}

// expect reads the next frame, which must be of kind k, into m.
func (w *worker) expect(k wire.Kind, m wire.Message) error {
	got, payload, err := w.r.Next()
	if err != nil {
		return err
	}
	if got != k {
		return fmt.Errorf("%w: expected a %v frame, got %v", wire.ErrCorrupt, k, got)
	}
	return m.ParsePayload(payload)
}

// checkHello refuses a worker that is not the same build as this process.
func checkHello(h *wire.Hello) error {
	if h.Version != wire.Version {
		return fmt.Errorf("%w: protocol version %d, parent speaks %d", ErrMismatch, h.Version, wire.Version)
	}
	if id := buildID(); h.Build != id {
		return fmt.Errorf("%w: worker build %s, parent build %s", ErrMismatch, h.Build, id)
	}
	ours := registry.Signatures()
	if slices.Equal(h.Funcs, ours) {
		return nil
	}
	onlyParent, onlyWorker := registry.Diff(ours, h.Funcs)
	return fmt.Errorf("%w: registered functions differ: only in the parent %q, only in the worker %q", ErrMismatch, onlyParent, onlyWorker)
}

// send queues a Task frame for the writer. Called with Pool.mu held, so
// frames go out in the order jobs enter w.inflight.
func (w *worker) send(j *job, timeout time.Duration) {
	w.wmu.Lock()
	w.wbuf = j.frame(w.wbuf, timeout)
	w.wmu.Unlock()
	w.signal()
}

// sendCancel writes a Cancel frame to the control socket, at once: not
// through the writer, which may be blocked behind a large Task frame that
// the worker will read only after the task being cancelled returns. The
// worker always drains its control socket, so the write does not block.
func (w *worker) sendCancel(id uint64) {
	_, _ = w.ctl.Write(wire.AppendFrame(nil, &wire.Cancel{ID: id}))
}

func (w *worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// write is the writer goroutine: it hands everything queued to the kernel
// in one write, until the worker is gone. A failed write means the worker
// died; the reader finds out and cleans up.
func (w *worker) write() {
	var spare []byte
	for {
		select {
		case <-w.wake:
		case <-w.quit:
			return
		}
		w.wmu.Lock()
		buf := w.wbuf
		w.wbuf = spare[:0]
		w.wmu.Unlock()
		if len(buf) > 0 {
			if _, err := w.conn.Write(buf); err != nil {
				<-w.quit
				return
			}
		}
		spare = buf
	}
}

// closeConns closes both sockets: the worker reads EOF.
func (w *worker) closeConns() {
	if w.conn != nil {
		w.conn.Close()
	}
	if w.ctl != nil {
		w.ctl.Close()
	}
	if w.fds != nil {
		w.fds.Close()
	}
}

// closeWrite half-closes the data socket and closes the control one: the
// worker reads EOF and exits. The pool calls it once the worker has
// nothing left to run.
func (w *worker) closeWrite() {
	_ = w.ctl.Close()
	if cw, ok := w.conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	_ = w.conn.Close()
}

// kill ends the process at once (SIGKILL).
func (w *worker) kill() { _ = w.cmd.Process.Kill() }

// reap kills the process (in case it still runs: after EOF it is exiting
// anyway, and SIGKILL does not change the status of a process already
// exiting), waits for it and describes its end. cause is why the pool
// gave up on it (a protocol error), if it did.
func (w *worker) reap(cause error) *WorkerError {
	w.kill()
	_ = w.cmd.Wait()
	werr := &WorkerError{Pid: w.pid, ExitCode: -1, Stderr: w.tail.String(), Err: cause}
	if st := w.cmd.ProcessState; st != nil {
		werr.ExitCode, werr.Signal = exitInfo(st)
	}
	return werr
}

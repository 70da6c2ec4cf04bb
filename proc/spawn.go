package proc

import (
	"os/exec"
	"runtime"
)

// spawner starts worker processes from one goroutine locked to its OS
// thread for the spawner's whole life. On Linux a worker gets Pdeathsig:
// the kernel kills it when the *thread* that forked it exits, so forking
// from whatever thread a goroutine happens to run on could kill workers
// at random when the runtime retires a thread; one long-lived locked
// thread per pool ties the workers' lives to the pool's (and to the
// parent process's).
type spawner struct {
	reqs chan spawnReq
	done chan struct{} // closed when the goroutine has returned
}

type spawnReq struct {
	cmd   *exec.Cmd
	reply chan error
}

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	// Never unlocked: when loop returns, the runtime ends the thread, and
	// with it (Pdeathsig) any worker that somehow outlived its pool.
	runtime.LockOSThread()
	defer close(s.done)
	for r := range s.reqs {
		r.reply <- r.cmd.Start()
	}
}

// start runs cmd.Start on the spawner's thread. It must not be called
// after stop.
func (s *spawner) start(cmd *exec.Cmd) error {
	reply := make(chan error, 1)
	s.reqs <- spawnReq{cmd, reply}
	return <-reply
}

// stop ends the spawner once every worker it started has exited.
func (s *spawner) stop() {
	close(s.reqs)
	<-s.done
}

package ipc

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/skein-go/skein/internal/fdpass"
	"github.com/skein-go/skein/shm"
)

// mgrServer holds a Map's entries and named locks in the process that made
// it, and serves them to the workers the Map was handed to.
type mgrServer struct {
	// Immutable after newMgrServer.
	add      func(old, delta []byte) ([]byte, error) // nil unless V is a number
	equal    func(a, b []byte) (bool, error)
	slots    int
	maxMsg   int
	self     *mgrOwner     // the parent process as a lock owner
	closing  chan struct{} // closed by Close: peer watchers and local Lock waits end
	stopping atomic.Bool   // tells the serving loop to return

	mu      sync.Mutex // guards every field below, and the slots' server side
	closed  bool
	entries map[string][]byte
	locks   map[string]*mgrLock
	peers   []*mgrPeer
	tok     fdpass.Token   // zero until the first MarshalBinary
	hub     *shm.Segment   // nil until the first MarshalBinary
	bell    *atomic.Uint32 // in hub
	loop    chan struct{}  // closed when the serving loop has returned; nil if never started
	out     []byte         // reply buffer of the serving loop

	watchers sync.WaitGroup // one per peer, until the peer is gone or the Map closed
	sending  sync.WaitGroup // provides whose files fdpass is still sending: close keeps the hub open for them
}

// mgrOwner is a process that can hold named locks: the parent, or one
// worker (a peer).
type mgrOwner struct {
	pid  int
	peer *mgrPeer // nil for the parent
}

// mgrPeer is a worker connected to the Map, with its channel.
type mgrPeer struct {
	owner  mgrOwner
	ch     *mgrChan
	parked []bool // by slot: a Lock request waits there for its grant
}

// mgrLock is a named lock.
type mgrLock struct {
	holder  *mgrOwner // nil when free
	deadPID int       // a holder that died holding it, told to the next holder
	waiters []*mgrWaiter
}

// mgrWaiter is a Lock call waiting for a lock: in the parent (grant set)
// or in a worker (peer and slot).
type mgrWaiter struct {
	owner *mgrOwner
	slot  int
	grant chan int // the parent's: receives the dead holder's pid, or 0
}

func newMgrServer(cfg mapConfig, add func(old, delta []byte) ([]byte, error), equal func(a, b []byte) (bool, error)) *mgrServer {
	return &mgrServer{
		add:     add,
		equal:   equal,
		slots:   cfg.slots,
		maxMsg:  cfg.maxMessage,
		self:    &mgrOwner{pid: os.Getpid()},
		closing: make(chan struct{}),
		entries: map[string][]byte{},
		locks:   map[string]*mgrLock{},
	}
}

// local runs a request of the parent process. A Lock that must wait
// returns a nil reply and the waiter that will receive the grant.
func (s *mgrServer) local(req []byte) ([]byte, *mgrWaiter) {
	r, err := parseRequest(req)
	if err != nil {
		return appendFailure(nil, err), nil
	}
	w := &mgrWaiter{owner: s.self}
	if r.op == mgrOpLock {
		w.grant = make(chan int, 1)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return appendFailure(nil, ErrClosed), nil
	}
	reply, parked := s.exec(r, w, nil)
	if parked {
		return nil, w
	}
	return reply, nil
}

// waitLocal waits for the grant of a parked local Lock. If ctx ends
// first, the request is withdrawn, unless the grant came in the meantime.
func (s *mgrServer) waitLocal(ctx context.Context, name string, w *mgrWaiter) (int, error) {
	select {
	case pid := <-w.grant:
		return pid, nil
	case <-ctx.Done():
	case <-s.closing:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.locks[name]; l != nil && l.remove(w) {
		s.forget(name, l)
		if s.closed {
			return 0, ErrClosed
		}
		return 0, ctx.Err()
	}
	if s.closed {
		return 0, ErrClosed
	}
	return <-w.grant, nil // granted before we could withdraw
}

// exec runs r for w.owner and appends the reply to dst. A Lock that must
// wait parks w in the lock's queue and returns parked. s.mu is held.
func (s *mgrServer) exec(r mgrRequest, w *mgrWaiter, dst []byte) (reply []byte, parked bool) {
	ok := append(dst, mgrOK)
	switch r.op {
	case mgrOpGet:
		v, found := s.entries[r.key]
		ok = mgrAppendBool(ok, found)
		if found {
			ok = mgrAppendBytes(ok, v)
		}
	case mgrOpSet:
		s.entries[r.key] = slices.Clone(r.a)
	case mgrOpDelete:
		_, found := s.entries[r.key]
		delete(s.entries, r.key)
		ok = mgrAppendBool(ok, found)
	case mgrOpCAS:
		cur, found := s.entries[r.key]
		swap := false
		if found {
			eq, err := s.equal(cur, r.a)
			if err != nil {
				return appendFailure(dst, err), false
			}
			swap = eq
		}
		if swap {
			s.entries[r.key] = slices.Clone(r.b)
		}
		ok = mgrAppendBool(ok, swap)
	case mgrOpAdd:
		if s.add == nil {
			return appendFailure(dst, fmt.Errorf("ipc: map add: %w", ErrNotNumber)), false
		}
		v, err := s.add(s.entries[r.key], r.a)
		if err != nil {
			return appendFailure(dst, err), false
		}
		s.entries[r.key] = v
		ok = mgrAppendBytes(ok, v)
	case mgrOpSnapshot:
		ok = binary.AppendUvarint(ok, uint64(len(s.entries)))
		for k, v := range s.entries {
			ok = mgrAppendBytes(ok, []byte(k))
			ok = mgrAppendBytes(ok, v)
		}
	case mgrOpLen:
		ok = binary.AppendUvarint(ok, uint64(len(s.entries)))
	case mgrOpKeys:
		ok = binary.AppendUvarint(ok, uint64(len(s.entries)))
		for k := range s.entries {
			ok = mgrAppendBytes(ok, []byte(k))
		}
	case mgrOpPop:
		v, found := s.entries[r.key]
		delete(s.entries, r.key)
		ok = mgrAppendBool(ok, found)
		if found {
			ok = mgrAppendBytes(ok, v)
		}
	case mgrOpSetDefault:
		v, found := s.entries[r.key]
		if !found {
			s.entries[r.key] = slices.Clone(r.a)
		}
		ok = mgrAppendBool(ok, found)
		if found {
			ok = mgrAppendBytes(ok, v)
		}
	case mgrOpUpdate:
		for _, e := range r.entries {
			s.entries[e.key] = slices.Clone(e.value)
		}
	case mgrOpLock:
		l := s.locks[r.key]
		if l == nil {
			l = &mgrLock{}
			s.locks[r.key] = l
		}
		if l.holder != nil {
			l.waiters = append(l.waiters, w)
			return dst, true
		}
		l.holder = w.owner
		ok = binary.AppendUvarint(ok, uint64(l.deadPID))
		l.deadPID = 0
	case mgrOpUnlock:
		l := s.locks[r.key]
		if l == nil || l.holder != w.owner {
			return appendFailure(dst, fmt.Errorf("ipc: unlock %q: %w", r.key, ErrNotHeld)), false
		}
		l.holder = nil
		s.grantNext(r.key, l)
	}
	return ok, false
}

// grantNext gives the free lock name to its first waiter, if any, and
// drops the lock's record once nothing refers to it. s.mu is held.
func (s *mgrServer) grantNext(name string, l *mgrLock) {
	if len(l.waiters) > 0 {
		w := l.waiters[0]
		l.waiters = slices.Delete(l.waiters, 0, 1)
		l.holder = w.owner
		pid := l.deadPID
		l.deadPID = 0
		if w.grant != nil {
			w.grant <- pid
		} else {
			p := w.owner.peer
			p.parked[w.slot] = false
			s.reply(&p.ch.slots[w.slot], binary.AppendUvarint([]byte{mgrOK}, uint64(pid)))
		}
	}
	s.forget(name, l)
}

// forget drops the record of a lock nobody holds or waits for and that
// has no death to report. s.mu is held.
func (s *mgrServer) forget(name string, l *mgrLock) {
	if l.holder == nil && len(l.waiters) == 0 && l.deadPID == 0 {
		delete(s.locks, name)
	}
}

// remove takes w out of l's queue and reports whether it was there.
func (l *mgrLock) remove(w *mgrWaiter) bool {
	i := slices.Index(l.waiters, w)
	if i < 0 {
		return false
	}
	l.waiters = slices.Delete(l.waiters, i, i+1)
	return true
}

// reply writes a reply into a worker's slot and hands the slot back. A
// reply too large for the slot becomes an ErrTooLarge failure. s.mu is
// held.
func (s *mgrServer) reply(sl *mgrSlot, b []byte) {
	if len(b) > len(sl.buf) && b[0] == mgrOK {
		b = appendFailure(b[:0], fmt.Errorf("%w: map reply of %d bytes, the limit is %d (WithMapMaxMessage)", ErrTooLarge, len(b), len(sl.buf)))
	}
	if len(b) > len(sl.buf) {
		b = mgrShortenFailure(b, len(sl.buf))
	}
	copy(sl.buf, b)
	sl.n.Store(uint32(len(b)))
	mgrHandOver(sl.turn, false)
}

// export returns the Map's token, starting the serving loop on first use.
func (s *mgrServer) export(m any) (fdpass.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fdpass.Token{}, ErrClosed
	}
	if s.tok.ID != 0 {
		return s.tok, nil
	}
	hub, err := shm.New(mgrHubSize)
	if err != nil {
		return fdpass.Token{}, fmt.Errorf("ipc: share map: %w", err)
	}
	s.hub = hub
	s.bell = (*atomic.Uint32)(unsafe.Pointer(&hub.Bytes()[0]))
	s.loop = make(chan struct{})
	go s.serve()
	s.tok = fdpass.Export(m, s.provide)
	return s.tok, nil
}

// provide is the Map's fdpass.Provider: it makes peer's channel, and
// hands the worker the hub and the channel.
func (s *mgrServer) provide(fp *fdpass.Peer) ([]*os.File, func(), error) {
	ch, err := newMgrChan(s.slots, s.maxMsg)
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: map channel: %w", err)
	}
	p := &mgrPeer{owner: mgrOwner{pid: fp.PID()}, ch: ch, parked: make([]bool, len(ch.slots))}
	p.owner.peer = p
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ch.seg.Close()
		return nil, nil, ErrClosed
	}
	s.peers = append(s.peers, p)
	s.watchers.Add(1)
	go s.watch(p, fp.Done())
	s.sending.Add(1)
	sent := func() {
		ch.seg.Close() // the mapping stays; this process needs no descriptor once it is sent
		s.sending.Done()
	}
	return []*os.File{s.hub.File(), ch.seg.File()}, sent, nil
}

// watch drops p once its process is gone (its fdpass connection ended),
// releasing its locks, or returns when the Map closes.
func (s *mgrServer) watch(p *mgrPeer, done <-chan struct{}) {
	defer s.watchers.Done()
	select {
	case <-done:
		s.drop(p)
	case <-s.closing:
	}
}

// drop removes a dead worker: its parked requests are forgotten and the
// locks it held go to their next waiters, who learn that it died.
func (s *mgrServer) drop(p *mgrPeer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peers = slices.DeleteFunc(s.peers, func(q *mgrPeer) bool { return q == p })
	for name, l := range s.locks {
		l.waiters = slices.DeleteFunc(l.waiters, func(w *mgrWaiter) bool { return w.owner == &p.owner })
		if l.holder == &p.owner {
			l.holder = nil
			l.deadPID = p.owner.pid
			s.grantNext(name, l)
			continue
		}
		s.forget(name, l)
	}
}

// serve is the serving loop: it answers every slot whose turn is the
// server's, then spins on the bell, then sleeps on it.
func (s *mgrServer) serve() {
	defer close(s.loop)
	for !s.stopping.Load() {
		seen := s.bell.Load() &^ mgrSleep
		if s.scan() {
			continue
		}
		rung := func() bool { return s.bell.Load()&^mgrSleep != seen || s.stopping.Load() }
		if mgrSpin(rung, mgrSpinServer) {
			continue
		}
		if s.bell.CompareAndSwap(seen, seen|mgrSleep) {
			mgrFutexWait(s.bell, seen|mgrSleep)
		}
	}
}

// scan answers the requests waiting in every worker's slots and reports
// whether there were any.
func (s *mgrServer) scan() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	worked := false
	for _, p := range s.peers {
		for i := range p.ch.slots {
			sl := &p.ch.slots[i]
			v := sl.turn.Load()
			if v&1 == 0 {
				continue
			}
			if p.parked[i] {
				if v&mgrCancel != 0 {
					s.cancel(p, i)
					worked = true
				}
				continue
			}
			s.answer(p, i)
			worked = true
		}
	}
	return worked
}

// answer runs the request in p's slot i.
func (s *mgrServer) answer(p *mgrPeer, i int) {
	sl := &p.ch.slots[i]
	n := int(sl.n.Load())
	if n > len(sl.buf) {
		s.reply(sl, appendFailure(s.out[:0], fmt.Errorf("%w: map request of %d bytes in a %d-byte slot", ErrCorrupt, n, len(sl.buf))))
		return
	}
	r, err := parseRequest(sl.buf[:n])
	if err != nil {
		s.reply(sl, appendFailure(s.out[:0], err))
		return
	}
	reply, parked := s.exec(r, &mgrWaiter{owner: &p.owner, slot: i}, s.out[:0])
	s.out = reply[:0]
	if parked {
		p.parked[i] = true
		return
	}
	s.reply(sl, reply)
}

// cancel withdraws the Lock request parked in p's slot i.
func (s *mgrServer) cancel(p *mgrPeer, i int) {
	for name, l := range s.locks {
		j := slices.IndexFunc(l.waiters, func(w *mgrWaiter) bool { return w.owner == &p.owner && w.slot == i })
		if j >= 0 {
			l.waiters = slices.Delete(l.waiters, j, j+1)
			s.forget(name, l)
			break
		}
	}
	p.parked[i] = false
	s.reply(&p.ch.slots[i], appendFailure(s.out[:0], errMgrCancelled))
}

// close ends the Map: local calls fail with ErrClosed from now on, the
// serving loop stops, every worker's slots are marked closed (a worker
// waiting for a reply or a lock gets ErrClosed; so does every later call)
// and the peers are forgotten.
func (s *mgrServer) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	loop := s.loop
	s.mu.Unlock()

	if loop != nil {
		s.stopping.Store(true)
		mgrRing(s.bell)
		<-loop
	}
	s.watchers.Wait()
	s.sending.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		for i := range p.ch.slots {
			w := p.ch.slots[i].turn
			for {
				v := w.Load()
				if w.CompareAndSwap(v, v|mgrClosed) {
					break
				}
			}
			mgrFutexWake(w, 1<<30)
		}
	}
	s.peers = nil
	s.entries = nil
	s.locks = nil
	if s.tok.ID == 0 {
		return nil
	}
	fdpass.Unexport(s.tok)
	return s.hub.Close()
}

// mgrShortenFailure cuts the message of failure reply b (status, code,
// message) so that the reply fits limit bytes (at least 64): the code,
// which the worker's error matches on, survives.
func mgrShortenFailure(b []byte, limit int) []byte {
	r, err := parseReply(mgrOpSet, b)
	if err != nil || !r.failed {
		return appendFailure(nil, fmt.Errorf("%w: map reply too large", ErrTooLarge))
	}
	msg := r.msg[:min(len(r.msg), limit-8)]
	out := append(make([]byte, 0, limit), mgrFailed, r.code)
	return mgrAppendBytes(out, []byte(msg))
}

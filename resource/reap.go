package resource

import "time"

// reap is the pool's sweeper, started by New when an idle timeout or a
// maximum lifetime is set: it retires idle resources as they expire. It
// sleeps until the earliest expiry among idle resources (Release wakes it
// early for an earlier one) and stops when Close ends the pool's life.
func (p *Pool[T]) reap() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer func() {
		timer.Stop()
		p.mu.Lock()
		p.running--
		p.checkDone()
		p.mu.Unlock()
	}()
	for {
		select {
		case <-p.life.Done():
			return
		case <-timer.C:
		case <-p.kick:
		}
		if next := p.sweep(); next == 0 {
			timer.Stop()
		} else {
			timer.Reset(time.Duration(next - p.clock()))
		}
	}
}

// sweep retires the expired idle resources and returns when the next one
// will expire on the pool's clock (0 if none can).
func (p *Pool[T]) sweep() int64 {
	now := p.clock()
	p.mu.Lock()
	idle := p.idleCount()
	for slot := range p.slots {
		e := p.slots[slot].Load()
		if e == nil || !p.isIdle(slot) {
			continue
		}
		f := keep
		switch {
		case p.cfg.maxLifetime > 0 && now-e.born >= int64(p.cfg.maxLifetime):
			f = lifetimeExpired
		case p.cfg.idleTimeout > 0 && now-e.idle.Load() >= int64(p.cfg.idleTimeout) && idle > p.cfg.minIdle:
			f = idleExpired
		}
		if f != keep && p.claim(e) { // a borrower may have claimed it first
			p.doom(e, f)
			idle--
		}
	}
	var next int64
	for slot := range p.slots {
		if e := p.slots[slot].Load(); e != nil && p.isIdle(slot) {
			next = earlier(next, p.deadline(e, idle))
		}
	}
	p.reapAt.Store(next)
	p.unlockAndRetire()
	return next
}

// scheduleReap wakes the reaper early if deadline comes before its next
// wake-up.
func (p *Pool[T]) scheduleReap(deadline int64) {
	for {
		at := p.reapAt.Load()
		if at != 0 && at <= deadline {
			return
		}
		if p.reapAt.CompareAndSwap(at, deadline) {
			break
		}
	}
	select {
	case p.kick <- struct{}{}:
	default: // a kick is already pending
	}
}

// deadline returns when idle resource e expires on the pool's clock, or 0
// if it cannot while idle is the number of idle resources: the idle timeout
// spares the last minIdle of them.
func (p *Pool[T]) deadline(e *entry[T], idle int) int64 {
	var d int64
	if p.cfg.maxLifetime > 0 {
		d = e.born + int64(p.cfg.maxLifetime)
	}
	if p.cfg.idleTimeout > 0 && idle > p.cfg.minIdle {
		d = earlier(d, e.idle.Load()+int64(p.cfg.idleTimeout))
	}
	return d
}

// earlier returns the earlier of two times on the pool's clock, where 0
// means never.
func earlier(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

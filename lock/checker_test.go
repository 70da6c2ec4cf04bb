package lock

import (
	"bytes"
	"context"
	"errors"
	"log"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// recorder collects a checker's reports.
type recorder struct {
	mu      sync.Mutex
	reports []Report
}

func (r *recorder) add(rep Report) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, rep)
}

func (r *recorder) all() []Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Report(nil), r.reports...)
}

func newRecorded(t *testing.T) (*Checker, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := NewChecker(WithReport(rec.add))
	if err != nil {
		t.Fatal(err)
	}
	return c, rec
}

// nest locks outer then inner, and releases both.
func nest(t *testing.T, outer, inner *Mutex) {
	t.Helper()
	if err := outer.Lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := inner.Lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	inner.Unlock()
	outer.Unlock()
}

// TestCheckerCatchesOppositeOrdersThatDidNotDeadlock is the acceptance test:
// one goroutine takes A then B, a later one B then A. They never overlap,
// so nothing hangs, but the order cycle is reported with both stacks.
func TestCheckerCatchesOppositeOrdersThatDidNotDeadlock(t *testing.T) {
	c, rec := newRecorded(t)
	a := NewMutex(WithChecker(c), WithName("A"))
	b := NewMutex(WithChecker(c), WithName("B"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		nest(t, a, b)
	}()
	<-done
	nest(t, b, a)

	reps := rec.all()
	if len(reps) != 1 {
		t.Fatalf("got %d reports, want 1: %v", len(reps), reps)
	}
	cyc := reps[0].Cycle
	if len(cyc) != 2 || cyc[0].From != "B" || cyc[0].To != "A" || cyc[1].From != "A" || cyc[1].To != "B" {
		t.Fatalf("cycle = %+v, want B->A then A->B", cyc)
	}
	for _, e := range cyc {
		if len(e.Stack) == 0 || !strings.HasSuffix(e.Stack[0].Function, ".nest") {
			t.Fatalf("edge %s->%s stack starts at %v, want the caller's nest", e.From, e.To, e.Stack)
		}
	}
	if got := c.Reports(); len(got) != 1 {
		t.Fatalf("Reports() has %d, want 1", len(got))
	}
	s := reps[0].String()
	for _, want := range []string{"potential deadlock", "B -> A -> B", "A -> B first taken at:", "checker_test.go"} {
		if !strings.Contains(s, want) {
			t.Errorf("report text lacks %q:\n%s", want, s)
		}
	}
}

func TestCheckerFindsLongerCycles(t *testing.T) {
	c, rec := newRecorded(t)
	a := NewMutex(WithChecker(c), WithName("A"))
	b := NewMutex(WithChecker(c), WithName("B"))
	d := NewMutex(WithChecker(c), WithName("C"))
	nest(t, a, b)
	nest(t, b, d)
	if n := len(rec.all()); n != 0 {
		t.Fatalf("reported %d before the cycle closed", n)
	}
	nest(t, d, a)
	reps := rec.all()
	if len(reps) != 1 || len(reps[0].Cycle) != 3 {
		t.Fatalf("reports = %v, want one cycle of 3", reps)
	}
	if got := reps[0].Cycle; got[0].From != "C" || got[1].From != "A" || got[2].From != "B" {
		t.Fatalf("cycle = %+v, want C->A->B->C", got)
	}
}

func TestCheckerIsQuietForAConsistentOrder(t *testing.T) {
	c := newTestChecker(t) // any report fails the test
	a, b, d := NewMutex(WithChecker(c)), NewMutex(WithChecker(c)), NewMutex(WithChecker(c))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				nest(t, a, b)
				nest(t, b, d)
				nest(t, a, d)
			}
		})
	}
	wg.Wait()
}

// newClassMember stands for a constructor: every mutex it makes has one
// class, its NewMutex line.
func newClassMember(c *Checker) *Mutex { return NewMutex(WithChecker(c)) }

func newOtherClassMember(c *Checker) *Mutex { return NewMutex(WithChecker(c)) }

func TestCheckerLearnsPerClassAcrossInstances(t *testing.T) {
	c, rec := newRecorded(t)
	x1, y1 := newClassMember(c), newOtherClassMember(c)
	x2, y2 := newClassMember(c), newOtherClassMember(c)
	nest(t, x1, y1)
	nest(t, y2, x2) // different locks, same classes in the other order
	reps := rec.all()
	if len(reps) != 1 {
		t.Fatalf("got %d reports, want 1", len(reps))
	}
	if from := reps[0].Cycle[0].From; !strings.HasPrefix(from, "checker_test.go:") {
		t.Fatalf("class name %q, want the creation site", from)
	}
}

func TestCheckerComparesSameClassLocksOneByOne(t *testing.T) {
	c, rec := newRecorded(t)
	m := make([]*Mutex, 3)
	for i := range m {
		m[i] = newClassMember(c)
	}
	nest(t, m[0], m[1])
	nest(t, m[1], m[2])
	nest(t, m[0], m[2])
	if n := len(rec.all()); n != 0 {
		t.Fatalf("consistent same-class nesting reported %d times", n)
	}
	nest(t, m[2], m[0])
	if n := len(rec.all()); n != 1 {
		t.Fatalf("inverted same-class nesting reported %d times, want 1", n)
	}
}

func TestCheckerAllAddsNoEdgesAmongItsMembers(t *testing.T) {
	c := newTestChecker(t)
	a, b := NewMutex(WithChecker(c)), NewMutex(WithChecker(c))
	for _, pair := range [][]*Mutex{{a, b}, {b, a}} {
		held, err := All(t.Context(), pair...)
		if err != nil {
			t.Fatal(err)
		}
		held.Unlock()
	}
}

func TestCheckerSeesEdgesIntoAndOutOfAll(t *testing.T) {
	c, rec := newRecorded(t)
	outer := NewMutex(WithChecker(c), WithName("outer"))
	a := NewMutex(WithChecker(c), WithName("a"))
	b := NewMutex(WithChecker(c), WithName("b"))
	_ = outer.Lock(t.Context())
	held, err := All(t.Context(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	held.Unlock()
	outer.Unlock()
	nest(t, b, outer)
	reps := rec.all()
	if len(reps) != 1 || reps[0].Cycle[0].From != "b" || reps[0].Cycle[0].To != "outer" {
		t.Fatalf("reports = %v, want b -> outer closing a cycle", reps)
	}
}

func TestCheckerReportsRelockBySameGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, rec := newRecorded(t)
		m := NewMutex(WithChecker(c), WithName("m"))
		_ = m.Lock(t.Context())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := m.Lock(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("relock = %v, want DeadlineExceeded", err)
		}
		m.Unlock()
		reps := rec.all()
		if len(reps) != 1 || len(reps[0].Cycle) != 1 || reps[0].Cycle[0].From != "m #1" || reps[0].Cycle[0].To != "m #1" {
			t.Fatalf("reports = %v, want the self cycle m -> m", reps)
		}
	})
}

func TestCheckerTryLockHoldsButAddsNoEdge(t *testing.T) {
	c, rec := newRecorded(t)
	a := NewMutex(WithChecker(c), WithName("a"))
	b := NewMutex(WithChecker(c), WithName("b"))
	_ = a.Lock(t.Context())
	if !b.TryLock() { // cannot block, so no edge a -> b
		t.Fatal("TryLock failed")
	}
	b.Unlock()
	a.Unlock()
	nest(t, b, a) // b is held when a is locked: edge b -> a, no cycle
	if n := len(rec.all()); n != 0 {
		t.Fatalf("got %d reports, want 0", n)
	}
	if !b.TryLock() {
		t.Fatal("TryLock failed")
	}
	_ = a.Lock(t.Context()) // held b from TryLock counts: edge known, no report
	a.Unlock()
	b.Unlock()
}

func TestCheckerCreditsUnlockToTheLockingGoroutine(t *testing.T) {
	c := newTestChecker(t)
	a, b := NewMutex(WithChecker(c)), NewMutex(WithChecker(c))
	_ = a.Lock(t.Context())
	done := make(chan struct{})
	go func() {
		a.Unlock() // released on behalf of the test goroutine
		close(done)
	}()
	<-done
	nest(t, b, a) // a is no longer held here, so there is no edge a -> b
}

func TestCheckerDefaultReportLogs(t *testing.T) {
	var buf bytes.Buffer
	prev, flags := log.Writer(), log.Flags()
	log.SetOutput(&buf)
	log.SetFlags(0)
	defer func() {
		log.SetOutput(prev)
		log.SetFlags(flags)
	}()
	c, err := NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	a := NewMutex(WithChecker(c), WithName("A"))
	b := NewMutex(WithChecker(c), WithName("B"))
	nest(t, a, b)
	nest(t, b, a)
	if !strings.Contains(buf.String(), "lock: potential deadlock: lock order cycle B -> A -> B") {
		t.Fatalf("log = %q", buf.String())
	}
}

func TestNewCheckerRejectsNilReport(t *testing.T) {
	if _, err := NewChecker(WithReport(nil)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("NewChecker(WithReport(nil)) = %v, want ErrInvalid", err)
	}
}

func TestCheckerWatchesReentrantLocks(t *testing.T) {
	c, rec := newRecorded(t)
	r := NewReentrant(WithChecker(c), WithName("r"))
	m := NewMutex(WithChecker(c), WithName("m"))
	ctx, err := r.Lock(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	inner, err := r.Lock(ctx) // re-entry is not a relock
	if err != nil {
		t.Fatal(err)
	}
	_ = m.Lock(inner)
	m.Unlock()
	_ = r.Unlock(inner)
	_ = r.Unlock(ctx)
	_ = m.Lock(t.Context())
	ctx, _ = r.Lock(t.Context())
	_ = r.Unlock(ctx)
	m.Unlock()
	reps := rec.all()
	if len(reps) != 1 || reps[0].Cycle[0].From != "m" || reps[0].Cycle[0].To != "r" {
		t.Fatalf("reports = %v, want m -> r closing a cycle", reps)
	}
}

func TestWithCheckerNilLeavesLockUnchecked(t *testing.T) {
	m := NewMutex(WithChecker(nil))
	if m.check.Load() != nil || m.state.Load()&mutexChecked != 0 {
		t.Fatal("WithChecker(nil) attached a checker")
	}
}

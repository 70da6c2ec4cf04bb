package lock

import (
	"fmt"
	"log"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Checker finds potential deadlocks from the order in which locks are
// taken, as Linux's lockdep does for the kernel. Whenever a goroutine takes
// lock B while it holds lock A, the checker records the order edge A→B;
// when a new edge closes a cycle (A→B after B→A, or A→B→C→A), it reports
// the cycle with the stack that created each edge. A program that takes two
// locks in both orders is reported the first time it does so, even if the
// goroutines involved never actually met and nothing hung.
//
// Edges join lock classes, not single locks: a class is the place a lock
// was created (or the name given with [WithName]), so that the thousand
// locks made by one constructor share what is learned about any of them.
// Two locks of the same class taken one inside the other are compared as
// individual locks instead. A stack is captured only when an edge is new,
// which keeps a checked lock within a small factor of an unchecked one.
//
// Locks taken together by [All] are ordered by All itself and add no edges
// among themselves; edges from locks already held to each of them, and from
// them to locks taken later, are recorded as usual. A goroutine that locks a
// [Mutex] it already holds is reported at once (it would wait forever).
//
// A Checker watches the locks given it with [WithChecker], or every lock in
// a program built with -tags skeinlockcheck ([DefaultChecker]). It never
// stops the program: reports go to the callback set with [WithReport], by
// default the standard logger. Semaphores are not watched.
//
// A goroutine may unlock a mutex locked by another one; the checker then
// credits the release to the goroutine that locked it. The checker keeps a
// small record for each goroutine that takes a watched lock; the runtime
// reuses the slots of finished goroutines, so the records grow with the
// peak number of goroutines, not with the total ever started.
type Checker struct {
	report func(Report)

	goroutines sync.Map                  // goroutine id (uint64) → *held; entries are never removed
	recent     [256]atomic.Pointer[held] // direct-mapped cache in front of goroutines

	mu      sync.Mutex        // guards the fields below and every edge insertion
	byPC    map[uintptr]*node // classes by creation site
	byName  map[string]*node  // classes named with WithName
	reports []Report
	locks   int // locks created, to number them in reports
}

// CheckerOption configures a [Checker].
type CheckerOption func(*checkerConfig)

type checkerConfig struct {
	report    func(Report)
	reportSet bool
}

// WithReport sets the function that receives each report. It runs on the
// goroutine that took the lock closing the cycle, while that goroutine
// holds its other locks, so it must not take locks this checker watches.
// The default logs the report with the standard logger. A nil f is an error.
func WithReport(f func(Report)) CheckerOption {
	return func(cfg *checkerConfig) {
		cfg.report = f
		cfg.reportSet = true
	}
}

// NewChecker returns a checker configured by opts. It returns an error
// wrapping [ErrInvalid] for a nil report function.
func NewChecker(opts ...CheckerOption) (*Checker, error) {
	cfg := checkerConfig{report: logReport}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.reportSet && cfg.report == nil {
		return nil, fmt.Errorf("lock: new checker: nil report function: %w", ErrInvalid)
	}
	return &Checker{
		report: cfg.report,
		byPC:   map[uintptr]*node{},
		byName: map[string]*node{},
	}, nil
}

// DefaultChecker returns the checker that watches every lock not given one
// with [WithChecker] when the program is built with -tags skeinlockcheck,
// and nil otherwise.
func DefaultChecker() *Checker { return defaultChecker }

// Reports returns every report made so far, oldest first.
func (c *Checker) Reports() []Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Report(nil), c.reports...)
}

// Report describes one potential deadlock: a cycle of order edges.
type Report struct {
	// Cycle lists the edges of the cycle. Cycle[0] is the edge whose first
	// use closed the cycle; each following edge starts where the previous
	// one ends, and the last ends where Cycle[0] starts. A lock taken again
	// by the goroutine holding it is a cycle of one edge from it to itself.
	Cycle []Edge
}

// Edge is one order edge: a goroutine took To while it held From.
type Edge struct {
	From, To string          // lock class names
	Stack    []runtime.Frame // where To was first taken while From was held
}

// String formats the report over several lines: the cycle, then each
// edge's stack.
func (r Report) String() string {
	var b strings.Builder
	b.WriteString("lock: potential deadlock: lock order cycle ")
	for _, e := range r.Cycle {
		fmt.Fprintf(&b, "%s -> ", e.From)
	}
	if len(r.Cycle) > 0 {
		b.WriteString(r.Cycle[0].From)
	}
	for _, e := range r.Cycle {
		fmt.Fprintf(&b, "\n  %s -> %s first taken at:", e.From, e.To)
		for _, f := range e.Stack {
			fmt.Fprintf(&b, "\n    %s\n        %s:%d", f.Function, f.File, f.Line)
		}
	}
	return b.String()
}

// logReport is the default report function.
func logReport(r Report) { log.Print(r.String()) }

// node is a vertex of the order graph: a lock class, or a single lock.
type node struct {
	name string
	out  atomic.Pointer[[]*edge] // edges from this node; copied on write under Checker.mu
}

// edge is an order edge and the stack that first created it.
type edge struct {
	from, to *node
	stack    []uintptr
}

// has reports whether the edge n→to is known, without locking.
func (n *node) has(to *node) bool {
	if out := n.out.Load(); out != nil {
		for _, e := range *out {
			if e.to == to {
				return true
			}
		}
	}
	return false
}

// track is a checked lock's bookkeeping.
type track struct {
	checker *Checker
	class   *node                // shared by the locks of one class
	inst    *node                // this lock alone, for same-class nesting
	holder  atomic.Pointer[held] // last goroutine to take the lock; see held
}

// held is the stack of checked locks one goroutine holds. Only that
// goroutine reads or changes locks, so no lock is needed on the hot path.
// When another goroutine unlocks one of them, it only clears the lock's
// holder; the owner drops such entries the next time it looks.
type held struct {
	checker *Checker
	g       uint64   // the goroutine
	locks   []*track // owned by goroutine g
	race    raceGuard
}

// prune drops the locks another goroutine released; the owner calls it.
func (h *held) prune() {
	kept := h.locks[:0]
	for _, t := range h.locks {
		if t.holder.Load() == h {
			kept = append(kept, t)
		}
	}
	clear(h.locks[len(kept):])
	h.locks = kept
}

// newTrack makes the bookkeeping for a new lock; pc is its creation site (0
// when unknown) and name its class name ("" for the default).
func (c *Checker) newTrack(name string, pc uintptr) *track {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &track{checker: c}
	switch {
	case name != "":
		t.class = c.byName[name]
		if t.class == nil {
			t.class = &node{name: name}
			c.byName[name] = t.class
		}
	case pc != 0:
		t.class = c.byPC[pc]
		if t.class == nil {
			t.class = &node{name: siteName(pc)}
			c.byPC[pc] = t.class
		}
	}
	if t.class == nil {
		// A zero-value Mutex has no creation site: it is its own class,
		// named after the first place it was used.
		t.inst = &node{name: "mutex first locked at " + firstOutsideSite()}
		t.class = t.inst
		return t
	}
	c.locks++
	t.inst = &node{name: fmt.Sprintf("%s #%d", t.class.name, c.locks)}
	return t
}

// goroutine returns the held-lock stack of goroutine g. A small cache
// indexed by a hash of g answers most calls with one load; the map holds
// every goroutine seen.
func (c *Checker) goroutine(g uint64) *held {
	slot := &c.recent[(g*0x9E3779B97F4A7C15)>>56]
	if h := slot.Load(); h != nil && h.g == g {
		return h
	}
	v, ok := c.goroutines.Load(g)
	if !ok {
		v, _ = c.goroutines.LoadOrStore(g, &held{checker: c, g: g})
	}
	h := v.(*held)
	slot.Store(h)
	return h
}

// before checks the edges from the locks that h's goroutine holds to each
// of targets, which it is about to take.
func (c *Checker) before(h *held, targets ...*track) {
	h.race.lock()
	defer h.race.unlock()
	h.prune()
	var stack []uintptr
	for _, from := range h.locks {
		for _, to := range targets {
			a, b := from.class, to.class
			if a == b {
				a, b = from.inst, to.inst
			}
			if a != b && a.has(b) {
				continue
			}
			if stack == nil {
				stack = callers()
			}
			c.addEdge(a, b, stack)
		}
	}
}

// acquired records that the goroutine owning h now holds t.
func (c *Checker) acquired(h *held, t *track) {
	h.race.lock()
	defer h.race.unlock()
	h.prune()
	h.locks = append(h.locks, t)
	t.holder.Store(h)
}

// released records that t is no longer held; g is the releasing goroutine.
func (c *Checker) released(t *track, g uint64) {
	h := t.holder.Load()
	if h == nil {
		return
	}
	if h.g != g {
		// Released for another goroutine: it drops t from its stack later.
		t.holder.CompareAndSwap(h, nil)
		return
	}
	h.race.lock()
	defer h.race.unlock()
	for i := len(h.locks) - 1; i >= 0; i-- {
		if h.locks[i] == t {
			h.locks = slices.Delete(h.locks, i, i+1)
			break
		}
	}
}

// addEdge records from→to, created at stack, and reports the cycle it
// closes, if any. A self-edge (a lock taken by its holder) is always
// reported.
func (c *Checker) addEdge(from, to *node, stack []uintptr) {
	c.mu.Lock()
	if from != to && from.has(to) {
		c.mu.Unlock()
		return
	}
	e := &edge{from: from, to: to, stack: stack}
	var cycle []*edge
	if from == to {
		cycle = []*edge{e}
	} else if path := c.path(to, from); path != nil {
		cycle = append([]*edge{e}, path...)
		c.insert(e)
	} else {
		c.insert(e)
	}
	if cycle == nil {
		c.mu.Unlock()
		return
	}
	r := newReport(cycle)
	c.reports = append(c.reports, r)
	c.mu.Unlock()
	c.report(r)
}

// insert publishes e among its source's edges; c.mu must be held.
func (c *Checker) insert(e *edge) {
	var out []*edge
	if old := e.from.out.Load(); old != nil {
		out = append(out, *old...)
	}
	out = append(out, e)
	e.from.out.Store(&out)
}

// path returns the edges of a path from src to dst, or nil if there is
// none; c.mu must be held. It is a depth-first search, run only when an
// edge is new.
func (c *Checker) path(src, dst *node) []*edge {
	seen := map[*node]bool{src: true}
	var walk func(n *node) []*edge
	walk = func(n *node) []*edge {
		out := n.out.Load()
		if out == nil {
			return nil
		}
		for _, e := range *out {
			if e.to == dst {
				return []*edge{e}
			}
			if seen[e.to] {
				continue
			}
			seen[e.to] = true
			if rest := walk(e.to); rest != nil {
				return append([]*edge{e}, rest...)
			}
		}
		return nil
	}
	return walk(src)
}

// newReport turns a cycle of edges into a Report with symbolised stacks.
func newReport(cycle []*edge) Report {
	r := Report{Cycle: make([]Edge, len(cycle))}
	for i, e := range cycle {
		r.Cycle[i] = Edge{From: e.from.name, To: e.to.name, Stack: frames(e.stack)}
	}
	return r
}

// callers captures the stack of the goroutine taking a lock.
func callers() []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(2, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// frames symbolises pcs, dropping the leading frames inside this package so
// that a stack starts at the caller's Lock.
func frames(pcs []uintptr) []runtime.Frame {
	var out []runtime.Frame
	it := runtime.CallersFrames(pcs)
	for {
		f, more := it.Next()
		if len(out) > 0 || !internalFrame(f) {
			out = append(out, f)
		}
		if !more {
			return out
		}
	}
}

// internalFrame reports whether f is code of this package (not its tests).
func internalFrame(f runtime.Frame) bool {
	return strings.HasPrefix(f.Function, pkgPrefix) && !strings.HasSuffix(f.File, "_test.go")
}

// pkgPrefix starts the names of this package's functions.
var pkgPrefix = reflect.TypeFor[Mutex]().PkgPath() + "."

// siteName names a creation site "file.go:line".
func siteName(pc uintptr) string {
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
}

// firstOutsideSite names the innermost caller outside this package.
func firstOutsideSite() string {
	for _, f := range frames(callers()) {
		return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
	}
	return "unknown site"
}

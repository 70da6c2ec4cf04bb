package wire

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// Hello is a worker's first frame: who it is and which functions its
// binary registered. The parent refuses a worker whose Version, Build or
// Funcs differ from its own.
type Hello struct {
	Version uint64
	Pid     int
	Build   string   // identity of the worker's executable
	Funcs   []string // registered functions, "name(in) out", sorted
}

// Setup is the parent's answer to Hello: how the worker must behave.
type Setup struct {
	Init      string // registered function to run once before any task; "" for none
	InitArg   []byte // its encoded argument
	Grace     int64  // nanoseconds a timed out or cancelled task may run on before the worker ends itself; 0 ends it at once
	ReportRSS bool   // include the worker's resident set size in results
	MaxFrame  int    // the parent's frame limit, which the worker's frames must respect
}

// Ready is the worker's answer to Setup: the initializer's outcome
// (StatusOK when there is none). A worker sends no Result before Ready.
type Ready struct {
	Outcome Outcome
}

// Task asks a worker to call a registered function on Count arguments, in
// order. A Task of one argument is a submitted task; more make a chunk.
type Task struct {
	ID       uint64
	Func     string // registered name
	Deadline int64  // Unix nanoseconds after which every item is cancelled; 0 for none
	Timeout  int64  // nanoseconds each item may run; 0 for no limit
	Progress bool   // the submitter watches progress: send Progress frames for it
	Count    int
	Data     []byte // Count items, each written with BeginItem/EndItem
}

// Cancel asks a worker to cancel a task: its running item's context is
// cancelled and items not started yet are reported StatusCancelled.
type Cancel struct {
	ID uint64
}

// Progress carries counts a running task reported through its context
// (progress.FromContext) since the last Progress for it: increments, added
// to the submitter's Reporter. A worker sends them only for a Task with
// Progress set, and sends the last one before the task's final Result.
type Progress struct {
	ID     uint64
	Total  int64 // added to the number of items expected
	Done   int64 // items finished
	Failed int64 // items failed
}

// Kind implements Message.
func (*Progress) Kind() Kind { return KindProgress }

// AppendPayload implements Message.
func (m *Progress) AppendPayload(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.ID)
	dst = binary.AppendVarint(dst, m.Total)
	dst = binary.AppendVarint(dst, m.Done)
	return binary.AppendVarint(dst, m.Failed)
}

// ParsePayload implements Message.
func (m *Progress) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.ID = r.uvarint()
	m.Total = r.varint()
	m.Done = r.varint()
	m.Failed = r.varint()
	return r.done(KindProgress)
}

// Result carries the outcomes of items First..First+Count-1 of a task. A
// worker sends a task's outcomes in item order, in one or more Results;
// the last has Final set.
type Result struct {
	ID      uint64
	First   int
	Final   bool   // no more Results for this task
	Exiting bool   // the worker ends itself after this frame (a task would not stop)
	RSS     uint64 // resident set size in bytes when Setup.ReportRSS, else 0
	Count   int
	Data    []byte // Count outcomes, each written with AppendOutcome
}

// Status is how an item ended.
type Status uint8

// The statuses of an Outcome.
const (
	StatusOK        Status = iota + 1 // Value holds the encoded result
	StatusError                       // the function returned an error; Msg is its text
	StatusPanic                       // the function panicked; Msg is the value, Stack the goroutine's stack
	StatusTimeout                     // the item ran past Task.Timeout
	StatusCancelled                   // the task was cancelled or its deadline passed before the item finished
	StatusInvalid                     // the item could not run: Msg says why (undecodable argument, unknown function, result too large)
	statusEnd
)

// String returns the status's name.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusError:
		return "error"
	case StatusPanic:
		return "panic"
	case StatusTimeout:
		return "timeout"
	case StatusCancelled:
		return "cancelled"
	case StatusInvalid:
		return "invalid"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// Outcome is how one item ended.
type Outcome struct {
	Status Status
	Value  []byte // StatusOK only
	Msg    string
	Stack  []byte // StatusPanic only
}

// Kind implements Message.
func (*Hello) Kind() Kind { return KindHello }

// AppendPayload implements Message.
func (m *Hello) AppendPayload(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.Version)
	dst = binary.AppendUvarint(dst, uint64(m.Pid))
	dst = appendString(dst, m.Build)
	dst = binary.AppendUvarint(dst, uint64(len(m.Funcs)))
	for _, f := range m.Funcs {
		dst = appendString(dst, f)
	}
	return dst
}

// ParsePayload implements Message.
func (m *Hello) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.Version = r.uvarint()
	m.Pid = r.int()
	m.Build = r.string()
	n := r.count(1)
	m.Funcs = make([]string, 0, n)
	for range n {
		m.Funcs = append(m.Funcs, r.string())
	}
	return r.done(KindHello)
}

// Kind implements Message.
func (*Setup) Kind() Kind { return KindSetup }

// AppendPayload implements Message.
func (m *Setup) AppendPayload(dst []byte) []byte {
	dst = appendString(dst, m.Init)
	dst = appendBytes(dst, m.InitArg)
	dst = binary.AppendUvarint(dst, uint64(m.Grace))
	dst = appendBool(dst, m.ReportRSS)
	return binary.AppendUvarint(dst, uint64(m.MaxFrame))
}

// ParsePayload implements Message.
func (m *Setup) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.Init = r.string()
	m.InitArg = r.bytes()
	m.Grace = r.int64()
	m.ReportRSS = r.bool()
	m.MaxFrame = r.int()
	return r.done(KindSetup)
}

// Kind implements Message.
func (*Ready) Kind() Kind { return KindReady }

// AppendPayload implements Message.
func (m *Ready) AppendPayload(dst []byte) []byte { return AppendOutcome(dst, &m.Outcome) }

// ParsePayload implements Message.
func (m *Ready) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.Outcome = r.outcome()
	return r.done(KindReady)
}

// Kind implements Message.
func (*Task) Kind() Kind { return KindTask }

// AppendPayload implements Message.
func (m *Task) AppendPayload(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.ID)
	dst = appendString(dst, m.Func)
	dst = binary.AppendVarint(dst, m.Deadline)
	dst = binary.AppendUvarint(dst, uint64(m.Timeout))
	dst = appendBool(dst, m.Progress)
	dst = binary.AppendUvarint(dst, uint64(m.Count))
	return append(dst, m.Data...)
}

// ParsePayload implements Message.
func (m *Task) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.ID = r.uvarint()
	m.Func = r.string()
	m.Deadline = r.varint()
	m.Timeout = r.int64()
	m.Progress = r.bool()
	m.Count = r.count(4)
	m.Data = r.rest()
	if r.err == nil {
		r.err = checkItems(m.Data, m.Count)
	}
	return r.done(KindTask)
}

// Items yields the task's encoded arguments with their index.
func (m *Task) Items() iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		b := m.Data
		for i := range m.Count {
			n := int(binary.BigEndian.Uint32(b))
			if !yield(i, b[4:4+n]) {
				return
			}
			b = b[4+n:]
		}
	}
}

// Kind implements Message.
func (*Cancel) Kind() Kind { return KindCancel }

// AppendPayload implements Message.
func (m *Cancel) AppendPayload(dst []byte) []byte { return binary.AppendUvarint(dst, m.ID) }

// ParsePayload implements Message.
func (m *Cancel) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.ID = r.uvarint()
	return r.done(KindCancel)
}

// Kind implements Message.
func (*Result) Kind() Kind { return KindResult }

// AppendPayload implements Message.
func (m *Result) AppendPayload(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, m.ID)
	dst = binary.AppendUvarint(dst, uint64(m.First))
	dst = appendBool(dst, m.Final)
	dst = appendBool(dst, m.Exiting)
	dst = binary.AppendUvarint(dst, m.RSS)
	dst = binary.AppendUvarint(dst, uint64(m.Count))
	return append(dst, m.Data...)
}

// ParsePayload implements Message.
func (m *Result) ParsePayload(b []byte) error {
	r := reader{b: b}
	m.ID = r.uvarint()
	m.First = r.int()
	m.Final = r.bool()
	m.Exiting = r.bool()
	m.RSS = r.uvarint()
	m.Count = r.count(1)
	m.Data = r.rest()
	if r.err == nil {
		r.err = checkOutcomes(m.Data, m.Count)
	}
	return r.done(KindResult)
}

// Outcomes yields the result's outcomes with their item index (First
// onwards). Value and Stack alias the payload.
func (m *Result) Outcomes() iter.Seq2[int, Outcome] {
	return func(yield func(int, Outcome) bool) {
		r := reader{b: m.Data}
		for i := range m.Count {
			if !yield(m.First+i, r.outcome()) {
				return
			}
		}
	}
}

// BeginItem starts an item (a task argument or an outcome's value) at the
// end of dst: it reserves the length prefix and returns where it is, for
// EndItem. The item's bytes are appended in between.
func BeginItem(dst []byte) ([]byte, int) {
	return append(dst, 0, 0, 0, 0), len(dst)
}

// EndItem closes the item begun at mark.
func EndItem(dst []byte, mark int) []byte {
	binary.BigEndian.PutUint32(dst[mark:], uint32(len(dst)-mark-4))
	return dst
}

// SkipItems returns data without its first n items; data must hold at
// least n valid items (as in a parsed Task, or as written by the caller).
func SkipItems(data []byte, n int) []byte {
	for range n {
		data = data[4+int(binary.BigEndian.Uint32(data)):]
	}
	return data
}

// AppendOutcome appends o to dst, as Result.Data and Ready carry it.
func AppendOutcome(dst []byte, o *Outcome) []byte {
	dst = append(dst, byte(o.Status))
	if o.Status == StatusOK {
		dst, mark := BeginItem(dst)
		dst = append(dst, o.Value...)
		return EndItem(dst, mark)
	}
	dst = appendString(dst, o.Msg)
	return appendBytes(dst, o.Stack)
}

func checkItems(b []byte, count int) error {
	for i := range count {
		if len(b) < 4 {
			return fmt.Errorf("%w: item %d truncated", ErrCorrupt, i)
		}
		n := uint64(binary.BigEndian.Uint32(b))
		if n > uint64(len(b)-4) {
			return fmt.Errorf("%w: item %d of %d bytes, %d left", ErrCorrupt, i, n, len(b)-4)
		}
		b = b[4+n:]
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d bytes after the last item", ErrCorrupt, len(b))
	}
	return nil
}

func checkOutcomes(b []byte, count int) error {
	r := reader{b: b}
	for range count {
		r.outcome()
	}
	return r.done(KindResult)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// reader parses a payload; the first error sticks and later reads return
// zero values, so parsers read straight through and check once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	r.off = len(r.b)
}

func (r *reader) uvarint() uint64 {
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad uvarint at %d", r.off)
		return 0
	}
	r.off += n
	return x
}

func (r *reader) varint() int64 {
	x, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint at %d", r.off)
		return 0
	}
	r.off += n
	return x
}

// int64 reads a uvarint that must fit a non-negative int64.
func (r *reader) int64() int64 {
	x := r.uvarint()
	if x > 1<<63-1 {
		r.fail("value %d out of range", x)
		return 0
	}
	return int64(x)
}

// int reads a uvarint that must fit a non-negative int32 (counts, pids,
// sizes: anything larger is corruption).
func (r *reader) int() int {
	x := r.uvarint()
	if x > 1<<31-1 {
		r.fail("value %d out of range", x)
		return 0
	}
	return int(x)
}

// count reads a number of elements that take at least min bytes each.
func (r *reader) count(min int) int {
	n := r.int()
	if n > (len(r.b)-r.off)/min {
		r.fail("count %d exceeds the %d bytes left", n, len(r.b)-r.off)
		return 0
	}
	return n
}

func (r *reader) bool() bool {
	if r.off >= len(r.b) {
		r.fail("truncated")
		return false
	}
	b := r.b[r.off]
	r.off++
	if b > 1 {
		r.fail("bool byte %d", b)
	}
	return b == 1
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail("length %d exceeds the %d bytes left", n, len(r.b)-r.off)
		return nil
	}
	b := r.b[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return b
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) rest() []byte {
	b := r.b[r.off:]
	r.off = len(r.b)
	return b
}

func (r *reader) outcome() Outcome {
	if r.off >= len(r.b) {
		r.fail("truncated outcome")
		return Outcome{}
	}
	o := Outcome{Status: Status(r.b[r.off])}
	r.off++
	switch {
	case o.Status == 0 || o.Status >= statusEnd:
		r.fail("unknown status %d", o.Status)
	case o.Status == StatusOK:
		if len(r.b)-r.off < 4 {
			r.fail("truncated value")
			return o
		}
		n := uint64(binary.BigEndian.Uint32(r.b[r.off:]))
		if n > uint64(len(r.b)-r.off-4) {
			r.fail("value of %d bytes exceeds the %d left", n, len(r.b)-r.off-4)
			return o
		}
		o.Value = r.b[r.off+4 : r.off+4+int(n) : r.off+4+int(n)]
		r.off += 4 + int(n)
	default:
		o.Msg = r.string()
		o.Stack = r.bytes()
	}
	return o
}

func (r *reader) done(k Kind) error {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	if r.err != nil {
		return fmt.Errorf("%v message: %w", k, r.err)
	}
	return nil
}

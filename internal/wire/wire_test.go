package wire

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the checked-in fuzz seed corpus under testdata/fuzz")

// sampleTask builds a two-item task.
func sampleTask() *Task {
	var data []byte
	for _, arg := range []string{"first", ""} {
		var mark int
		data, mark = BeginItem(data)
		data = append(data, arg...)
		data = EndItem(data, mark)
	}
	return &Task{ID: 7, Func: "square", Deadline: -5, Timeout: 1e9, Progress: true, Count: 2, Data: data}
}

func sampleResult() *Result {
	var data []byte
	for _, o := range []Outcome{
		{Status: StatusOK, Value: []byte{1, 2}},
		{Status: StatusPanic, Msg: "boom", Stack: []byte("goroutine 1")},
		{Status: StatusError, Msg: "bad input", Stack: []byte{}},
		{Status: StatusOK, Value: []byte{}},
	} {
		data = AppendOutcome(data, &o)
	}
	return &Result{ID: 7, First: 3, Final: true, Exiting: true, RSS: 1 << 30, Count: 4, Data: data}
}

// samples holds one message of every kind, the seeds of the fuzz corpus.
func samples() []Message {
	return []Message{
		&Hello{Version: Version, Pid: 4242, Build: "abc123", Funcs: []string{"a(int) int", "b(string) []uint8"}},
		&Setup{Init: "connect", InitArg: []byte("db"), Grace: 5e8, ReportRSS: true, MaxFrame: DefaultMaxFrame},
		&Ready{Outcome: Outcome{Status: StatusError, Msg: "init failed", Stack: []byte{}}},
		&Ready{Outcome: Outcome{Status: StatusOK, Value: []byte{}}},
		sampleTask(),
		&Cancel{ID: 99},
		sampleResult(),
		&Progress{ID: 7, Total: 100, Done: 3, Failed: -1},
	}
}

func newMessage(k Kind) Message {
	switch k {
	case KindHello:
		return &Hello{}
	case KindSetup:
		return &Setup{}
	case KindReady:
		return &Ready{}
	case KindTask:
		return &Task{}
	case KindCancel:
		return &Cancel{}
	case KindResult:
		return &Result{}
	case KindProgress:
		return &Progress{}
	}
	return nil
}

func TestFramesRoundTripEveryMessage(t *testing.T) {
	var stream []byte
	for _, m := range samples() {
		stream = AppendFrame(stream, m)
	}
	r := NewReader(bytes.NewReader(stream), DefaultMaxFrame)
	for _, want := range samples() {
		k, payload, err := r.Next()
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if k != want.Kind() {
			t.Fatalf("kind = %v, want %v", k, want.Kind())
		}
		got := newMessage(k)
		if err := got.ParsePayload(payload); err != nil {
			t.Fatalf("parse %v: %v", k, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%v round trip:\n got %#v\nwant %#v", k, got, want)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last frame: err = %v, want io.EOF", err)
	}
}

func TestTaskItemsAndSkip(t *testing.T) {
	task := sampleTask()
	var got []string
	for i, item := range task.Items() {
		got = append(got, fmt.Sprintf("%d:%s", i, item))
	}
	if want := []string{"0:first", "1:"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("items = %q, want %q", got, want)
	}
	rest := SkipItems(task.Data, 1)
	if err := checkItems(rest, 1); err != nil {
		t.Fatalf("SkipItems left %x: %v", rest, err)
	}
}

func TestResultOutcomesCarryIndexes(t *testing.T) {
	res := sampleResult()
	var got []string
	for i, o := range res.Outcomes() {
		got = append(got, fmt.Sprintf("%d:%v:%s:%x", i, o.Status, o.Msg, o.Value))
	}
	want := []string{"3:ok::0102", "4:panic:boom:", "5:error:bad input:", "6:ok::"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes = %q, want %q", got, want)
	}
}

func TestReaderRejectsBadFrames(t *testing.T) {
	good := AppendFrame(nil, &Cancel{ID: 1})
	tests := []struct {
		name  string
		in    []byte
		limit int
		want  error
	}{
		{"too large", []byte{0, 0, 1, 0, byte(KindTask)}, 64, ErrTooLarge},
		{"empty", []byte{0, 0, 0, 0}, 64, ErrCorrupt},
		{"unknown kind", []byte{0, 0, 0, 1, 99}, 64, ErrCorrupt},
		{"kind zero", []byte{0, 0, 0, 1, 0}, 64, ErrCorrupt},
		{"truncated payload", good[:len(good)-1], 64, io.ErrUnexpectedEOF},
		{"truncated header", good[:2], 64, io.ErrUnexpectedEOF},
		{"at the limit", good, len(good) - 1, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := NewReader(bytes.NewReader(tt.in), tt.limit).Next()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReaderHandlesBigFramesWithoutKeepingThem(t *testing.T) {
	big := &Task{ID: 1, Func: "f", Count: 1}
	var mark int
	big.Data, mark = BeginItem(nil)
	big.Data = append(big.Data, make([]byte, keepBuffer+1)...)
	big.Data = EndItem(big.Data, mark)
	stream := AppendFrame(nil, big)
	stream = AppendFrame(stream, &Cancel{ID: 2})
	r := NewReader(bytes.NewReader(stream), DefaultMaxFrame)
	for range 2 {
		if _, _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if cap(r.buf) > keepBuffer {
		t.Fatalf("reader kept a %d byte buffer", cap(r.buf))
	}
}

func TestParseRejectsCorruptPayloads(t *testing.T) {
	for _, m := range samples() {
		full := m.AppendPayload(nil)
		for cut := range len(full) {
			// Every strict prefix must fail: the parsers read straight
			// through and check that nothing is missing or left over.
			if err := newMessage(m.Kind()).ParsePayload(full[:cut]); err == nil {
				t.Fatalf("%v: prefix of %d/%d bytes parsed without error", m.Kind(), cut, len(full))
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v: err = %v, want ErrCorrupt", m.Kind(), err)
			}
		}
		if err := newMessage(m.Kind()).ParsePayload(append(full, 0)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%v with a trailing byte: err = %v", m.Kind(), err)
		}
	}
}

func TestParseRejectsBadFields(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		in   []byte
		want string
	}{
		{"unknown status", &Ready{}, []byte{99}, "unknown status"},
		{"bool not 0 or 1", &Setup{}, []byte{0, 0, 0, 7, 0}, "bool byte"},
		{"huge count", &Hello{}, []byte{1, 1, 0, 0xff, 0xff, 0xff, 0x07}, "count"},
		{"item too long", &Task{}, []byte{1, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1}, "item 0"},
		{"count out of range", &Result{}, []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.ParsePayload(tt.in)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrCorrupt mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNames(t *testing.T) {
	if KindTask.String() != "task" || Kind(77).String() != "kind(77)" {
		t.Fatal("Kind.String")
	}
	if StatusPanic.String() != "panic" || Status(77).String() != "status(77)" {
		t.Fatal("Status.String")
	}
}

// FuzzReader feeds arbitrary streams to the frame reader and every frame
// it accepts to its message parser: neither may panic, and a parsed
// message must write back to a payload that parses again.
func FuzzReader(f *testing.F) {
	for _, m := range samples() {
		f.Add(AppendFrame(nil, m))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := NewReader(bytes.NewReader(stream), 1<<16)
		for {
			k, payload, err := r.Next()
			if err != nil {
				return
			}
			fuzzMessage(t, k, payload)
		}
	})
}

// FuzzParse feeds arbitrary payloads to each message parser; the first
// byte picks the kind.
func FuzzParse(f *testing.F) {
	for _, m := range samples() {
		f.Add(append([]byte{byte(m.Kind())}, m.AppendPayload(nil)...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		fuzzMessage(t, Kind(in[0]%byte(kindEnd)), in[1:])
	})
}

func fuzzMessage(t *testing.T, k Kind, payload []byte) {
	m := newMessage(k)
	if m == nil || m.ParsePayload(payload) != nil {
		return
	}
	switch m := m.(type) {
	case *Task:
		for range m.Items() {
		}
	case *Result:
		for range m.Outcomes() {
		}
	}
	again := newMessage(k)
	if err := again.ParsePayload(m.AppendPayload(nil)); err != nil {
		t.Fatalf("%v: re-encoded message does not parse: %v", k, err)
	}
}

// TestWriteFuzzCorpus rewrites testdata/fuzz from samples() when run with
// -update-corpus; the files are checked in so that `go test` replays them.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite the seed corpus")
	}
	for i, m := range samples() {
		frame := AppendFrame(nil, m)
		writeSeed(t, "FuzzReader", fmt.Sprintf("%d-%v", i, m.Kind()), frame)
		writeSeed(t, "FuzzParse", fmt.Sprintf("%d-%v", i, m.Kind()), append([]byte{byte(m.Kind())}, m.AppendPayload(nil)...))
	}
	var stream []byte
	for _, m := range samples() {
		stream = AppendFrame(stream, m)
	}
	writeSeed(t, "FuzzReader", "all-kinds", stream)
	writeSeed(t, "FuzzReader", "oversized", []byte{0xff, 0xff, 0xff, 0xff, byte(KindTask)})
	writeSeed(t, "FuzzReader", "truncated", stream[:len(stream)/2])
}

func writeSeed(t *testing.T, fuzz, name string, b []byte) {
	dir := filepath.Join("testdata", "fuzz", fuzz)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

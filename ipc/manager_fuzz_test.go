package ipc

import (
	"reflect"
	"testing"

	"github.com/skein-go/skein/internal/codec"
	"github.com/skein-go/skein/internal/fdpass"
)

// mgrSeedRequests are valid requests of every op.
func mgrSeedRequests() [][]byte {
	one := []byte{2} // codec's encoding of int64(1)
	var out [][]byte
	for _, r := range []mgrRequest{
		{op: mgrOpGet, key: "k"},
		{op: mgrOpSet, key: "k", a: one},
		{op: mgrOpDelete, key: "k"},
		{op: mgrOpCAS, key: "k", a: one, b: one},
		{op: mgrOpAdd, key: "k", a: one},
		{op: mgrOpSnapshot},
		{op: mgrOpLock, key: "l"},
		{op: mgrOpUnlock, key: "l"},
		{op: mgrOpLen},
		{op: mgrOpKeys},
		{op: mgrOpPop, key: "k"},
		{op: mgrOpSetDefault, key: "k", a: one},
		{op: mgrOpUpdate, entries: []mgrEntryWire{{key: "a", value: one}, {key: "k", value: one}}},
	} {
		out = append(out, appendRequest(nil, r))
	}
	return out
}

// Whatever a worker writes into its slot, the server neither panics nor
// corrupts its state: a request it can parse runs, the rest fail.
func FuzzMapRequest(f *testing.F) {
	for _, b := range mgrSeedRequests() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := NewMap[int64]()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		m.srv.local(appendRequest(nil, mgrRequest{op: mgrOpSet, key: "k", a: []byte{2}}))
		r, err := parseRequest(b)
		if err != nil {
			return
		}
		again, err := parseRequest(appendRequest(nil, r))
		if err != nil || !reflect.DeepEqual(normRequest(again), normRequest(r)) {
			t.Fatalf("request %+v re-encoded parses as %+v, %v", r, again, err)
		}
		reply, _ := m.srv.local(b)
		if reply != nil {
			if _, err := parseReply(r.op, reply); err != nil {
				t.Fatalf("the server's reply to %+v does not parse: %v", r, err)
			}
		}
	})
}

// normRequest makes empty and nil byte slices compare equal.
func normRequest(r mgrRequest) mgrRequest {
	if len(r.a) == 0 {
		r.a = nil
	}
	if len(r.b) == 0 {
		r.b = nil
	}
	return r
}

// Whatever comes back in a slot, a worker's reply parser does not panic.
func FuzzMapReply(f *testing.F) {
	f.Add(byte(mgrOpGet), []byte{mgrOK, 1, 1, 2})
	f.Add(byte(mgrOpSnapshot), []byte{mgrOK, 1, 1, 'k', 1, 2})
	f.Add(byte(mgrOpLock), []byte{mgrOK, 0x80, 0x01})
	f.Add(byte(mgrOpSet), appendFailure(nil, ErrNotHeld))
	f.Add(byte(mgrOpLen), []byte{mgrOK, 3})
	f.Add(byte(mgrOpKeys), []byte{mgrOK, 2, 1, 'a', 1, 'k'})
	f.Add(byte(mgrOpSetDefault), []byte{mgrOK, 1, 1, 2})
	f.Fuzz(func(t *testing.T, op byte, b []byte) {
		r, err := parseReply(mgrOp(op), b)
		if err == nil && r.failed {
			_ = mgrReplyErr(r)
		}
	})
}

// Arbitrary handle bytes never panic UnmarshalBinary.
func FuzzMapHandle(f *testing.F) {
	c, err := codec.For[int64]()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mgrAppendHandle(nil, fdpass.Token{PID: 1, ID: 1}, c))
	f.Add([]byte{mgrHandleVersion, mgrHandleKind})
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Map[int64]
		_ = m.UnmarshalBinary(b)
	})
}

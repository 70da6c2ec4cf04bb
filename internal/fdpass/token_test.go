package fdpass

import (
	"errors"
	"os"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	tok := Token{PID: 4242, ID: 1<<40 + 7}
	b := append(tok.Append(nil), "rest"...)
	if len(b) != TokenSize+4 {
		t.Fatalf("Append wrote %d bytes, want %d", len(b)-4, TokenSize)
	}
	got, rest, err := ParseToken(b)
	if err != nil || got != tok || string(rest) != "rest" {
		t.Fatalf("ParseToken = %+v, %q, %v", got, rest, err)
	}
	for _, bad := range [][]byte{nil, b[:TokenSize-1], Token{PID: 1}.Append(nil), Token{ID: 1}.Append(nil)} {
		if _, _, err := ParseToken(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("ParseToken(%x) = %v, want ErrCorrupt", bad, err)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(Token{PID: 1, ID: 1}.Append(nil))
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, rest, err := ParseToken(b)
		if err != nil {
			return
		}
		if len(rest) != len(b)-TokenSize || string(tok.Append(nil)) != string(b[:TokenSize]) {
			t.Fatalf("ParseToken(%x) = %+v, rest %d bytes", b, tok, len(rest))
		}
	})
}

func TestAttachInTheExportingProcess(t *testing.T) {
	type handle struct{ name string }
	h := &handle{"q"}
	tok := Export(h, func(*Peer) ([]*os.File, func(), error) { return nil, nil, nil })
	open := func([]*os.File) (*handle, error) { t.Fatal("open called in the exporting process"); return nil, nil }
	got, err := Attach(tok, open)
	if err != nil || got != h {
		t.Fatalf("Attach = %p, %v; want the exported object %p", got, err, h)
	}
	if _, err := Attach(tok, func([]*os.File) (string, error) { return "", nil }); err == nil {
		t.Error("Attach as the wrong type succeeded")
	}
	Unexport(tok)
	if _, err := Attach(tok, open); !errors.Is(err, ErrUnknown) {
		t.Errorf("Attach after Unexport = %v, want ErrUnknown", err)
	}
}

func TestAttachForeignToken(t *testing.T) {
	tok := Token{PID: os.Getpid() + 1, ID: 1}
	if tok.PID == os.Getppid() {
		tok.PID++
	}
	_, err := Attach(tok, func([]*os.File) (int, error) { return 0, nil })
	if !errors.Is(err, ErrNotChild) {
		t.Fatalf("Attach of another process's token = %v, want ErrNotChild", err)
	}
}

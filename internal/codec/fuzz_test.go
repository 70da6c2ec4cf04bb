package codec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the checked-in fuzz seed corpus under testdata/fuzz")

// corpusSeeds are the checked-in seeds of FuzzDecodePlain: valid values of
// every shape, and near misses.
func corpusSeeds() map[string][]byte {
	c, _ := For[propRecord]()
	seeds := map[string][]byte{}
	for name, v := range map[string]propRecord{
		"zero":   {},
		"full":   {B: true, I: -3, I16: 300, U8: 7, U32: 1 << 30, S: "seed", Raw: []byte{1, 2}, L: []int64{1, -2}, M: map[int32]string{1: "a", -2: ""}, P: &propRecord{S: "inner"}, Arr: [2]uint16{9, 10}, When: stamp{5}},
		"nested": {P: &propRecord{P: &propRecord{P: &propRecord{I: 1}}}},
	} {
		b, _ := c.Append(nil, v)
		seeds[name] = b
		seeds[name+"-truncated"] = b[:len(b)/2]
	}
	return seeds
}

func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodePlain")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range corpusSeeds() {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecodePlain feeds arbitrary bytes to the Plain decoder of a type
// that uses every kind of the format: it must never panic, and whatever
// it accepts must encode and decode again to an equal encoding length.
func FuzzDecodePlain(f *testing.F) {
	c, err := For[propRecord]()
	if err != nil {
		f.Fatal(err)
	}
	seed := propRecord{I: -3, S: "seed", L: []int64{1, 2}, M: map[int32]string{1: "a"}, P: &propRecord{B: true}, When: stamp{1}}
	b, _ := c.Append(nil, seed)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := c.Decode(in)
		if err != nil {
			return
		}
		out, err := c.Append(nil, v)
		if err != nil {
			t.Fatalf("re-encode of an accepted value: %v", err)
		}
		if _, err := c.Decode(out); err != nil {
			t.Fatalf("decode of a re-encoded value: %v", err)
		}
	})
}

// FuzzDecodeScalars covers the reflect-free fast paths.
func FuzzDecodeScalars(f *testing.F) {
	ci, _ := For[int]()
	cs, _ := For[string]()
	cb, _ := For[[]byte]()
	cf, _ := For[float64]()
	cu, _ := For[uint64]()
	f.Add([]byte{2})
	f.Add([]byte{3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, in []byte) {
		_, _ = ci.Decode(in)
		_, _ = cs.Decode(in)
		_, _ = cb.Decode(in)
		_, _ = cf.Decode(in)
		_, _ = cu.Decode(in)
	})
}

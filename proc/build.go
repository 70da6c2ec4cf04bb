package proc

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"io"
	"os"
	"sync"
)

// buildID identifies the executable this process runs, computed once. The
// parent and each worker compare theirs at the handshake, so a worker
// started from a different binary (replaced on disk between the parent's
// start and a respawn, say) is refused instead of running functions that
// only share a name.
var buildID = sync.OnceValue(func() string {
	path, err := executable()
	if err != nil {
		return "unknown"
	}
	if id := goBuildID(path); id != "" {
		return id
	}
	return fileHash(path)
})

// goBuildID reads the Go build ID from an ELF executable's
// .note.go.buildid section: cheap (a few hundred bytes read) and unique
// per build. It returns "" for other formats.
func goBuildID(path string) string {
	f, err := elf.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	note, err := sec.Data()
	if err != nil || len(note) < 16 {
		return ""
	}
	// An ELF note: namesz, descsz, type (4 bytes each, in the file's byte
	// order), the name padded to 4 bytes ("Go\x00\x00"), then the ID.
	order := f.ByteOrder
	namesz, descsz := order.Uint32(note[0:]), order.Uint32(note[4:])
	off := 12 + int(namesz+3)&^3
	if namesz != 4 || off+int(descsz) > len(note) {
		return ""
	}
	return "go:" + string(note[off:off+int(descsz)])
}

// fileHash hashes the whole executable, for formats without a cheap
// build ID.
func fileHash(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "unknown"
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

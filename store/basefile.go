package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/deltascope/deltascope/model"
)

// A baseline's records live in a plain file beside the session's bbolt
// file, appended chunk by chunk and synced once before the commit that
// names it: bbolt then holds only small metadata, and writing a baseline
// costs one sequential write of its compressed bytes rather than a
// copy-on-write transaction (and its page buffers) per chunk.
//
// The file is a run of chunks, each a length (4 bytes, big endian), a
// CRC-32 of the compressed bytes, then the S2-compressed records. The
// base bucket of its generation records the file name, size and chunk
// count, so a truncated or swapped file is reported, never loaded.

var (
	keyBaseFile   = []byte("file")
	keyBaseSize   = []byte("size")
	keyBaseChunks = []byte("chunks")
)

// baseFile is the path (in the session's directory) of entity's
// baseline generation gen. The entity part is its name with anything but
// letters, digits, '_' and '-' replaced, and a hash of the exact name.
func (s *Session) baseFile(entity string, gen uint64) string {
	return filepath.Join(filepath.Dir(s.Path), fmt.Sprintf("%s%d", baseFilePrefix(s.Path, entity), gen))
}

func baseFilePrefix(path, entity string) string {
	var b strings.Builder
	for _, r := range entity {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	return fmt.Sprintf("%s.base.%s-%08x.", filepath.Base(path), b.String(), fnv32(entity))
}

// baseFiles lists every baseline file of the session at path.
func baseFiles(path string) []string {
	files, _ := filepath.Glob(globEscape(path) + ".base.*")
	return files
}

func globEscape(p string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`)
	return r.Replace(p)
}

// removeStaleBases deletes entity's baseline files other than keep's
// (left by a baseline killed half-way, or replaced).
func (s *Session) removeStaleBases(entity string, keep string) {
	prefix := filepath.Join(filepath.Dir(s.Path), baseFilePrefix(s.Path, entity))
	for _, f := range baseFiles(s.Path) {
		if strings.HasPrefix(f, prefix) && filepath.Base(f) != keep {
			os.Remove(f)
		}
	}
}

// baseAppender writes one baseline file.
type baseAppender struct {
	f      *os.File
	w      *bufio.Writer
	packed []byte // reused: checksum, length and compressed bytes of a chunk
	size   int64
	chunks uint64
}

func createBase(path string) (*baseAppender, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("session store: %w", err)
	}
	return &baseAppender{f: f, w: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (a *baseAppender) add(chunk []byte) error {
	if need := 8 + s2.MaxEncodedLen(len(chunk)); cap(a.packed) < need {
		a.packed = make([]byte, need)
	}
	enc := s2.Encode(a.packed[8:cap(a.packed)], chunk)
	binary.BigEndian.PutUint32(a.packed, uint32(len(enc)))
	binary.BigEndian.PutUint32(a.packed[4:], crc32.ChecksumIEEE(enc))
	n, err := a.w.Write(a.packed[:8+len(enc)])
	a.size += int64(n)
	a.chunks++
	return err
}

// finish flushes and syncs the file, and the directory that names it.
func (a *baseAppender) finish() error {
	err := a.w.Flush()
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if d, derr := os.Open(filepath.Dir(a.f.Name())); derr == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("session store: %w", err)
	}
	return nil
}

func (a *baseAppender) abort() {
	a.f.Close()
	os.Remove(a.f.Name())
}

// recordBase notes the finished file in the base bucket.
func recordBase(base *bolt.Bucket, name string, size int64, chunks uint64) error {
	if err := base.Put(keyBaseFile, []byte(name)); err != nil {
		return err
	}
	if err := base.Put(keyBaseSize, u64(uint64(size))); err != nil {
		return err
	}
	return base.Put(keyBaseChunks, u64(chunks))
}

// readBase calls fn with the records of each chunk of the baseline that
// base describes, in order; dir is the session's directory.
func readBase(dir string, base *bolt.Bucket, fn func([]model.Entry)) error {
	name, size, chunks := base.Get(keyBaseFile), base.Get(keyBaseSize), base.Get(keyBaseChunks)
	if name == nil || len(size) != 8 || len(chunks) != 8 || strings.ContainsAny(string(name), `/\`) {
		return errDamaged
	}
	f, err := os.Open(filepath.Join(dir, string(name)))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("baseline file %s is missing: %w", name, errDamaged)
		}
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != int64(binary.BigEndian.Uint64(size)) {
		return fmt.Errorf("baseline file %s has the wrong size: %w", name, errDamaged)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var buf []byte // reused: the compressed bytes of a chunk
	var head [8]byte
	for n := binary.BigEndian.Uint64(chunks); n > 0; n-- {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return errDamaged
		}
		l := binary.BigEndian.Uint32(head[:])
		if int64(l) > int64(binary.BigEndian.Uint64(size)) {
			return errDamaged
		}
		if cap(buf) < int(l) {
			buf = make([]byte, l)
		}
		buf = buf[:l]
		if _, err := io.ReadFull(r, buf); err != nil {
			return errDamaged
		}
		if binary.BigEndian.Uint32(head[4:]) != crc32.ChecksumIEEE(buf) {
			return errDamaged
		}
		entries, err := decodeRecords(buf)
		if err != nil {
			return err
		}
		fn(entries)
	}
	return nil
}

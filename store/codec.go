package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"time"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/deltascope/deltascope/model"
)

var (
	bucketMeta     = []byte("meta")
	bucketEntities = []byte("entities")
	bucketOver     = []byte("over")
	bucketRounds   = []byte("rounds")
	bucketHist     = []byte("hist")
	bucketKeys     = []byte("keys")
	keyVersion     = []byte("version")
	keyCreated     = []byte("created")
	keyService     = []byte("service")
	keyState       = []byte("state")
)

var errDamaged = errors.New("damaged record in the session store")

func timeBytes(t time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano())) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// histKey orders a round's changes: round, then position in the round
// (in the key index and the overlay), or block number (in the history).
func histKey(seq, i int) []byte {
	k := binary.BigEndian.AppendUint64(make([]byte, 0, 12), uint64(seq))
	return binary.BigEndian.AppendUint32(k, uint32(i))
}

// keyIndex is the index entry of one change of record id: the id, a 0
// byte (ids never hold one), then the change's history key.
func keyIndex(id string, seq, i int) []byte {
	k := make([]byte, 0, len(id)+13)
	k = append(k, id...)
	k = append(k, 0)
	return append(k, histKey(seq, i)...)
}

// enc appends length-prefixed fields; a nil slice and an empty one stay
// apart (length+1, 0 for nil), as a field's absent old value must.
type enc struct{ b []byte }

func (e *enc) bytes(v []byte) {
	if v == nil {
		e.b = binary.AppendUvarint(e.b, 0)
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(len(v))+1)
	e.b = append(e.b, v...)
}
func (e *enc) str(v string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(v))+1)
	e.b = append(e.b, v...)
}
func (e *enc) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }

type dec struct {
	b   []byte
	err error
}

func (d *dec) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errDamaged, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// bytes returns a field; it aliases the buffer (copy before the
// transaction ends).
func (d *dec) bytes() []byte {
	n := d.uint()
	if n == 0 || d.err != nil {
		return nil
	}
	n--
	if uint64(len(d.b)) < n {
		d.err, d.b = errDamaged, nil
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) str() string { return string(d.bytes()) }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

const (
	flagUnknown = 1 << iota
	flagInferred
)

// appendChange appends the encoding of c to buf.
func appendChange(buf []byte, c *model.Change) []byte {
	e := enc{buf}
	flags := uint64(0)
	if c.Unknown {
		flags |= flagUnknown
	}
	if c.Inferred {
		flags |= flagInferred
	}
	e.uint(uint64(c.Kind))
	e.uint(flags)
	e.str(c.ID)
	e.str(c.Reason)
	e.bytes(c.Record)
	e.uint(uint64(len(c.Fields)))
	for _, f := range c.Fields {
		e.str(f.Path)
		e.bytes(f.Old)
		e.bytes(f.New)
	}
	return e.b
}

// decodeChange decodes a change into memory of its own.
func decodeChange(b []byte) (model.Change, error) {
	d := dec{b: b}
	var c model.Change
	c.Kind = model.Kind(d.uint())
	flags := d.uint()
	c.Unknown, c.Inferred = flags&flagUnknown != 0, flags&flagInferred != 0
	c.ID = d.str()
	c.Reason = d.str()
	c.Record = clone(d.bytes())
	n := d.uint()
	if n > uint64(len(d.b)) {
		return c, errDamaged
	}
	for i := uint64(0); i < n && d.err == nil; i++ {
		c.Fields = append(c.Fields, model.FieldChange{Path: d.str(), Old: clone(d.bytes()), New: clone(d.bytes())})
	}
	return c, d.err
}

// blockChanges is how many changes one history block holds: a round's
// changes are stored compressed in blocks, so a large round writes a
// fraction of its JSON, and one change is found by decompressing a block.
const blockChanges = 256

// blockScratch is an encoder's reused memory: the block's changes
// before compression, one change, and the compressed bytes.
type blockScratch struct{ raw, one, packed []byte }

// encodeBlock returns the stored form of a block of changes: a CRC-32,
// then the S2-compressed changes, each length-prefixed. The value is
// allocated at its exact size (bbolt keeps it until the commit): the
// rest is scratch, so a large round leaves little garbage for the
// collector to chase through a million-record heap.
func encodeBlock(cs []model.Change, sc *blockScratch) []byte {
	sc.raw = sc.raw[:0]
	for i := range cs {
		sc.one = appendChange(sc.one[:0], &cs[i])
		sc.raw = binary.AppendUvarint(sc.raw, uint64(len(sc.one)))
		sc.raw = append(sc.raw, sc.one...)
	}
	if need := s2.MaxEncodedLen(len(sc.raw)); cap(sc.packed) < need {
		sc.packed = make([]byte, need)
	}
	enc := s2.Encode(sc.packed[:cap(sc.packed)], sc.raw)
	val := make([]byte, 4, 4+len(enc))
	binary.BigEndian.PutUint32(val, crc32.ChecksumIEEE(enc))
	return append(val, enc...)
}

// blockEntries checks and decompresses a stored block into its encoded
// changes, in order.
func blockEntries(v []byte) ([][]byte, error) {
	if len(v) < 4 || binary.BigEndian.Uint32(v) != crc32.ChecksumIEEE(v[4:]) {
		return nil, errDamaged
	}
	raw, err := s2.Decode(nil, v[4:])
	if err != nil {
		return nil, errDamaged
	}
	var out [][]byte
	for len(raw) > 0 {
		n, k := binary.Uvarint(raw)
		if k <= 0 || uint64(len(raw)-k) < n {
			return nil, errDamaged
		}
		out = append(out, raw[k:k+int(n):k+int(n)])
		raw = raw[k+int(n):]
	}
	return out, nil
}

// blocks reads changes by round and position, keeping the last block it
// decompressed (lookups come in runs from one block).
type blocks struct {
	hist    *bolt.Bucket
	key     []byte
	entries [][]byte
}

// change returns the encoded change i of round seq.
func (bc *blocks) change(seq, i int) ([]byte, error) {
	k := histKey(seq, i/blockChanges)
	if !bytes.Equal(k, bc.key) {
		entries, err := blockEntries(bc.hist.Get(k))
		if err != nil {
			return nil, err
		}
		bc.key, bc.entries = k, entries
	}
	if j := i % blockChanges; j < len(bc.entries) {
		return bc.entries[j], nil
	}
	return nil, errDamaged
}

// position reads a histKey back.
func position(k []byte) (seq, i int, ok bool) {
	if len(k) != 12 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint64(k)), int(binary.BigEndian.Uint32(k[8:])), true
}

// idOf reads the record id and kind of an encoded change.
func idOf(b []byte) (string, model.Kind, error) {
	d := dec{b: b}
	kind := model.Kind(d.uint())
	d.uint()
	id := d.str()
	if d.err != nil || id == "" {
		return "", 0, errDamaged
	}
	return id, kind, nil
}

// recordOf returns a copy of the record an encoded change carries.
func recordOf(b []byte) ([]byte, error) {
	if b == nil {
		return nil, errDamaged
	}
	d := dec{b: b}
	d.uint()
	d.uint()
	d.bytes()
	d.bytes()
	raw := clone(d.bytes())
	if d.err != nil || raw == nil {
		return nil, errDamaged
	}
	return raw, nil
}

// RoundInfo is what the store keeps of a round besides its changes.
type RoundInfo struct {
	Seq                     int
	Time                    time.Time
	Duration                time.Duration
	Pages                   int
	Via                     string
	Records                 int
	Added, Updated, Deleted int
	Changes                 int // changes stored for it
}

func encodeRound(r *model.Round) []byte {
	e := enc{}
	e.uint(uint64(r.Time.UnixNano()))
	e.uint(uint64(r.Duration))
	e.uint(uint64(r.Pages))
	e.str(r.Via)
	e.uint(uint64(r.Records))
	e.uint(uint64(r.Added))
	e.uint(uint64(r.Updated))
	e.uint(uint64(r.Deleted))
	e.uint(uint64(len(r.Changes)))
	return e.b
}

func decodeRound(seq int, b []byte) (RoundInfo, error) {
	d := dec{b: b}
	ri := RoundInfo{Seq: seq}
	ri.Time = time.Unix(0, int64(d.uint()))
	ri.Duration = time.Duration(d.uint())
	ri.Pages = int(d.uint())
	ri.Via = d.str()
	ri.Records = int(d.uint())
	ri.Added, ri.Updated, ri.Deleted = int(d.uint()), int(d.uint()), int(d.uint())
	ri.Changes = int(d.uint())
	return ri, d.err
}

package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
	bolt "go.etcd.io/bbolt"

	"github.com/deltascope/deltascope/model"
)

// State is where one entity set of a session stands.
type State struct {
	Gen     uint64    `json:"gen"`     // the committed baseline; 0: none yet
	Link    string    `json:"link"`    // the delta link the next round uses
	Seq     int       `json:"seq"`     // the last committed round; 0: only the baseline
	Since   time.Time `json:"since"`   // the time of that round, or of the baseline
	Records int       `json:"records"` // records in the stored snapshot
	// Base is the last round the stored baseline holds: the overlay only
	// ever holds rounds after it.
	Base int `json:"base"`
	// Indexed is the last round whose key index (and, past Base, overlay)
	// entries are written. They are written after the round's commit, by
	// a transaction of their own; rounds past Indexed are read from their
	// history blocks instead (see indexRounds).
	Indexed int `json:"indexed"`
	// Poll is the poll state of an entity followed without delta links,
	// as the tracker encodes it; the store keeps it as given.
	Poll json.RawMessage `json:"poll,omitempty"`
}

// Baselined says whether a complete baseline is stored.
func (s State) Baselined() bool { return s.Gen > 0 }

func readState(b *bolt.Bucket) State {
	var st State
	if v := b.Get(keyState); v != nil {
		if json.Unmarshal(v, &st) != nil {
			return State{}
		}
	}
	return st
}

func writeState(b *bolt.Bucket, st State) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return b.Put(keyState, v)
}

func baseName(gen uint64) []byte { return []byte("base" + strconv.FormatUint(gen, 10)) }

func eachEntity(tx *bolt.Tx, fn func(string, *bolt.Bucket) error) error {
	es := tx.Bucket(bucketEntities)
	if es == nil {
		return nil
	}
	return es.ForEachBucket(func(k []byte) error { return fn(string(k), es.Bucket(k)) })
}

func entityBucket(tx *bolt.Tx, name string) *bolt.Bucket {
	es := tx.Bucket(bucketEntities)
	if es == nil {
		return nil
	}
	return es.Bucket([]byte(name))
}

func createEntity(tx *bolt.Tx, name string) (*bolt.Bucket, error) {
	es, err := tx.CreateBucketIfNotExists(bucketEntities)
	if err != nil {
		return nil, err
	}
	b, err := es.CreateBucketIfNotExists([]byte(name))
	if err != nil {
		return nil, err
	}
	for _, n := range [][]byte{bucketOver, bucketRounds, bucketHist, bucketKeys} {
		if _, err := b.CreateBucketIfNotExists(n); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// State returns the stored state of entity; the zero State when none is.
func (s *Session) State(entity string) (State, error) {
	var st State
	err := s.view(func(tx *bolt.Tx) error {
		if b := entityBucket(tx, entity); b != nil {
			st = readState(b)
		}
		return nil
	})
	return st, err
}

// Entities lists the entity sets with a stored baseline.
func (s *Session) Entities() ([]string, error) {
	var out []string
	err := s.view(func(tx *bolt.Tx) error {
		return eachEntity(tx, func(name string, b *bolt.Bucket) error {
			if readState(b).Baselined() {
				out = append(out, name)
			}
			return nil
		})
	})
	return out, err
}

// Load reads entity's stored snapshot and state. Records are copied out of
// the file in the order they first arrived; the snapshot is the baseline
// with every committed round applied.
func (s *Session) Load(entity string) (*model.Snapshot, State, error) {
	var snap *model.Snapshot
	var st State
	err := s.view(func(tx *bolt.Tx) error {
		b := entityBucket(tx, entity)
		if b == nil {
			return &NotFoundError{What: fmt.Sprintf("session %s holds no entity %q", s.Name, entity)}
		}
		st = readState(b)
		if !st.Baselined() {
			return &NotFoundError{What: fmt.Sprintf("session %s holds no baseline of %q yet", s.Name, entity)}
		}
		var err error
		snap, err = loadSnapshot(filepath.Dir(s.Path), b, st)
		return err
	})
	if err != nil {
		return nil, State{}, err
	}
	return snap, st, nil
}

// Values of the over bucket: empty for a deleted record, else a tag and
// the record itself or where the history holds it.
const (
	overRecord    = 1
	overInHistory = 2
)

func loadSnapshot(dir string, b *bolt.Bucket, st State) (*model.Snapshot, error) {
	base := b.Bucket(baseName(st.Gen))
	if base == nil {
		return nil, errDamaged
	}
	snap := model.NewSnapshot(st.Records)
	// A goroutine reads, checks and decompresses the chunks while this
	// one puts their records into the snapshot: both cores work on a
	// resume. The transaction is only used by the reading goroutine
	// until it ends.
	batches := make(chan []model.Entry, 2)
	var derr error
	go func() {
		defer close(batches)
		derr = readBase(dir, base, func(entries []model.Entry) { batches <- entries })
	}()
	for entries := range batches {
		snap.Add(entries)
	}
	if derr != nil {
		return nil, derr
	}
	var entries []model.Entry
	entries = entries[:0]
	bc := &blocks{hist: b.Bucket(bucketHist)}
	err := b.Bucket(bucketOver).ForEach(func(k, v []byte) error {
		switch {
		case len(v) == 0:
			entries = append(entries, model.Entry{ID: string(k), Removed: true})
		case v[0] == overInHistory:
			seq, i, ok := position(v[1:])
			if !ok {
				return errDamaged
			}
			enc, err := bc.change(seq, i)
			if err != nil {
				return err
			}
			raw, err := recordOf(enc)
			if err != nil {
				return err
			}
			entries = append(entries, model.Entry{ID: string(k), Raw: raw})
		case v[0] == overRecord:
			entries = append(entries, model.Entry{ID: string(k), Raw: clone(v[1:])})
		default:
			return errDamaged
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Rounds committed but not yet in the overlay are replayed from their
	// history, oldest first: the last change of a record wins.
	err = eachChange(b.Bucket(bucketHist), max(st.Base, st.Indexed)+1, st.Seq, func(_, _ int, enc []byte) error {
		id, kind, err := idOf(enc)
		if err != nil {
			return err
		}
		if kind == model.Deleted {
			entries = append(entries, model.Entry{ID: id, Removed: true})
			return nil
		}
		raw, err := recordOf(enc)
		if err != nil {
			return err
		}
		entries = append(entries, model.Entry{ID: id, Raw: raw})
		return nil
	})
	if err != nil {
		return nil, err
	}
	snap.Restore(entries)
	return snap, nil
}

// decodeRecords decompresses one checked piece of a baseline. The
// records and their ids share one allocation, the decompressed chunk: a
// million small allocations would cost more than the records' bytes.
func decodeRecords(compressed []byte) ([]model.Entry, error) {
	own, err := s2.Decode(nil, compressed)
	if err != nil {
		return nil, errDamaged
	}
	entries := make([]model.Entry, 0, len(own)/512)
	for d := (dec{b: own}); len(d.b) > 0; {
		id, raw := d.bytes(), d.bytes()
		if d.err != nil || len(id) == 0 {
			return nil, errDamaged
		}
		// own is never written again, so the id can be a view of it.
		entries = append(entries, model.Entry{ID: unsafe.String(&id[0], len(id)), Raw: raw})
	}
	return entries, nil
}

// BaselineWriter stores a baseline as it arrives, in compressed chunks
// committed along the way by a goroutine of its own, so the download does
// not wait for the disk and memory stays bounded; the baseline only
// becomes the session's on Commit. A process killed before Commit leaves
// the previous baseline (or none) in place, and the next run baselines
// again.
type BaselineWriter struct {
	s      *Session
	entity string
	gen    uint64
	chunk  []byte
	full   chan []byte // chunks for the writer goroutine
	free   chan []byte // its emptied buffers, to reuse
	done   chan error
	err    error
	closed bool
	// buffers counts the chunk buffers made; they go round through free.
	buffers int
	file    *baseAppender // the baseline file, written by the goroutine
}

// chunkSize is the size of one stored piece of a baseline before
// compression: large enough that per-key and per-commit costs vanish,
// small enough to bound the memory in flight (maxBuffers chunks).
const chunkSize = 8 << 20

// maxBuffers bounds the chunks in flight (48 MB): enough for the writer
// to catch up with bursts of pages without holding the download back.
const maxBuffers = 6

// StartBaseline begins storing a new baseline of entity. It holds the
// file open until Commit or Abort.
func (s *Session) StartBaseline(entity string) (*BaselineWriter, error) {
	if s.readOnly {
		return nil, errors.New("session store: opened read-only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		db, _, err := s.open()
		if err != nil {
			return nil, err
		}
		s.db = db
	}
	s.writers++
	w := &BaselineWriter{s: s, entity: entity, chunk: make([]byte, 0, chunkSize), full: make(chan []byte, 1), free: make(chan []byte, maxBuffers), buffers: 1, done: make(chan error, 1)}
	err := guard(s.Path, func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			b, err := createEntity(tx, entity)
			if err != nil {
				return err
			}
			st := readState(b)
			w.gen = st.Gen + 1
			// Leftovers of a baseline killed half-way are dropped here.
			var stale [][]byte
			b.ForEachBucket(func(k []byte) error {
				if bytes.HasPrefix(k, []byte("base")) && !bytes.Equal(k, baseName(st.Gen)) {
					stale = append(stale, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range stale {
				if err := b.DeleteBucket(k); err != nil {
					return err
				}
			}
			_, err = b.CreateBucket(baseName(w.gen))
			return err
		})
	})
	if err == nil {
		keep := ""
		if w.gen > 1 {
			keep = filepath.Base(s.baseFile(entity, w.gen-1))
		}
		s.removeStaleBases(entity, keep)
		w.file, err = createBase(s.baseFile(entity, w.gen))
	}
	if err != nil {
		s.release()
		return nil, err
	}
	go w.write()
	return w, nil
}

// release ends one baseline writer's use of the open file; the last one
// closes it, so readers in other processes get their turn. s.mu is held.
func (s *Session) release() {
	s.writers--
	if s.writers <= 0 && s.db != nil {
		s.db.Close()
		s.db, s.writers = nil, 0
	}
}

// Add stores a page of baseline entries; removals are not records.
func (w *BaselineWriter) Add(entries []model.Entry) error {
	if w.err != nil {
		return w.err
	}
	for i := range entries {
		e := &entries[i]
		if e.Removed {
			continue
		}
		// Full chunks go record by record, so a buffer never outgrows its
		// capacity: the buffers in turn are all the memory it takes.
		if len(w.chunk)+len(e.ID)+len(e.Raw)+20 > cap(w.chunk) && len(w.chunk) > 0 {
			if w.send(); w.err != nil {
				return w.err
			}
		}
		w.chunk = binary.AppendUvarint(w.chunk, uint64(len(e.ID))+1)
		w.chunk = append(w.chunk, e.ID...)
		w.chunk = binary.AppendUvarint(w.chunk, uint64(len(e.Raw))+1)
		w.chunk = append(w.chunk, e.Raw...)
	}
	return w.err
}

// send hands the chunk to the writer goroutine and takes an empty buffer.
func (w *BaselineWriter) send() {
	if len(w.chunk) == 0 {
		return
	}
	select {
	case err := <-w.done: // the writer stopped on an error
		w.err = err
		w.done <- err
		return
	case w.full <- w.chunk:
	}
	// At most maxBuffers buffers: past that the download waits for the disk,
	// rather than memory filling with chunks the writer has not reached.
	if w.buffers < maxBuffers {
		select {
		case w.chunk = <-w.free:
		default:
			w.chunk = make([]byte, 0, chunkSize)
			w.buffers++
		}
		return
	}
	select {
	case w.chunk = <-w.free:
	case err := <-w.done:
		w.err = err
		w.done <- err
	}
}

// write appends chunks to the baseline file as they come, compressed.
func (w *BaselineWriter) write() {
	for chunk := range w.full {
		if err := w.file.add(chunk); err != nil {
			w.done <- fmt.Errorf("session store: %w", err)
			for range w.full { // let send return
			}
			return
		}
		w.free <- chunk[:0] // room for every buffer there is
	}
	w.done <- w.file.finish()
}

// wait sends the last chunk and waits for the writer to store it.
func (w *BaselineWriter) wait() error {
	if w.err == nil {
		w.send()
	}
	close(w.full)
	err := <-w.done
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// AddSnapshot stores every record of snap, for a baseline compared with
// the old snapshot (a re-baseline) when it was not fed page by page.
func (w *BaselineWriter) AddSnapshot(snap *model.Snapshot) error {
	var one [1]model.Entry
	snap.Each(func(id string, raw []byte) bool {
		one[0] = model.Entry{ID: id, Raw: raw}
		return w.Add(one[:]) == nil
	})
	return w.err
}

// Commit makes the stored baseline the entity's, with link as its delta
// link, in one transaction. With r (a re-baseline's comparison) the round
// and its changes are committed with it, as round state.Seq+1; without,
// the round count is kept and since is at.
func (w *BaselineWriter) Commit(link string, records int, at time.Time, r *model.Round) (State, error) {
	if w.closed {
		return State{}, errors.New("session store: baseline already committed")
	}
	defer w.finish()
	if err := w.wait(); err != nil {
		w.file.abort()
		return State{}, err
	}
	name := filepath.Base(w.file.f.Name())
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	var st State
	err := guard(w.s.Path, func() error {
		return w.s.db.Update(func(tx *bolt.Tx) error {
			b := entityBucket(tx, w.entity)
			if err := recordBase(b.Bucket(baseName(w.gen)), name, w.file.size, w.file.chunks); err != nil {
				return err
			}
			old := readState(b)
			st = State{Gen: w.gen, Link: link, Seq: old.Seq, Since: at, Records: records, Indexed: old.Indexed}
			if old.Gen > 0 {
				if err := b.DeleteBucket(baseName(old.Gen)); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
					return err
				}
			}
			if err := b.DeleteBucket(bucketOver); err != nil {
				return err
			}
			if _, err := b.CreateBucket(bucketOver); err != nil {
				return err
			}
			if r != nil {
				st.Seq++
				r.Seq, st.Since = st.Seq, r.Time
				if err := putRound(b, r, nil); err != nil {
					return err
				}
			}
			st.Base = st.Seq
			return writeState(b, st)
		})
	})
	if err != nil {
		return st, err
	}
	// The old generation's file goes once the new one is committed.
	w.s.removeStaleBases(w.entity, name)
	if st.Indexed < st.Seq {
		w.s.indexLater()
	}
	return st, nil
}

// Abort drops a baseline that did not complete; what it stored so far is
// removed by the next StartBaseline.
func (w *BaselineWriter) Abort() {
	if !w.closed {
		w.wait()
		w.file.abort()
		w.finish()
	}
}

func (w *BaselineWriter) finish() {
	w.closed = true
	w.s.mu.Lock()
	w.s.release()
	w.s.mu.Unlock()
}

// CommitRound stores a delta (or poll) round in one transaction: the
// records it changed, its history and the link (and poll state) the next
// round uses. r.Seq must be the stored round + 1.
func (s *Session) CommitRound(entity string, r *model.Round, link string, poll json.RawMessage) (State, error) {
	return s.CommitEncodedRound(entity, r, link, poll, nil)
}

// CommitEncodedRound is CommitRound with the round's history blocks
// compressed by enc as the round was applied (nil: compressed here).
func (s *Session) CommitEncodedRound(entity string, r *model.Round, link string, poll json.RawMessage, enc *RoundEncoder) (State, error) {
	var blocks [][]byte
	if enc != nil {
		blocks = enc.blocksOf(r.Changes)
	}
	var st State
	err := s.update(func(tx *bolt.Tx) error {
		b := entityBucket(tx, entity)
		if b == nil {
			return fmt.Errorf("session store: no baseline of %s", entity)
		}
		st = readState(b)
		if !st.Baselined() || r.Seq != st.Seq+1 {
			return fmt.Errorf("session store: %s round %d does not follow stored round %d", entity, r.Seq, st.Seq)
		}
		if err := putRound(b, r, blocks); err != nil {
			return err
		}
		st.Seq, st.Link, st.Since, st.Records = r.Seq, link, r.Time, r.Records
		if poll != nil {
			st.Poll = poll
		}
		return writeState(b, st)
	})
	if err == nil {
		s.indexLater()
	}
	return st, err
}

// putRound writes a round and its history: each change once, in
// compressed blocks. The key index and the overlay follow in a
// transaction of their own (indexRounds): a round is committed, and can
// be shown, once its history is.
func putRound(b *bolt.Bucket, r *model.Round, blocks [][]byte) error {
	if err := b.Bucket(bucketRounds).Put(u64(uint64(r.Seq)), encodeRound(r)); err != nil {
		return err
	}
	hist := b.Bucket(bucketHist)
	hist.FillPercent = 1 // appended in key order
	if blocks != nil {   // encoded while the round was applied
		for blk, val := range blocks {
			if err := hist.Put(histKey(r.Seq, blk), val); err != nil {
				return err
			}
		}
		return nil
	}
	// Blocks are encoded by two goroutines (both cores) while bbolt takes
	// them in order; bbolt keeps each block's value until the commit, so
	// each has memory of its own.
	n := (len(r.Changes) + blockChanges - 1) / blockChanges
	vals := make([]chan []byte, n)
	for i := range vals {
		vals[i] = make(chan []byte, 1)
	}
	const workers = 2
	for w := 0; w < workers; w++ {
		go func() {
			var sc blockScratch
			for blk := w; blk < n; blk += workers {
				lo := blk * blockChanges
				vals[blk] <- encodeBlock(r.Changes[lo:min(lo+blockChanges, len(r.Changes))], &sc)
			}
		}()
	}
	var err error
	for blk := range vals {
		val := <-vals[blk] // every block is received, so no encoder is left waiting
		if err == nil {
			err = hist.Put(histKey(r.Seq, blk), val)
		}
	}
	return err
}

// indexRounds writes the key index entries of rounds st.Indexed+1 to
// st.Seq, and for those past st.Base the overlay (each changed record's
// latest change), reading the changes from their history blocks.
//
// Keys go in in ascending order per bucket: bbolt keeps a transaction's
// new keys in memory nodes until the commit, and random inserts into one
// node cost a copy of its tail each, quadratic over a large round.
func indexRounds(b *bolt.Bucket, st *State) error {
	var index [][]byte
	last := map[string][]byte{} // id -> overlay value
	err := eachChange(b.Bucket(bucketHist), st.Indexed+1, st.Seq, func(seq, i int, enc []byte) error {
		id, kind, err := idOf(enc)
		if err != nil {
			return err
		}
		index = append(index, keyIndex(id, seq, i))
		if seq > st.Base {
			if kind == model.Deleted {
				last[id] = nil
			} else {
				// The record is in the history already: point at it
				// rather than write it twice.
				last[id] = append([]byte{overInHistory}, histKey(seq, i)...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(index, bytes.Compare)
	keys, over := b.Bucket(bucketKeys), b.Bucket(bucketOver)
	for _, k := range index {
		if err := keys.Put(k, nil); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := over.Put([]byte(id), last[id]); err != nil {
			return err
		}
	}
	st.Indexed = st.Seq
	return nil
}

// eachChange calls fn for every stored change of rounds from to to,
// in order, with its round and position; enc aliases the block.
func eachChange(hist *bolt.Bucket, from, to int, fn func(seq, i int, enc []byte) error) error {
	if from > to {
		return nil
	}
	c := hist.Cursor()
	for k, v := c.Seek(histKey(from, 0)); k != nil; k, v = c.Next() {
		seq, blk, ok := position(k)
		if !ok {
			return errDamaged
		}
		if seq > to {
			return nil
		}
		entries, err := blockEntries(v)
		if err != nil {
			return err
		}
		for j, enc := range entries {
			if err := fn(seq, blk*blockChanges+j, enc); err != nil {
				return err
			}
		}
	}
	return nil
}

// indexLater writes the key index and overlay of committed rounds in a
// goroutine, one transaction for whatever rounds are waiting; Close
// waits for it. A process killed first leaves them to the next one (Load
// and History read unindexed rounds from their history).
func (s *Session) indexLater() {
	s.imu.Lock()
	if s.indexing || s.noIndex {
		s.imu.Unlock()
		return
	}
	s.indexing = true
	s.imu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.imu.Lock()
		s.indexing = false
		s.imu.Unlock()
		// An error here leaves the rounds unindexed, which every reader
		// handles; the next commit tries again.
		_ = s.update(func(tx *bolt.Tx) error {
			return eachEntity(tx, func(_ string, b *bolt.Bucket) error {
				st := readState(b)
				if st.Indexed >= st.Seq {
					return nil
				}
				if err := indexRounds(b, &st); err != nil {
					return err
				}
				return writeState(b, st)
			})
		})
	}()
}

package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/deltascope/deltascope/model"
)

// Event is one stored change with the round it came in.
type Event struct {
	Entity string
	Round  RoundInfo
	model.Change
}

// Filter selects history events; zero fields select all.
type Filter struct {
	Entity string    // one entity set
	Since  time.Time // rounds strictly after this time
	Key    string    // changes of this record id
}

// History calls fn for every stored change that f selects, oldest first
// (by round time, then entity, then order within the round).
func (s *Session) History(f Filter, fn func(*Event) error) error {
	var events []*Event
	err := s.view(func(tx *bolt.Tx) error {
		return eachEntity(tx, func(name string, b *bolt.Bucket) error {
			if f.Entity != "" && name != f.Entity {
				return nil
			}
			rounds := map[int]RoundInfo{}
			round := func(seq int) (RoundInfo, error) {
				if ri, ok := rounds[seq]; ok {
					return ri, nil
				}
				v := b.Bucket(bucketRounds).Get(u64(uint64(seq)))
				if v == nil {
					return RoundInfo{}, errDamaged
				}
				ri, err := decodeRound(seq, v)
				rounds[seq] = ri
				return ri, err
			}
			add := func(seq int, v []byte) error {
				ri, err := round(seq)
				if err != nil {
					return err
				}
				if !ri.Time.After(f.Since) {
					return nil
				}
				c, err := decodeChange(v)
				if err != nil {
					return err
				}
				events = append(events, &Event{Entity: name, Round: ri, Change: c})
				return nil
			}
			hist := b.Bucket(bucketHist)
			if f.Key != "" {
				bc := &blocks{hist: hist}
				prefix := append([]byte(f.Key), 0)
				c := b.Bucket(bucketKeys).Cursor()
				for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
					seq, i, ok := position(k[len(prefix):])
					if !ok {
						return errDamaged
					}
					enc, err := bc.change(seq, i)
					if err != nil {
						return err
					}
					if err := add(seq, enc); err != nil {
						return err
					}
				}
				// Rounds committed but not yet indexed: their blocks.
				st := readState(b)
				return eachChange(hist, st.Indexed+1, st.Seq, func(seq, _ int, enc []byte) error {
					id, _, err := idOf(enc)
					if err != nil || id != f.Key {
						return err
					}
					return add(seq, enc)
				})
			}
			// Rounds are numbered in time order: skip to the first one
			// after Since without reading the changes before it.
			start := 1
			if !f.Since.IsZero() {
				start = -1
				rc := b.Bucket(bucketRounds).Cursor()
				for k, v := rc.Last(); k != nil; k, v = rc.Prev() {
					ri, err := decodeRound(int(binary.BigEndian.Uint64(k)), v)
					if err != nil {
						return err
					}
					if !ri.Time.After(f.Since) {
						break
					}
					start = ri.Seq
				}
				if start < 0 {
					return nil
				}
			}
			c := hist.Cursor()
			for k, v := c.Seek(histKey(start, 0)); k != nil; k, v = c.Next() {
				seq, _, ok := position(k)
				if !ok {
					return errDamaged
				}
				entries, err := blockEntries(v)
				if err != nil {
					return err
				}
				for _, enc := range entries {
					if err := add(seq, enc); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Round.Time.Before(events[j].Round.Time) })
	for _, e := range events {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Round reads one stored round with its changes, for a view that keeps
// only recent rounds in memory.
func (s *Session) Round(entity string, seq int) (*model.Round, error) {
	var r *model.Round
	err := s.view(func(tx *bolt.Tx) error {
		b := entityBucket(tx, entity)
		if b == nil {
			return &NotFoundError{What: fmt.Sprintf("session %s holds no entity %q", s.Name, entity)}
		}
		v := b.Bucket(bucketRounds).Get(u64(uint64(seq)))
		if v == nil {
			return &NotFoundError{What: fmt.Sprintf("session %s holds no round %d of %s", s.Name, seq, entity)}
		}
		ri, err := decodeRound(seq, v)
		if err != nil {
			return err
		}
		r = &model.Round{Seq: seq, Time: ri.Time, Duration: ri.Duration, Pages: ri.Pages, Via: ri.Via, Records: ri.Records,
			Added: ri.Added, Updated: ri.Updated, Deleted: ri.Deleted, Changes: make([]model.Change, 0, ri.Changes)}
		c := b.Bucket(bucketHist).Cursor()
		prefix := u64(uint64(seq))
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			entries, err := blockEntries(v)
			if err != nil {
				return err
			}
			for _, enc := range entries {
				ch, err := decodeChange(enc)
				if err != nil {
					return err
				}
				r.Changes = append(r.Changes, ch)
			}
		}
		return nil
	})
	return r, err
}

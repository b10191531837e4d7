package deltatest

import (
	"github.com/go-json-experiment/json/jsontext"

	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/deltascope/deltascope/internal/rawjson"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"
)

// field is one property of a record, its value already encoded as JSON.
type field struct {
	name  string
	value []byte
}

// record is one immutable version of a record; a change makes a new one.
// A record of the initial data keeps no JSON, only how to make it again
// (about 80 bytes, where its JSON is 600: a ten-million-record demo fits
// in a few GB); a changed or added one keeps its encoded form. Fields are
// parsed back out when a change needs them.
type record struct {
	id      string
	version uint64
	raw     []byte // the full JSON object with @odata.etag; nil: made on demand
	initial
}

// initial is how a record of the initial data is made again: its set, its
// sequence number and position, and the seeded stream as it stood.
type initial struct {
	es    *entitySet
	state rand.PCG
	n, i  int32
}

// json returns the record's JSON object.
func (r *record) json() []byte {
	if r.raw != nil {
		return r.raw
	}
	var m members
	return r.appendJSON(nil, &m)
}

// appendJSON appends the record's JSON object to dst; scratch is reused
// between calls.
func (r *record) appendJSON(dst []byte, scratch *members) []byte {
	if r.raw != nil {
		return append(dst, r.raw...)
	}
	es := r.es
	p := r.state
	scratch.b = scratch.b[:0]
	es.gen(&gen{rng: rand.New(&p), n: int(r.n)}, r.id, scratch)
	dst = append(dst, es.head...)
	dst = append(dst, scratch.b...)
	dst = append(dst, `,"lastModifiedDateTime":"`...)
	dst = es.born.Add(-time.Duration(r.i+1)*time.Hour).AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"', '}')
}

// fields returns the record's properties in order, without @odata.etag.
func (r *record) fields() []field {
	var fs []field
	rawjson.Members(r.json(), func(name, value []byte) bool {
		if string(name) != "@odata.etag" {
			fs = append(fs, field{string(name), value})
		}
		return true
	})
	return fs
}

// state is a record at a version; rec is nil once deleted.
type state struct {
	version uint64
	rec     *record
}

// entitySet holds the current records of one set, their history for delta
// computation, and the per-set log of changed ids.
type entitySet struct {
	name     string
	order    []string // creation order, ids; deleted ones stay until compaction
	current  map[string]*record
	history  map[string][]state // only for records changed after the start
	log      []logEntry
	epoch    int // bumped by Expire: older tokens answer 410
	gen      func(g *gen, id string, m *members)
	head     []byte                             // how initial records start: {"@odata.etag":"...",
	born     time.Time                          // initial record i was last modified i+1 hours before
	mutate   func(s *Server, r *record) []field // the fields an update sets
	noDelta  bool                               // like BC's report APIs
	rowsOnly [][]byte                           // fixed rows of a no-delta set
}

type logEntry struct {
	version uint64
	id      string
}

func encodeRecord(fields []field, version uint64) []byte {
	n := 48
	for _, f := range fields {
		n += len(f.name) + len(f.value) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, `{"@odata.etag":"`...)
	b = append(b, etag(version)...)
	b = append(b, '"')
	for _, f := range fields {
		b = append(b, `,"`...)
		b = append(b, f.name...)
		b = append(b, `":`...)
		b = append(b, f.value...)
	}
	return append(b, '}')
}

func etag(version uint64) string {
	inner := fmt.Sprintf("'%d;%d;00;'", 12+version%97, 4_300_000+version)
	return `W/\"` + base64.StdEncoding.EncodeToString([]byte(inner)) + `\"`
}

// commit records a new version of id in set (fields nil: deleted). The
// caller holds s.mu.
func (s *Server) commit(es *entitySet, id string, fields []field) {
	s.version++
	v := s.version
	if _, seen := es.history[id]; !seen {
		// The first change of a record from the start: keep how it began.
		if old := es.current[id]; old != nil {
			es.history[id] = []state{{version: 0, rec: old}}
		}
	}
	var rec *record
	if fields != nil {
		fields = setField(fields, "lastModifiedDateTime", jsonString(s.timeAt(v).Format(time.RFC3339Nano)))
		rec = &record{id: id, version: v, raw: encodeRecord(fields, v)}
		if _, ok := es.current[id]; !ok {
			es.order = append(es.order, id)
		}
		es.current[id] = rec
	} else {
		delete(es.current, id)
		// order stays the live ids: the change generator picks one by
		// position without listing them all.
		if i := slices.Index(es.order, id); i >= 0 {
			es.order = slices.Delete(es.order, i, i+1)
		}
	}
	es.history[id] = append(es.history[id], state{version: v, rec: rec})
	es.log = append(es.log, logEntry{version: v, id: id})
}

// at returns the record id as it was at version v, nil when it did not
// exist then.
func (es *entitySet) at(id string, v uint64) *record {
	h, changed := es.history[id]
	if !changed {
		return es.current[id] // as it was at the start
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].version > v })
	if i == 0 {
		return nil
	}
	return h[i-1].rec
}

// changedSince lists the ids changed in (from, to], each once, in the order
// of their last change, so applying them in order gives the state at to.
func (es *entitySet) changedSince(from, to uint64) []string {
	start := sort.Search(len(es.log), func(i int) bool { return es.log[i].version > from })
	last := map[string]int{}
	var ids []string
	for i := start; i < len(es.log) && es.log[i].version <= to; i++ {
		id := es.log[i].id
		if j, ok := last[id]; ok {
			ids[j] = ""
		}
		last[id] = len(ids)
		ids = append(ids, id)
	}
	out := ids[:0]
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	return out
}

func setField(fs []field, name string, value []byte) []field {
	for i := range fs {
		if fs[i].name == name {
			out := append([]field(nil), fs...)
			out[i].value = value
			return out
		}
	}
	return append(append([]field(nil), fs...), field{name, value})
}

func getField(fs []field, name string) []byte {
	for _, f := range fs {
		if f.name == name {
			return f.value
		}
	}
	return nil
}

func jsonString(s string) []byte {
	b, _ := jsonValue(s)
	return b
}

func jsonValue(v any) ([]byte, error) {
	switch v := v.(type) {
	case json.RawMessage:
		return v, nil
	case string:
		if b, err := jsontext.AppendQuote(nil, v); err == nil {
			return b, nil
		}
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case jsonNumber:
		return []byte(v), nil
	}
	return json.Marshal(v)
}

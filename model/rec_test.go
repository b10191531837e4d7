package model

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"
)

// idOf returns id as the decoder gives a plain string id: a string whose
// bytes are the ones inside raw, not a copy.
func idOf(raw []byte, id string) string {
	i := bytes.Index(raw, []byte(`"`+id+`"`))
	if i < 0 {
		panic("id not in raw: " + id)
	}
	return unsafe.String(&raw[i+1], len(id))
}

// A record's id is kept as an offset into its JSON when it lies there,
// and in the snapshot's own ids otherwise; records move between the two
// as updates come (a full record carries its id, a merged one does not),
// and the ids no record uses are dropped, so long runs of updates and
// removals do not grow them.
func TestRecordIDsInsideAndOutsideTheirJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := NewSnapshot(0)
	want := map[string]string{}
	for step := 0; step < 300_000; step++ {
		id := fmt.Sprintf("id-%d", rng.IntN(20_000))
		raw := fmt.Appendf(nil, `{"v":%d,"id":%q}`, step, id)
		switch r := rng.IntN(10); {
		case r < 4: // a full record, id inside it
			s.put(idOf(raw, id), raw)
			want[id] = string(raw)
		case r < 6: // a copy of an id the record holds (a session store's)
			s.put(string([]byte(id)), raw)
			want[id] = string(raw)
		case r < 8: // an id the record does not hold (quoted, composite)
			raw = fmt.Appendf(nil, `{"v":%d}`, step)
			s.put(string([]byte(id)), raw)
			want[id] = string(raw)
		default:
			s.remove(id)
			delete(want, id)
		}
	}
	if s.Len() != len(want) {
		t.Fatalf("Len %d, want %d", s.Len(), len(want))
	}
	inside, own := 0, 0
	s.EachPos(func(pos int, id string, raw []byte) bool {
		if w := want[id]; w != string(raw) {
			t.Fatalf("%s = %s, want %s", id, raw, w)
		}
		if r := s.at(int32(pos)); r.id&idsFlag == 0 {
			inside++
		} else {
			own++
		}
		return true
	})
	if inside == 0 || own == 0 {
		t.Fatalf("%d ids inside their records, %d outside: both kinds must be exercised", inside, own)
	}
	if live := own * ownLen("id-10000"); len(s.ids) > 2*live+64<<10 {
		t.Errorf("ids hold %d bytes for %d records' ids (%d bytes): the unused ones are not dropped", len(s.ids), own, live)
	}
	for id, w := range want {
		if got, ok := s.Get(id); !ok || string(got) != w {
			t.Fatalf("Get %s = %s %v, want %s", id, got, ok, w)
		}
	}
	// A clone appends its own ids, never into the original's.
	c := s.Clone()
	c.put("clone-only", []byte(`{}`))
	s.put("original-only", []byte(`{}`))
	if _, ok := c.Get("original-only"); ok {
		t.Error("the clone sees the original's new id")
	}
	if got, ok := c.Get("clone-only"); !ok || string(got) != "{}" {
		t.Error("the clone lost its id")
	}
	if _, ok := s.Get("clone-only"); ok {
		t.Error("the original sees the clone's new id")
	}
}

// A staged round whose updates move ids into and out of the records'
// JSON rolls back to the same snapshot.
func TestRollbackRestoresIDs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := NewSnapshot(0)
	for i := 0; i < 3000; i++ {
		id := fmt.Sprint("r", i)
		raw := fmt.Appendf(nil, `{"id":%q,"a":%d}`, id, i)
		switch i % 3 {
		case 0:
			id = idOf(raw, id)
		case 1:
			raw = fmt.Appendf(nil, `{"a":%d}`, i) // the id only outside
		}
		s.put(id, raw)
	}
	want := contents(s)
	for trial := 0; trial < 10; trial++ {
		es := make([]Entry, 2000)
		for k := range es {
			id := fmt.Sprint("r", rng.IntN(4000))
			switch rng.IntN(4) {
			case 0:
				es[k] = Entry{ID: id, Removed: true}
			case 1:
				es[k] = Entry{ID: id, Raw: fmt.Appendf(nil, `{"a":"p%d"}`, k)} // merged into the record
			default:
				raw := fmt.Appendf(nil, `{"id":%q,"a":"f%d"}`, id, k)
				es[k] = Entry{ID: idOf(raw, id), Raw: raw}
			}
		}
		a := s.Begin(len(es))
		a.Add(es)
		a.Rollback()
		if got := contents(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("trial %d: the rollback did not restore the snapshot", trial)
		}
	}
}

// Ids past what a record's 32 bits describe (longer than 2047 bytes, or
// starting past its first MiB), empty ids and empty records are kept
// whole all the same.
func TestRecordIDEdges(t *testing.T) {
	long := func(n int) string { return string(bytes.Repeat([]byte("k"), n)) }
	far := fmt.Sprintf(`{"pad":"%s","id":"far"}`, long(1<<20))
	cases := []struct {
		name, id, raw string
		inside        bool
	}{
		{"2047-byte id", long(2047), `{"id":"` + long(2047) + `"}`, true},
		{"2048-byte id", long(2048), `{"id":"` + long(2048) + `"}`, false},
		{"id past the first MiB", "far", far, false},
		{"empty id", "", `{"id":""}`, false},
		{"empty record", "x", ``, false},
	}
	s := NewSnapshot(0)
	for _, c := range cases {
		raw := []byte(c.raw)
		id := c.id
		if c.id != "" && bytes.Contains(raw, []byte(c.id)) {
			id = idOf(raw, c.id)
		}
		s.put(id, raw)
		pos, got, ok := s.Locate(c.id)
		if !ok || string(got) != c.raw || got == nil {
			t.Errorf("%s: Locate = %.40q %v", c.name, got, ok)
			continue
		}
		if r := s.at(int32(pos)); (r.id&idsFlag == 0) != c.inside || r.idIn(s.ids) != c.id {
			t.Errorf("%s: kept inside the record %v, want %v; id %.40q", c.name, r.id&idsFlag == 0, c.inside, r.idIn(s.ids))
		}
	}
	if s.Len() != len(cases) {
		t.Errorf("Len %d, want %d", s.Len(), len(cases))
	}
}

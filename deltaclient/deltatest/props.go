package deltatest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// fields lists the properties a query names in $select, $filter and
// $orderby.
func (q *query) fields() []string {
	if q == nil {
		return nil
	}
	out := append([]string(nil), q.sel...)
	for _, k := range q.orderby {
		out = append(out, k.field)
	}
	return append(out, q.filter.fields()...)
}

func (f *filter) fields() []string {
	if f == nil {
		return nil
	}
	var out []string
	var walk func(n node)
	walk = func(n node) {
		switch n := n.(type) {
		case cmpNode:
			out = append(out, n.field)
		case inNode:
			out = append(out, n.field)
		case boolNode:
			walk(n.left)
			walk(n.right)
		case notNode:
			walk(n.n)
		}
	}
	walk(f.root)
	return out
}

// unknownProperty checks names against the properties of es, as its type
// in $metadata declares them (from a record): a real service answers 400
// for a property its type does not have. An empty set is an open type and
// takes any name.
func (s *Server) unknownProperty(es *entitySet, names []string) error {
	if len(names) == 0 {
		return nil
	}
	var sample []byte
	if es.noDelta {
		if len(es.rowsOnly) > 0 {
			sample = es.rowsOnly[0]
		}
	} else {
		s.mu.Lock()
		for _, id := range es.order {
			if r := es.current[id]; r != nil {
				sample = r.json()
				break
			}
		}
		s.mu.Unlock()
	}
	if sample == nil {
		return nil
	}
	for _, n := range names {
		if rawjson.Lookup(sample, n) == nil {
			return badQuery("Could not find a property named '%s' on type '%s'.", n, es.name)
		}
	}
	return nil
}

// systemOption returns the first system query option ($…) of r, "" for
// none.
func systemOption(r *http.Request) string {
	for k := range rawQuery(r.URL.RawQuery) {
		if strings.HasPrefix(k, "$") {
			return k
		}
	}
	return ""
}

// keySegment splits "customers(<id>)" into the set and the key.
func keySegment(seg string) (set, key string, ok bool) {
	set, rest, ok := strings.Cut(seg, "(")
	key, ok2 := strings.CutSuffix(rest, ")")
	if !ok || !ok2 || key == "" || strings.ContainsAny(key, "()/") {
		return "", "", false
	}
	return set, strings.Trim(key, "'"), true
}

// setName is the set a path segment names, with or without a key.
func setName(seg string) string {
	if set, _, ok := keySegment(seg); ok {
		return set
	}
	return seg
}

// serveByKey answers one record of es by its id, the entity-id a 4.0
// $deletedEntity names: the record while it exists, 404 once it is gone.
func (s *Server) serveByKey(w http.ResponseWriter, r *http.Request, companyURL string, es *entitySet, key string) {
	if k := systemOption(r); k != "" {
		writeError(w, http.StatusNotImplemented, "NotImplemented", "the query option "+k+" on a single record is not implemented by the demo service")
		return
	}
	var raw []byte
	if !es.noDelta {
		s.mu.Lock()
		// Ids are lowercase GUIDs; a client may write the key in capitals.
		if rec := es.current[strings.ToLower(key)]; rec != nil {
			raw = rec.json()
		}
		s.mu.Unlock()
	} else {
		for _, row := range es.rowsOnly {
			if string(rawjson.Lookup(row, "lineNumber")) == key {
				raw = row
				break
			}
		}
	}
	if len(raw) < 2 || raw[0] != '{' {
		writeError(w, http.StatusNotFound, "BadRequest_NotFound", fmt.Sprintf("The %s record %s does not exist.", es.name, key))
		return
	}
	ctx := strings.Replace(companyURL, "/companies(", "/$metadata#companies(", 1) + "/" + es.name + "/$entity"
	body := fmt.Appendf(nil, `{"@odata.context":%q`, ctx)
	if len(raw) > 2 {
		body = append(body, ',')
	}
	body = append(body, raw[1:]...)
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	w.Write(body)
}

package deltatest

import (
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

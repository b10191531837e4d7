package deltaclient

import (
	"fmt"
	"sort"
	"strings"
)

// UnknownEntityError is an --entity the service document does not list.
// Near are the listed names closest to it, best first.
type UnknownEntityError struct {
	Name  string
	Near  []string
	Known []string
}

func (e *UnknownEntityError) Error() string {
	s := fmt.Sprintf("--entity %q: the service has no entity set of that name", e.Name)
	switch {
	case len(e.Near) > 0:
		s += "; did you mean " + strings.Join(e.Near, " or ") + "?"
	case len(e.Known) > 0:
		names := e.Known
		if len(names) > 8 {
			names = append(names[:8:8], "…")
		}
		s += "; it has " + strings.Join(names, ", ")
	}
	return s + " ('deltascope probe' lists them all)"
}

// checkEntities returns an *UnknownEntityError for the first of names the
// service document does not list (by name or URL).
func checkEntities(names []string, doc []EntitySetInfo) error {
	known := map[string]bool{}
	var list []string
	for _, s := range doc {
		if s.Kind != "" && s.Kind != "EntitySet" {
			continue
		}
		known[s.Name], known[s.URL] = true, true
		if s.Name != "companies" {
			list = append(list, s.Name)
		}
	}
	for _, n := range names {
		if !known[n] {
			return &UnknownEntityError{Name: n, Near: nearest(n, list), Known: list}
		}
	}
	return nil
}

// nearest returns up to two names close to n: the same but for case, or
// within a few edits.
func nearest(n string, names []string) []string {
	type cand struct {
		name string
		d    int
	}
	var cs []cand
	ln := strings.ToLower(n)
	for _, name := range names {
		l := strings.ToLower(name)
		d := editDistance(ln, l)
		if strings.HasPrefix(l, ln) || strings.HasPrefix(ln, l) {
			d = min(d, 1)
		}
		if d <= max(2, len(n)/3) {
			cs = append(cs, cand{name, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < 2; i++ {
		out = append(out, cs[i].name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package deltatest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// query is the system query options of one collection request that the
// demo implements: $select, $filter, $orderby, $top, $skip, $count.
type query struct {
	filter  *filter
	sel     []string // nil: every property
	orderby []orderKey
	top     int // -1: none
	skip    int
	count   bool
}

type orderKey struct {
	field string
	desc  bool
}

// queryError is a query option the demo cannot answer: 400 for a malformed
// one, 501 for a valid one it does not implement (never silently ignored).
type queryError struct {
	status int
	msg    string
}

func (e *queryError) Error() string { return e.msg }

func badQuery(format string, a ...any) error {
	return &queryError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

func notImplemented(format string, a ...any) error {
	return &queryError{http.StatusNotImplemented, fmt.Sprintf(format, a...)}
}

// parseQuery reads the system query options of a collection request.
func parseQuery(q map[string]string) (*query, error) {
	out := &query{top: -1}
	for k, v := range q {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		var err error
		switch strings.ToLower(k) {
		case "$filter":
			out.filter, err = parseFilter(v)
		case "$select":
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				if !isIdent(f) && f != "*" {
					return nil, notImplemented("$select of %q is not supported here: only property names", f)
				}
				out.sel = append(out.sel, f)
			}
			if slices.Contains(out.sel, "*") {
				out.sel = nil
			}
		case "$orderby":
			for _, part := range strings.Split(v, ",") {
				fields := strings.Fields(part)
				if len(fields) == 0 || len(fields) > 2 || !isIdent(fields[0]) {
					return nil, badQuery("$orderby %q is not a property name with an optional asc or desc", part)
				}
				key := orderKey{field: fields[0]}
				if len(fields) == 2 {
					switch strings.ToLower(fields[1]) {
					case "asc":
					case "desc":
						key.desc = true
					default:
						return nil, badQuery("$orderby direction %q is neither asc nor desc", fields[1])
					}
				}
				out.orderby = append(out.orderby, key)
			}
		case "$top", "$skip":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 0 {
				return nil, badQuery("%s must be a non-negative integer, not %q", k, v)
			}
			if strings.EqualFold(k, "$top") {
				out.top = n
			} else {
				out.skip = n
			}
		case "$count":
			switch v {
			case "true":
				out.count = true
			case "false":
			default:
				return nil, badQuery("$count must be true or false, not %q", v)
			}
		case "$skiptoken", "$deltatoken", "$format":
			// $skiptoken is served before the query is read; $format=json
			// is what every answer is.
			if strings.EqualFold(k, "$format") && v != "json" && !strings.HasPrefix(v, "application/json") {
				return nil, notImplemented("$format=%s is not supported: the demo answers JSON only", v)
			}
		default:
			return nil, notImplemented("the query option %s is not implemented by the demo service", k)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// key identifies the listing a query gives, for reuse while the set holds
// still.
func (q *query) key() string {
	if q == nil {
		return ""
	}
	var b strings.Builder
	if q.filter != nil {
		b.WriteString(q.filter.text)
	}
	fmt.Fprintf(&b, "|%v|%v|%d|%d", q.sel, q.orderby, q.top, q.skip)
	return b.String()
}

// list filters, orders and pages records. Without $select the records
// come back as they are (their JSON is made as their page is sent); with
// it, as projected items.
func (q *query) list(recs []*record) (out []*record, items [][]byte, total int) {
	matched := recs[:0:0]
	for _, r := range recs {
		if q.filter.matches(r) {
			matched = append(matched, r)
		}
	}
	if len(q.orderby) > 0 {
		// The sort keys are read once per record, not per comparison: a
		// record of the initial data makes its JSON to be read.
		type keyed struct {
			r    *record
			keys [][]byte
		}
		ks := make([]keyed, len(matched))
		for i, r := range matched {
			ks[i] = keyed{r: r, keys: make([][]byte, len(q.orderby))}
			var raw []byte
			for j, k := range q.orderby {
				if k.field == "id" && r.raw == nil {
					ks[i].keys[j] = []byte(`"` + r.id + `"`) // ids are GUIDs: no escapes
					continue
				}
				if raw == nil {
					raw = r.json()
				}
				ks[i].keys[j] = rawjson.Lookup(raw, k.field)
			}
		}
		slices.SortStableFunc(ks, func(a, b keyed) int {
			for j, k := range q.orderby {
				c := compareJSON(a.keys[j], b.keys[j])
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
		for i := range ks {
			matched[i] = ks[i].r
		}
	}
	total = len(matched)
	matched = matched[min(q.skip, len(matched)):]
	if q.top >= 0 && q.top < len(matched) {
		matched = matched[:q.top]
	}
	if q.sel == nil {
		return matched, nil, total
	}
	items = make([][]byte, len(matched))
	for i, r := range matched {
		if b, ok := q.projectInitial(r); ok {
			items[i] = b
			continue
		}
		items[i] = q.project(r.json())
	}
	return nil, items, total
}

// projectInitial answers a $select of id and lastModifiedDateTime for a
// record of the initial data without making its JSON, as a database
// answers a key scan from an index.
func (q *query) projectInitial(r *record) ([]byte, bool) {
	if r.raw != nil || r.es == nil {
		return nil, false
	}
	for _, f := range q.sel {
		if f != "id" && f != "lastModifiedDateTime" {
			return nil, false
		}
	}
	out := append([]byte(nil), r.es.head...) // {"@odata.etag":"...",
	n := 0
	if slices.Contains(q.sel, "id") {
		out = append(append(append(out, `"id":"`...), r.id...), '"')
		n++
	}
	if slices.Contains(q.sel, "lastModifiedDateTime") {
		if n > 0 {
			out = append(out, ',')
		}
		t := r.es.born.Add(-time.Duration(r.i+1) * time.Hour)
		out = append(t.AppendFormat(append(out, `"lastModifiedDateTime":"`...), time.RFC3339Nano), '"')
		n++
	}
	if n == 0 {
		out = out[:len(out)-1] // the etag's comma
	}
	return append(out, '}'), true
}

// project keeps the selected properties and the etag.
func (q *query) project(raw []byte) []byte {
	if q == nil || q.sel == nil {
		return raw
	}
	out := []byte{'{'}
	rawjson.Members(raw, func(name, value []byte) bool {
		if string(name) == "@odata.etag" || slices.Contains(q.sel, string(name)) {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = strconv.AppendQuote(out, string(name))
			out = append(out, ':')
			out = append(out, value...)
		}
		return true
	})
	return append(out, '}')
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// filter is a parsed $filter: comparisons of a property with a literal
// (eq ne gt ge lt le), "in" lists, and, or, not and parentheses.
type filter struct {
	text string // as given, for links
	root node
}

type node interface {
	eval(r *recordView) bool
}

// recordView makes a record's JSON only when a node needs it: a filter on
// lastModifiedDateTime alone reads no initial record's JSON (the demo's
// index on it, as a real service has one).
type recordView struct {
	r   *record
	raw []byte
}

func (v *recordView) lookup(field string) []byte {
	if v.raw == nil {
		v.raw = v.r.json()
	}
	return rawjson.Lookup(v.raw, field)
}

// modified is lastModifiedDateTime of a record of the initial data,
// without its JSON; ok is false for any other record.
func (v *recordView) modified() (time.Time, bool) {
	if v.r.raw != nil || v.r.es == nil {
		return time.Time{}, false
	}
	return v.r.es.born.Add(-time.Duration(v.r.i+1) * time.Hour), true
}

type cmpNode struct {
	field string
	op    string
	lit   literal
}

type inNode struct {
	field string
	lits  []literal
}

type boolNode struct {
	and         bool
	left, right node
}

type notNode struct{ n node }

// literal is an OData literal: a string, number, boolean, null, GUID or
// date-time, compared with a JSON value by its kind.
type literal struct {
	kind byte // 's' string, 'n' number, 'b' bool, 'z' null, 't' time, 'g' guid
	s    string
	n    float64
	t    time.Time
}

func (f *filter) matches(r *record) bool {
	if r == nil {
		return false
	}
	return f == nil || f.root.eval(&recordView{r: r})
}

func (c cmpNode) eval(r *recordView) bool {
	var d int
	var ok bool
	if t, known := r.modified(); known && c.field == "lastModifiedDateTime" && c.lit.kind == 't' {
		d, ok = t.Compare(c.lit.t), true
	} else {
		d, ok = c.lit.compare(r.lookup(c.field))
	}
	if !ok {
		return c.op == "ne"
	}
	switch c.op {
	case "eq":
		return d == 0
	case "ne":
		return d != 0
	case "gt":
		return d > 0
	case "ge":
		return d >= 0
	case "lt":
		return d < 0
	}
	return d <= 0
}

func (n inNode) eval(r *recordView) bool {
	v := r.lookup(n.field)
	for _, l := range n.lits {
		if d, ok := l.compare(v); ok && d == 0 {
			return true
		}
	}
	return false
}

func (n boolNode) eval(r *recordView) bool {
	if n.and {
		return n.left.eval(r) && n.right.eval(r)
	}
	return n.left.eval(r) || n.right.eval(r)
}

func (n notNode) eval(r *recordView) bool { return !n.n.eval(r) }

// compare says how the JSON value v compares with the literal: v - lit in
// sign. ok is false when they cannot be compared (a missing property, a
// string against a number).
func (l literal) compare(v []byte) (int, bool) {
	if v == nil {
		return 0, false
	}
	if string(v) == "null" {
		if l.kind == 'z' {
			return 0, true
		}
		return 0, false
	}
	switch l.kind {
	case 'z':
		return 1, true
	case 'n':
		x, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return 0, false
		}
		return cmpFloat(x, l.n), true
	case 'b':
		return boolCmp(string(v) == "true", l.s == "true"), true
	}
	s, ok := rawjson.String(v)
	if !ok {
		return 0, false
	}
	switch l.kind {
	case 't':
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(l.t), true
	case 'g':
		return strings.Compare(strings.ToLower(s), l.s), true
	}
	return strings.Compare(s, l.s), true
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func boolCmp(a, b bool) int {
	if a == b {
		return 0
	}
	if a {
		return 1
	}
	return -1
}

// compareJSON orders two JSON values for $orderby: numbers by value,
// strings by their text, missing and null first.
func compareJSON(a, b []byte) int {
	if len(a) == 0 || string(a) == "null" || len(b) == 0 || string(b) == "null" {
		return boolCmp(len(a) > 0 && string(a) != "null", len(b) > 0 && string(b) != "null")
	}
	if a[0] == '"' && b[0] == '"' {
		if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
			return bytes.Compare(a[1:len(a)-1], b[1:len(b)-1]) // no escapes: the text as is
		}
		sa, _ := rawjson.String(a)
		sb, _ := rawjson.String(b)
		return strings.Compare(sa, sb)
	}
	x, err1 := strconv.ParseFloat(string(a), 64)
	y, err2 := strconv.ParseFloat(string(b), 64)
	if err1 == nil && err2 == nil {
		return cmpFloat(x, y)
	}
	return bytes.Compare(a, b)
}

func parseFilter(q string) (*filter, error) {
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	p := &filterParser{toks: tokenize(q)}
	n, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = badQuery("unexpected %q in $filter %q", p.toks[p.i], q)
	}
	if err != nil {
		var qe *queryError
		if errors.As(err, &qe) {
			return nil, err
		}
		return nil, badQuery("$filter %q: %v", q, err)
	}
	return &filter{text: q, root: n}, nil
}

type filterParser struct {
	toks []string
	i    int
}

func (p *filterParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *filterParser) or() (node, error) {
	left, err := p.and()
	for err == nil && strings.EqualFold(p.peek(), "or") {
		p.next()
		var right node
		right, err = p.and()
		left = boolNode{left: left, right: right}
	}
	return left, err
}

func (p *filterParser) and() (node, error) {
	left, err := p.unary()
	for err == nil && strings.EqualFold(p.peek(), "and") {
		p.next()
		var right node
		right, err = p.unary()
		left = boolNode{and: true, left: left, right: right}
	}
	return left, err
}

func (p *filterParser) unary() (node, error) {
	switch t := p.next(); {
	case t == "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("missing )")
		}
		return n, nil
	case strings.EqualFold(t, "not"):
		n, err := p.unary()
		return notNode{n}, err
	case p.peek() == "(":
		return nil, notImplemented("the $filter function %s() is not implemented by the demo service; use eq, ne, gt, ge, lt, le, in, and, or, not", t)
	case !isIdent(t):
		return nil, fmt.Errorf("expected a property name, found %q", t)
	default:
		op := strings.ToLower(p.next())
		switch op {
		case "eq", "ne", "gt", "ge", "lt", "le":
			lit, err := parseLiteral(p.next())
			return cmpNode{field: t, op: op, lit: lit}, err
		case "in":
			if p.next() != "(" {
				return nil, errors.New("expected ( after in")
			}
			n := inNode{field: t}
			for {
				lit, err := parseLiteral(p.next())
				if err != nil {
					return nil, err
				}
				n.lits = append(n.lits, lit)
				switch p.next() {
				case ",":
					continue
				case ")":
					return n, nil
				}
				return nil, errors.New("expected , or ) in an in list")
			}
		case "has", "add", "sub", "mul", "div", "mod":
			return nil, notImplemented("the $filter operator %s is not implemented by the demo service", op)
		}
		return nil, fmt.Errorf("expected a comparison after %s, found %q", t, op)
	}
}

func parseLiteral(t string) (literal, error) {
	switch {
	case len(t) >= 2 && t[0] == '\'' && t[len(t)-1] == '\'':
		return literal{kind: 's', s: strings.ReplaceAll(t[1:len(t)-1], "''", "'")}, nil
	case t == "true" || t == "false":
		return literal{kind: 'b', s: t}, nil
	case t == "null":
		return literal{kind: 'z'}, nil
	case isGUID(t):
		return literal{kind: 'g', s: strings.ToLower(t)}, nil
	}
	if tm, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return literal{kind: 't', t: tm}, nil
	}
	if n, err := strconv.ParseFloat(t, 64); err == nil {
		return literal{kind: 'n', n: n}, nil
	}
	return literal{}, fmt.Errorf("%q is not a literal the demo understands (a 'string', number, true, false, null, GUID or date-time)", t)
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// tokenize splits a $filter into names, literals, operators and
// punctuation; quoted strings stay whole (” is a quote inside one).
func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, string(c))
			i++
		case c == '\'':
			j := i + 1
			for j < len(s) {
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			toks = append(toks, s[i:min(j+1, len(s))])
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t(),'", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

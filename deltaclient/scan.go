package deltaclient

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// The one-pass page scanner. A page is walked once: each record is
// validated, its nesting measured, its end found and its first top-level
// "id" member captured in the same walk, where the token decoder and then
// the classification used to read every record three or four times.
//
// It handles the pages real services send; anything else, valid or not
// (escaped member names at the page's top level, a BOM, a repeated link,
// a record that is not an object or nests too deep, malformed JSON), makes
// it give up, and the page is decoded again by decodeTokens, whose
// results and errors are the reference: the scanner accepts only what
// that decoder accepts and finds the same entries (FuzzScanMatchesTokens).

// scanner walks b; i is the next byte.
type scanner struct {
	b []byte
	i int
	// After a record's first "id" member (watch), idAgain reports a
	// string ending in "id" (the bytes "id" with quotes): the test the
	// classification's fast path makes with a search of the rest.
	watch, idAgain bool
}

// errScan is how the scanner gives up; the caller falls back.
type errScan struct{}

// scanPage decodes a page like decodeTokens, or returns ok == false.
func scanPage(body []byte, idn Identity) (p page, err error, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, giveUp := r.(errScan); !giveUp {
				panic(r)
			}
			p, err, ok = page{}, nil, false
		}
	}()
	s := scanner{b: body}
	p = page{count: -1}
	s.space()
	s.expect('{')
	var sawValue, sawNext, sawDelta, sawCount bool
	for first := true; ; first = false {
		s.space()
		if s.peek() == '}' {
			if !first {
				s.fail() // a trailing comma, or a name missing: let the decoder say
			}
			s.i++
			break
		}
		name := s.name()
		s.space()
		s.expect(':')
		s.space()
		switch name {
		case "value":
			if sawValue {
				s.fail()
			}
			sawValue = true
			if err := s.values(idn, &p); err != nil {
				return p, err, true
			}
		case "@odata.nextLink", "@nextLink":
			if sawNext {
				s.fail()
			}
			sawNext = true
			p.nextLink = s.plainString()
		case "@odata.deltaLink", "@deltaLink":
			if sawDelta {
				s.fail()
			}
			sawDelta = true
			p.deltaLink = s.plainString()
		case "@odata.count", "@count":
			if sawCount {
				s.fail()
			}
			sawCount = true
			start := s.i
			if c := s.peek(); c == '{' || c == '[' {
				s.fail()
			}
			s.value(0)
			if n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64); err == nil {
				p.count = n
			} else if s.b[start] == '-' || (s.b[start] >= '0' && s.b[start] <= '9') {
				s.fail() // a number ParseInt does not take: the decoder decides
			}
		default:
			s.value(0)
		}
		s.space()
		if s.peek() == ',' {
			s.i++
			s.space()
			if s.peek() == '}' {
				s.fail()
			}
			continue
		}
		s.expect('}')
		break
	}
	if !sawValue {
		s.fail()
	}
	return p, nil, true
}

// values reads the value array: each item an object, classified.
func (s *scanner) values(idn Identity, p *page) error {
	s.expect('[')
	s.space()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '{' {
			s.fail()
		}
		start := s.i
		idVal := s.record()
		raw := s.b[start:s.i:s.i]
		item := len(p.entries) + p.links + 1
		e, err := idn.classifyScanned(raw, item, idVal, s.idAgain)
		if err != nil {
			return err
		}
		if e.Kind == linkRow {
			p.links++
		} else {
			if p.entries == nil {
				// Sized from the first record: growing a page's entries
				// by doubling was a fifth of a baseline's garbage.
				p.entries = getEntries((len(s.b)-start)/(len(raw)+1)*9/8 + 8)
			}
			p.entries = append(p.entries, e)
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case ']':
			s.i++
			return nil
		default:
			s.fail()
		}
	}
}

// record scans one object at the top level of an item and returns the
// value of its first member named "id" (nil when none).
func (s *scanner) record() (idVal []byte) {
	s.watch, s.idAgain = false, false
	s.i++ // '{'
	s.space()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			s.fail()
		}
		nameStart := s.i
		s.str()
		isID := s.i-nameStart == 4 && s.b[nameStart+1] == 'i' && s.b[nameStart+2] == 'd'
		if s.i < len(s.b) && s.b[s.i] == ':' { // compact JSON: no space to skip
			s.i++
		} else {
			s.space()
			s.expect(':')
		}
		s.space()
		vStart := s.i
		if s.peek() == '"' { // most values are strings: no call to value
			s.str()
		} else {
			s.value(1)
		}
		if isID && idVal == nil {
			idVal, s.watch = s.b[vStart:s.i], true
		}
		if s.i < len(s.b) && s.b[s.i] == ',' { // compact JSON: the next name follows
			s.i++
			if s.i < len(s.b) && s.b[s.i] == '"' {
				continue
			}
			s.space()
			continue
		}
		s.space()
		switch s.peek() {
		case ',':
			s.i++
			s.space()
		case '}':
			s.i++
			return idVal
		default:
			s.fail()
		}
	}
}

// value scans any value at nesting depth (0 for a page member, 1 inside
// a record); past maxDepth it gives up (the decoder reports it).
func (s *scanner) value(depth int) {
	switch c := s.peek(); {
	case c == '"':
		s.str()
	case c == '{':
		if depth+1 > maxDepth {
			s.fail()
		}
		s.i++
		s.space()
		if s.peek() == '}' {
			s.i++
			return
		}
		for {
			if s.peek() != '"' {
				s.fail()
			}
			s.str()
			s.space()
			s.expect(':')
			s.space()
			if s.peek() == '"' {
				s.str()
			} else {
				s.value(depth + 1)
			}
			s.space()
			if s.peek() == ',' {
				s.i++
				s.space()
				continue
			}
			s.expect('}')
			return
		}
	case c == '[':
		if depth+1 > maxDepth {
			s.fail()
		}
		s.i++
		s.space()
		if s.peek() == ']' {
			s.i++
			return
		}
		for {
			if s.peek() == '"' {
				s.str()
			} else {
				s.value(depth + 1)
			}
			s.space()
			if s.peek() == ',' {
				s.i++
				s.space()
				continue
			}
			s.expect(']')
			return
		}
	case c == 't':
		s.literal("true")
	case c == 'f':
		s.literal("false")
	case c == 'n':
		s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		s.number()
	default:
		s.fail()
	}
}

// plain marks the bytes a string can hold without a closer look.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special has the high bit set in each byte of w that is a quote, a
// backslash or a control character (eight bytes at a time; the lowest
// one set is always right, borrows only reach higher bytes).
func special(w uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lo * '"')
	bs := w ^ (lo * '\\')
	return ((q-lo)&^q | (bs-lo)&^bs | (w-lo*0x20)&^w) & hi
}

// str scans a string; invalid UTF-8 passes, as the decoder allows it.
func (s *scanner) str() {
	b, i := s.b, s.i+1
	for {
		for i+8 <= len(b) {
			if m := special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				// b[i] is the special byte: no second look through plain.
				i += bits.TrailingZeros64(m) / 8
				goto found
			}
			i += 8
		}
		for i < len(b) && plain[b[i]] {
			i++
		}
		if i >= len(b) {
			s.fail()
		}
	found:
		switch b[i] {
		case '"':
			// The bytes `"id"` end here when the string is "id" or ends
			// in an escaped quote and id (a quote inside one is escaped).
			if s.watch && b[i-1] == 'd' && b[i-2] == 'i' && b[i-3] == '"' {
				s.idAgain = true
			}
			s.i = i + 1
			return
		case '\\':
			if i+1 >= len(b) {
				s.fail()
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !hex4(b[i+2:i+6]) {
					s.fail()
				}
				i += 6
			default:
				s.fail()
			}
		default: // a control character
			s.fail()
		}
	}
}

func hex4(h []byte) bool {
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// plainString scans a string and returns it; one with escapes or invalid
// UTF-8 gives up (links rarely have them; the decoder unescapes them and
// replaces invalid bytes).
func (s *scanner) plainString() string {
	if s.peek() != '"' {
		s.fail()
	}
	start := s.i
	s.str()
	inner := s.b[start+1 : s.i-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		s.fail()
	}
	return string(inner)
}

// name scans a member name of the page object; escaped names give up.
func (s *scanner) name() string {
	if s.peek() != '"' {
		s.fail()
	}
	start := s.i
	s.str()
	inner := s.b[start+1 : s.i-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		s.fail()
	}
	switch string(inner) { // no allocation for the names compared
	case "value", "@odata.nextLink", "@nextLink", "@odata.deltaLink", "@deltaLink", "@odata.count", "@count":
		return string(inner)
	}
	return ""
}

func (s *scanner) number() {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.fail()
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.fail()
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.fail()
		}
	}
	// A number must end at a delimiter: "1x" is not a number.
	if i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			s.fail()
		}
	}
	s.i = i
}

func (s *scanner) literal(lit string) {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		s.fail()
	}
	s.i += len(lit)
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			s.fail()
		}
	}
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	if s.i >= len(s.b) {
		s.fail()
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) {
	if s.peek() != c {
		s.fail()
	}
	s.i++
}

func (s *scanner) fail() { panic(errScan{}) }

// classifyScanned is classify for a record whose first top-level "id"
// member the scanner found: the same fast path without walking the
// members again, else the full classification.
func (idn Identity) classifyScanned(raw []byte, item int, idVal []byte, idAgain bool) (Entry, error) {
	if len(idn.KeyFields) == 0 && len(idVal) > 2 && idVal[0] == '"' && !idAgain && plainRecord(raw) {
		id, _ := rawjson.StringView(idVal)
		if id != "" && !needsQuote(id) {
			return Entry{Kind: Record, ID: id, Raw: raw}, nil
		}
	}
	return idn.classifySlow(raw, item)
}

// Page entry slices go round: once a page's entries are handed on (the
// callers of BaselinePages and ReadPages keep copies, Delta appends them
// to its result) the slice holds the next page's. A baseline of a million
// records made some 70 MB of them as garbage.
var entrySlices sync.Pool

// getEntries returns an empty slice with room for n entries.
func getEntries(n int) []Entry {
	if v, ok := entrySlices.Get().(*[]Entry); ok && cap(*v) >= n {
		return (*v)[:0]
	}
	return make([]Entry, 0, n)
}

// putEntries gives a page's entries back, cleared so they hold no page.
func putEntries(es []Entry) {
	if cap(es) == 0 {
		return
	}
	es = es[:cap(es)]
	clear(es)
	entrySlices.Put(&es)
}

package deltaclient

import (
	"bytes"
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
	specialMap
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
	s.initSpecials()
	defer s.putSpecials()
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
	keyed := len(idn.KeyFields) > 0
	for {
		if s.peek() != '{' {
			s.fail()
		}
		start := s.i
		end, idVal, plain := s.record(start)
		s.i = end
		raw := s.b[start:end:end]
		var e Entry
		if id, ok := plainID(idVal); ok && plain && !keyed {
			e = Entry{Kind: Record, ID: id, Raw: raw}
		} else {
			var err error
			if e, err = idn.classifySlow(raw, len(p.entries)+p.links+1); err != nil {
				return err
			}
			if e.Kind == linkRow {
				p.links++
				goto next
			}
			p.guessed = p.guessed || e.guessedKey != ""
		}
		if p.entries == nil {
			// Sized from the first record: growing a page's entries
			// by doubling was a fifth of a baseline's garbage. Capped:
			// a tiny first record before large ones would ask for 80
			// bytes of entry per 10 bytes of page (2 GB for a page of
			// 256 MiB); past the cap they grow by doubling.
			p.entries = getEntries(min((len(s.b)-start)/(len(raw)+1)*9/8+8, maxPresized))
		}
		p.entries = append(p.entries, e)
	next:
		if end < len(s.b) && s.b[end] == ',' { // compact JSON: the next record follows
			s.i++
			if s.i < len(s.b) && s.b[s.i] == '{' {
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
		case ']':
			s.i++
			return nil
		default:
			s.fail()
		}
	}
}

// record scans the object at b[i] at the top level of an item and
// returns the index after it, the value of its member named "id" (nil
// when none) and whether the record is plain: no member name starting
// with @ but @odata.etag (removals and links carry @removed,
// @odata.removed or an @odata.context), no escaped member name, no second
// "id". The classification of a plain record with a string id is that id
// (fastRecord is the same rule for the token decoder).
func (s *scanner) record(i int) (end int, idVal []byte, plain bool) {
	b := s.b
	plain = true
	// w holds the special bits of b[wb:wb+64]: most strings end within
	// the window a string before them loaded, found with a shift and a
	// count, no load (endOf's loads were the walk's critical path).
	wb, w := -64, uint64(0)
	i++ // '{'
	if i < len(b) && b[i] != '"' {
		i = s.spaceAt(i)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil, true
		}
	}
	for {
		if i >= len(b) || b[i] != '"' {
			s.fail()
		}
		nameStart := i
		j := i + 1
		if d := uint(j - wb); d < 64 && w>>d != 0 {
			j += bits.TrailingZeros64(w >> d)
		} else {
			wb, w = j, s.window(j)
			j = s.windowEnd(j, w)
		}
		if j >= len(b) {
			s.fail()
		}
		if b[j] != '"' {
			plain = false // an escaped name: the decoder resolves it
			j = s.strRest(j)
		}
		i = j + 1
		isID := i-nameStart == 4 && b[nameStart+1] == 'i' && b[nameStart+2] == 'd'
		if b[nameStart+1] == '@' && string(b[nameStart:i]) != `"@odata.etag"` {
			plain = false
		}
		if i < len(b) && b[i] == ':' { // compact JSON: no space to skip
			i++
		} else {
			i = s.spaceAt(i)
			if i >= len(b) || b[i] != ':' {
				s.fail()
			}
			i++
		}
		if i < len(b) && b[i] != '"' {
			i = s.spaceAt(i)
		}
		vStart := i
		if i < len(b) && b[i] == '"' { // most values are strings: no call to value
			j := i + 1
			if d := uint(j - wb); d < 64 && w>>d != 0 {
				j += bits.TrailingZeros64(w >> d)
			} else {
				wb, w = j, s.window(j)
				j = s.windowEnd(j, w)
			}
			if j >= len(b) {
				s.fail()
			}
			if b[j] != '"' {
				j = s.strRest(j)
			}
			i = j + 1
		} else {
			i = s.valueAt(i, 1)
		}
		if isID {
			if idVal != nil {
				plain = false // a second id: the classification reports it
			} else {
				idVal = b[vStart:i:i]
			}
		}
		if i < len(b) && b[i] == ',' { // compact JSON: the next name follows
			i++
			if i < len(b) && b[i] == '"' {
				continue
			}
			i = s.spaceAt(i)
			continue
		}
		i = s.spaceAt(i)
		if i >= len(b) {
			s.fail()
		}
		switch b[i] {
		case ',':
			i = s.spaceAt(i + 1)
		case '}':
			return i + 1, idVal, plain
		default:
			s.fail()
		}
	}
}

// value scans any value at s.i at nesting depth (0 for a page member).
func (s *scanner) value(depth int) { s.i = s.valueAt(s.i, depth) }

// valueAt scans the value at b[i] at nesting depth (0 for a page member,
// 1 inside a record) and returns the index after it; past maxDepth it
// gives up (the decoder reports it).
func (s *scanner) valueAt(i, depth int) int {
	b := s.b
	if i >= len(b) {
		s.fail()
	}
	switch c := b[i]; {
	case c == '"':
		return s.strAt(i)
	case c == '{':
		if depth+1 > maxDepth {
			s.fail()
		}
		i = s.spaceAt(i + 1)
		if i < len(b) && b[i] == '}' {
			return i + 1
		}
		for more := true; more; {
			if i >= len(b) || b[i] != '"' {
				s.fail()
			}
			i = s.spaceAt(s.strAt(i))
			if i >= len(b) || b[i] != ':' {
				s.fail()
			}
			i, more = s.elementAt(s.spaceAt(i+1), depth+1, '}')
		}
		return i
	case c == '[':
		if depth+1 > maxDepth {
			s.fail()
		}
		i = s.spaceAt(i + 1)
		if i < len(b) && b[i] == ']' {
			return i + 1
		}
		for more := true; more; {
			i, more = s.elementAt(i, depth+1, ']')
		}
		return i
	case c == 't':
		return s.literalAt(i, "true")
	case c == 'f':
		return s.literalAt(i, "false")
	case c == 'n':
		return s.literalAt(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.numberAt(i)
	}
	s.fail()
	return 0
}

// elementAt scans the value at b[i], a member's or an item's inside an
// object or array at depth that closes with end, then the comma or end
// after it: it returns the index past those and whether another follows.
func (s *scanner) elementAt(i, depth int, end byte) (int, bool) {
	b := s.b
	if i < len(b) && b[i] == '"' {
		i = s.strAt(i)
	} else {
		i = s.valueAt(i, depth)
	}
	i = s.spaceAt(i)
	if i < len(b) && b[i] == ',' {
		return s.spaceAt(i + 1), true
	}
	if i >= len(b) || b[i] != end {
		s.fail()
	}
	return i + 1, false
}

// strAt scans the string at b[i] and returns the index after it.
func (s *scanner) strAt(i int) int {
	j := s.endOf(i + 1)
	if j >= len(s.b) {
		s.fail()
	}
	if s.b[j] != '"' {
		j = s.strRest(j)
	}
	return j + 1
}

// strRest goes on from b[j], a special byte inside a string, to the string's
// closing quote and returns its index; invalid UTF-8 passes, as the
// decoder allows it.
func (s *scanner) strRest(j int) int {
	b := s.b
	for {
		if j >= len(b) {
			s.fail()
		}
		switch b[j] {
		case '"':
			return j
		case '\\':
			if j+1 >= len(b) {
				s.fail()
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(b) || !hex4(b[j+2:j+6]) {
					s.fail()
				}
				j += 6
			default:
				s.fail()
			}
		default: // a control character
			s.fail()
		}
		j = s.endOf(j)
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
	s.i = s.strAt(start)
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
	s.i = s.strAt(start)
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

func (s *scanner) numberAt(i int) int {
	b := s.b
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
	s.delimiter(i) // "1x" is not a number
	return i
}

func (s *scanner) literalAt(i int, lit string) int {
	if !bytes.HasPrefix(s.b[i:], []byte(lit)) {
		s.fail()
	}
	i += len(lit)
	s.delimiter(i)
	return i
}

// delimiter fails unless a scalar ending before b[i] ends at a delimiter.
func (s *scanner) delimiter(i int) {
	if i < len(s.b) {
		switch s.b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			s.fail()
		}
	}
}

func (s *scanner) space() { s.i = s.spaceAt(s.i) }

// spaceAt returns the index of the first byte at or after i that is not
// whitespace.
func (s *scanner) spaceAt(i int) int { return rawjson.SkipSpace(s.b, i) }

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

// plainID is the id of a plain record (see record) from the raw value
// of its id member: a string that needs no quoting (see textID), else
// ok == false and the record is classified in full.
func plainID(idVal []byte) (id string, ok bool) {
	if len(idVal) <= 2 || idVal[0] != '"' {
		return "", false
	}
	id, _ = rawjson.StringView(idVal)
	return id, id != "" && !needsQuote(id)
}

// maxPresized bounds the entries a page is given room for before its
// records are counted: 64Ki entries, 5 MiB, more than the pages of the
// services deltascope talks to hold (Business Central and Dataverse send
// up to 20,000 or 5,000 records, Graph 999).
const maxPresized = 1 << 16

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

package deltaclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// page is one decoded response of a baseline or delta round.
type page struct {
	entries   []Entry
	nextLink  string
	deltaLink string
	count     int64 // @odata.count, -1 when absent
	links     int
	// guessed: some entry's id came from a guessed key (guessedKeys
	// checks only such pages).
	guessed bool
}

// ErrNotJSON means a 200 answer whose body is not JSON, typically an HTML
// sign-in or error page served by a proxy.
var ErrNotJSON = errors.New("the server answered with something that is not JSON")

// maxDepth bounds nesting in one value so a hostile page cannot exhaust the
// stack or memory of whoever looks inside a record later.
const maxDepth = 64

// DecodePage decodes a page already in memory, as Baseline and Delta do
// with each response; Entries are subslices of body.
func DecodePage(body []byte, idn Identity) ([]Entry, error) {
	p, err := decodePage(body, idn)
	return p.entries, err
}

// MalformedError is a page that is JSON-shaped but not a valid OData
// collection page: broken JSON, a value that is not an array, an item
// that is not an object, nesting past the limit.
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// decodePage decodes one page held in body: each record is validated,
// classified and kept as a subslice of body (no copy); nothing is decoded
// into maps. The one-pass scanner does it for the pages real services
// send; the token decoder, for the rest and for every error. body must not
// be modified afterwards. Its errors are ErrNotJSON, *IdentityError or
// *MalformedError.
func decodePage(body []byte, idn Identity) (page, error) {
	p, err, ok := scanPage(body, idn)
	if !ok {
		p, err = decodeJSONPage(body, idn)
	}
	var ie *IdentityError
	if err != nil && !errors.Is(err, ErrNotJSON) && !errors.As(err, &ie) {
		err = &MalformedError{Err: err}
	}
	return p, err
}

// decodeJSONPage decodes a page as a stream of tokens: the reference the
// scanner is checked against.
func decodeJSONPage(body []byte, idn Identity) (page, error) {
	p := page{count: -1}
	start := skipBOM(body)
	if start == len(body) {
		return p, fmt.Errorf("%w: the body was empty", ErrNotJSON)
	}
	if body[start] != '{' {
		return p, fmt.Errorf("%w (it starts %q)", ErrNotJSON, excerpt(body[start:min(len(body), start+64)], 40))
	}
	// A bytes.Buffer is parsed in place: no copy into the decoder's own buffer.
	dec := jsontext.NewDecoder(bytes.NewBuffer(body), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	if _, err := dec.ReadToken(); err != nil {
		return p, malformed(dec, err)
	}
	sawValue := false
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return p, malformed(dec, err)
		}
		switch name := tok.String(); name {
		case "value":
			sawValue = true
			if err := readValues(dec, body, idn, &p); err != nil {
				return p, err
			}
		case "@odata.nextLink", "@nextLink":
			if p.nextLink, err = readString(dec, name); err != nil {
				return p, err
			}
		case "@odata.deltaLink", "@deltaLink":
			if p.deltaLink, err = readString(dec, name); err != nil {
				return p, err
			}
		case "@odata.count", "@count":
			tok, err := dec.ReadToken()
			if err != nil {
				return p, malformed(dec, err)
			}
			if tok.Kind() == '0' {
				if n, err := tok.Int(); err == nil {
					p.count = n
				}
			}
		default:
			if err := dec.SkipValue(); err != nil {
				return p, malformed(dec, err)
			}
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return p, malformed(dec, err)
	}
	if !sawValue {
		return p, errors.New(`the page has no "value" array: this URL is not an entity set collection`)
	}
	return p, nil
}

func readValues(dec *jsontext.Decoder, body []byte, idn Identity, p *page) error {
	if k := dec.PeekKind(); k != '[' {
		if k == 0 {
			_, err := dec.ReadToken()
			return malformed(dec, err)
		}
		return fmt.Errorf(`"value" is %s, not an array: this URL is not an entity set collection`, kindName(k))
	}
	if _, err := dec.ReadToken(); err != nil {
		return malformed(dec, err)
	}
	for dec.PeekKind() != ']' {
		if k := dec.PeekKind(); k != '{' {
			if k == 0 {
				_, err := dec.ReadToken()
				return malformed(dec, err)
			}
			return fmt.Errorf("item %d of \"value\" is %s, not an object", len(p.entries)+p.links+1, kindName(k))
		}
		v, err := dec.ReadValue()
		if err != nil {
			return malformed(dec, err)
		}
		// The value as it stands in body, which outlives the decoder.
		end := int(dec.InputOffset())
		v = body[end-len(v) : end : end]
		if tooDeep(v) {
			return fmt.Errorf("item %d of \"value\" nests deeper than %d levels", len(p.entries)+p.links+1, maxDepth)
		}
		e, err := idn.classify(v, len(p.entries)+p.links+1)
		if err != nil {
			return err
		}
		if e.Kind == linkRow {
			p.links++
			continue
		}
		p.entries = append(p.entries, e)
		p.guessed = p.guessed || e.guessedKey != ""
	}
	_, err := dec.ReadToken()
	return malformed(dec, err)
}

func readString(dec *jsontext.Decoder, name string) (string, error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return "", malformed(dec, err)
	}
	if tok.Kind() != '"' {
		return "", fmt.Errorf("%s is not a string", name)
	}
	return tok.String(), nil
}

// malformed wraps a decoder error with where it happened; nil stays nil.
func malformed(dec *jsontext.Decoder, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("the response ended early, after %d bytes (connection dropped or body truncated): %w", dec.InputOffset(), err)
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON at byte %d: %v", se.ByteOffset, se.Err)
	}
	return fmt.Errorf("reading the response: %w", err)
}

func kindName(k jsontext.Kind) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "missing"
}

// tooDeep reports a value nested past maxDepth. Counting brackets first
// (a fast, vectorised scan) spares the walk for ordinary flat records.
func tooDeep(v []byte) bool {
	if bytes.Count(v, []byte("{"))+bytes.Count(v, []byte("[")) <= maxDepth {
		return false
	}
	return depth(v) > maxDepth
}

// depth returns the deepest nesting of objects and arrays in a valid value.
func depth(v []byte) int {
	d, max := 0, 0
	inString := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			d++
			if d > max {
				max = d
			}
		case '}', ']':
			d--
		}
	}
	return max
}

// skipBOM returns the index of the first byte after leading whitespace
// and a UTF-8 byte order mark (sent by some IIS-hosted services).
func skipBOM(b []byte) int {
	i := 0
	for i < len(b) {
		switch {
		case b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n':
			i++
		case bytes.HasPrefix(b[i:], []byte{0xEF, 0xBB, 0xBF}):
			i += 3
		default:
			return i
		}
	}
	return i
}

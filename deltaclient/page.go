package deltaclient

import (
	"bufio"
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
}

// ErrNotJSON means a 200 answer whose body is not JSON, typically an HTML
// sign-in or error page served by a proxy.
var ErrNotJSON = errors.New("the server answered with something that is not JSON")

// maxDepth bounds nesting in one value so a hostile page cannot exhaust the
// stack or memory of whoever looks inside a record later.
const maxDepth = 64

// decodePage streams one page: each record is copied out of the decoder
// into the arena as raw bytes and classified by a top-level scan; nothing
// is decoded into maps.
func decodePage(r io.Reader, idn Identity, a *arena) (page, error) {
	p := page{count: -1}
	br := bufio.NewReaderSize(r, 64<<10)
	if first, err := peekNonSpace(br); err != nil {
		if err == io.EOF {
			return p, fmt.Errorf("%w: the body was empty", ErrNotJSON)
		}
		return p, err
	} else if first != '{' {
		head, _ := br.Peek(64)
		return p, fmt.Errorf("%w (it starts %q)", ErrNotJSON, excerpt(head, 40))
	}
	dec := jsontext.NewDecoder(br, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
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
			if err := readValues(dec, idn, a, &p); err != nil {
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

func readValues(dec *jsontext.Decoder, idn Identity, a *arena, p *page) error {
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
		if depth(v) > maxDepth {
			return fmt.Errorf("item %d of \"value\" nests deeper than %d levels", len(p.entries)+p.links+1, maxDepth)
		}
		e := idn.classify(v)
		switch e.Kind {
		case Link:
			p.links++
			continue
		case Record:
			e.Raw = a.copy(v)
		}
		p.entries = append(p.entries, e)
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

func peekNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		case 0xEF: // UTF-8 byte order mark, sent by some IIS-hosted services
			if rest, _ := br.Peek(2); bytes.Equal(rest, []byte{0xBB, 0xBF}) {
				br.Discard(2)
				continue
			}
		}
		return b, br.UnreadByte()
	}
}

// arena packs record bytes into large blocks: one allocation per block
// instead of one per record, and no size-class rounding per record.
type arena struct {
	block []byte
}

const arenaBlock = 256 << 10

func (a *arena) copy(v []byte) []byte {
	if len(v) > arenaBlock/8 {
		return bytes.Clone(v)
	}
	if cap(a.block)-len(a.block) < len(v) {
		a.block = make([]byte, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = append(a.block, v...)
	return a.block[start:len(a.block):len(a.block)]
}

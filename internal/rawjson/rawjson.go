// Package rawjson walks JSON objects held as raw bytes without decoding them,
// so records can stay in their wire form until someone needs to look inside.
//
// Every function here expects input that a validating decoder (jsontext)
// already accepted; on other input they stop early rather than panic.
package rawjson

import (
	"bytes"
	"unsafe"

	"github.com/go-json-experiment/json/jsontext"
)

// Members calls fn with the name (escapes already resolved) and the raw value
// of each member of the object obj, in order, until fn returns false.
// The name slice is only valid during the call. It is MembersRaw with the
// names unquoted.
func Members(obj []byte, fn func(name, value []byte) bool) {
	var scratch []byte
	MembersRaw(obj, func(quoted, value []byte) bool {
		name := quoted[1 : len(quoted)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			scratch, _ = jsontext.AppendUnquote(scratch[:0], quoted)
			name = scratch
		}
		return fn(name, value)
	})
}

// MembersRaw is Members with each name as it stands in obj: quoted, escapes
// unresolved. It never allocates, and the name stays valid as long as obj.
func MembersRaw(obj []byte, fn func(name, value []byte) bool) {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return
	}
	i++
	for {
		i = SkipSpace(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return
		}
		if obj[i] == ',' {
			i++
			continue
		}
		if obj[i] != '"' {
			return
		}
		end := skipString(obj, i)
		if end < 0 {
			return
		}
		name := obj[i:end]
		i = SkipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return
		}
		i = SkipSpace(obj, i+1)
		vend := SkipValue(obj, i)
		if vend < 0 {
			return
		}
		if !fn(name, obj[i:vend]) {
			return
		}
		i = vend
	}
}

// Unquote returns the name or string of a quoted JSON string, sharing
// quoted's memory when it has no escapes (see StringView).
func Unquote(quoted []byte) string {
	s, _ := StringView(quoted)
	return s
}

// Lookup returns the raw value of the first member called name, or nil.
func Lookup(obj []byte, name string) []byte {
	var found []byte
	Members(obj, func(n, v []byte) bool {
		if string(n) == name {
			found = v
			return false
		}
		return true
	})
	return found
}

// String returns the Go string of a raw JSON string value, or the raw text
// of any other scalar (numbers, true, false), and ok=false for null, objects
// and arrays.
func String(value []byte) (s string, ok bool) {
	if len(value) == 0 {
		return "", false
	}
	switch value[0] {
	case '"':
		inner := value[1 : len(value)-1]
		if bytes.IndexByte(inner, '\\') < 0 {
			return string(inner), true
		}
		out, err := jsontext.AppendUnquote(nil, value)
		if err != nil {
			return string(inner), true
		}
		return string(out), true
	case '{', '[', 'n':
		return "", false
	default:
		return string(value), true
	}
}

// StringView is String for values that are plain JSON strings without
// escapes: it returns a string sharing value's memory (no allocation). The
// caller must never modify value afterwards. Other values fall back to
// String.
func StringView(value []byte) (string, bool) {
	if len(value) >= 2 && value[0] == '"' {
		inner := value[1 : len(value)-1]
		if len(inner) == 0 {
			return "", true
		}
		if bytes.IndexByte(inner, '\\') < 0 {
			return unsafe.String(&inner[0], len(inner)), true
		}
	}
	return String(value)
}

// IsObject reports whether the raw value is a JSON object.
func IsObject(value []byte) bool {
	i := SkipSpace(value, 0)
	return i < len(value) && value[i] == '{'
}

// SkipValue returns the index just past the JSON value starting at b[i],
// or -1 when b ends first.
func SkipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the index just past the string starting at b[i] ('"').
// It jumps from quote to quote (a vectorised search) and counts the
// backslashes before each to tell an escaped quote from the end.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		i += j
		k := i - 1
		for k >= 0 && b[k] == '\\' {
			k--
		}
		if (i-1-k)%2 == 0 {
			return i + 1
		}
		i++
	}
}

// SkipSpace returns the index of the first byte of b at or after i that
// is not JSON whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// ObjectStart returns the index just past the '{' that opens obj, or -1
// when obj is not an object.
func ObjectStart(obj []byte) int {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return -1
	}
	return i + 1
}

// NextMember reads the member that follows position i of an object, where
// i is just past its '{' (ObjectStart) or just past a member's value. It
// returns the member's quoted name, its raw value and the index just past
// the value. At the object's end, or on input it cannot read, name is nil
// and next is where it stopped (at the '}' when the object ended).
func NextMember(obj []byte, i int) (name, value []byte, next int) {
	i = SkipSpace(obj, i)
	if i < len(obj) && obj[i] == ',' {
		i = SkipSpace(obj, i+1)
	}
	if i >= len(obj) || obj[i] != '"' {
		return nil, nil, i
	}
	end := skipString(obj, i)
	if end < 0 {
		return nil, nil, i
	}
	j := SkipSpace(obj, end)
	if j >= len(obj) || obj[j] != ':' {
		return nil, nil, i
	}
	j = SkipSpace(obj, j+1)
	vend := SkipValue(obj, j)
	if vend < 0 {
		return nil, nil, i
	}
	return obj[i:end], obj[j:vend], vend
}

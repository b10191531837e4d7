package model

import (
	"bytes"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// FieldChange is one changed field of an update. Path is the property name,
// dotted for members of nested objects ("address.city"); arrays are
// compared as whole values. Old and New are raw JSON; nil means absent.
type FieldChange struct {
	Path     string
	Old, New []byte
}

// member is one property of a record; name is quoted, as in the record.
type member struct{ name, value []byte }

func members(obj []byte, into []member) []member {
	rawjson.MembersRaw(obj, func(n, v []byte) bool {
		into = append(into, member{n, v})
		return true
	})
	return into
}

// find looks name up in ms, trying position hint first: two versions of a
// record from one service list their fields in the same order, so the
// first guess is nearly always right.
func find(ms []member, name []byte, hint int) ([]byte, bool) {
	if hint < len(ms) && bytes.Equal(ms[hint].name, name) {
		return ms[hint].value, true
	}
	for _, m := range ms {
		if bytes.Equal(m.name, name) {
			return m.value, true
		}
	}
	return nil, false
}

// isControl reports names of control information and annotations
// (@odata.etag, field@odata.type): they change with every write and are not
// fields a user changed.
func isControl(name []byte) bool { return bytes.IndexByte(name, '@') >= 0 }

// Diff lists the fields that differ between two versions of a record,
// comparing raw bytes; nested objects are walked by dotted path.
func Diff(old, new []byte) []FieldChange {
	if bytes.Equal(old, new) {
		return nil
	}
	return diffInto(nil, "", old, new)
}

func diffInto(out []FieldChange, prefix string, old, new []byte) []FieldChange {
	var buf [32]member
	om := members(old, buf[:0])
	var nbuf [32]member
	nm := members(new, nbuf[:0])
	return diffMembers(out, prefix, om, nm, true)
}

// diffMembers lists changes from om to nm. With removals, a name missing
// from nm is a removed field; a partial entry passes false: there, absent
// means unchanged.
func diffMembers(out []FieldChange, prefix string, om, nm []member, removals bool) []FieldChange {
	for i, m := range nm {
		if isControl(m.name) {
			continue
		}
		ov, ok := find(om, m.name, i)
		if ok && bytes.Equal(ov, m.value) {
			continue
		}
		path := prefix + rawjson.Unquote(m.name)
		if ok && rawjson.IsObject(ov) && rawjson.IsObject(m.value) {
			out = diffInto(out, path+".", ov, m.value)
			continue
		}
		if !ok {
			ov = nil
		}
		out = append(out, FieldChange{Path: path, Old: ov, New: m.value})
	}
	for i, m := range om {
		if !removals || isControl(m.name) {
			continue
		}
		if _, ok := find(nm, m.name, i); !ok {
			out = append(out, FieldChange{Path: prefix + rawjson.Unquote(m.name), Old: m.value})
		}
	}
	return out
}

// Merge applies an entry to the record it updates. A full entry (every
// field of the old record present) replaces it; a partial one, as Graph
// sends, keeps the fields it omits, in their old place.
func Merge(old, entry []byte) []byte {
	merged, _ := mergeDiff(old, entry, nil)
	return merged
}

// mergeDiff is Merge and Diff(old, merged) in one walk over each record,
// the hot path of applying a large delta. The changes are appended to
// fields, so a round can keep them all in a few large arrays.
func mergeDiff(old, entry []byte, fields []FieldChange) ([]byte, []FieldChange) {
	if bytes.Equal(old, entry) {
		return entry, fields
	}
	if out, ok := diffAligned(old, entry, fields); ok {
		return entry, out
	}
	return mergeDiffMembers(old, entry, fields)
}

// mergeDiffMembers is mergeDiff by members looked up by name, for entries
// whose members are not the old record's in the same order.
func mergeDiffMembers(old, entry []byte, fields []FieldChange) ([]byte, []FieldChange) {
	var buf [32]member
	om := members(old, buf[:0])
	var nbuf [32]member
	nm := members(entry, nbuf[:0])
	full := true
	for i, m := range om {
		if _, ok := find(nm, m.name, i); !ok {
			full = false
			break
		}
	}
	if full {
		return entry, diffMembers(fields, "", om, nm, false)
	}
	out := make([]byte, 0, len(old)+len(entry))
	out = append(out, '{')
	first := true
	write := func(name, value []byte) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, value...)
	}
	for i, m := range om {
		if v, ok := find(nm, m.name, i); ok {
			write(m.name, v)
		} else {
			write(m.name, m.value)
		}
	}
	for i, m := range nm {
		if _, ok := find(om, m.name, i); !ok {
			write(m.name, m.value)
		}
	}
	// A partial entry changes only the fields it carries; the merged
	// record's other fields are the old ones.
	return append(out, '}'), diffMembers(fields, "", om, nm, false)
}

// diffAligned is mergeDiff for the common case of a full entry listing the
// old record's members in the same order: it walks both records in step,
// and where the entry's member (with the byte after it) stands in the old
// record byte for byte at the same point, the old member is not parsed at
// all: from one member boundary, equal bytes read as equal members. It
// reports false, having appended nothing, when the names part ways or
// either record ends first; the general walk then decides.
func diffAligned(old, entry []byte, fields []FieldChange) ([]FieldChange, bool) {
	start := len(fields)
	i, j := rawjson.ObjectStart(entry), rawjson.ObjectStart(old)
	if i < 0 || j < 0 {
		return fields, false
	}
	for {
		name, value, ni := rawjson.NextMember(entry, i)
		if name == nil {
			oname, _, oj := rawjson.NextMember(old, j)
			if oname != nil || ni >= len(entry) || entry[ni] != '}' || oj >= len(old) || old[oj] != '}' {
				return fields[:start], false
			}
			return fields, true
		}
		// Same bytes, the delimiter after the value included (so a
		// number is not a prefix of a longer one): the same member.
		if n := ni - i + 1; ni < len(entry) && j+n <= len(old) && bytes.Equal(entry[i:ni+1], old[j:j+n]) {
			i, j = ni, j+n-1
			continue
		}
		oname, ovalue, oj := rawjson.NextMember(old, j)
		if !bytes.Equal(oname, name) {
			return fields[:start], false
		}
		i, j = ni, oj
		if isControl(name) || bytes.Equal(ovalue, value) {
			continue
		}
		path := rawjson.Unquote(name)
		if rawjson.IsObject(ovalue) && rawjson.IsObject(value) {
			fields = diffInto(fields, path+".", ovalue, value)
			continue
		}
		fields = append(fields, FieldChange{Path: path, Old: ovalue, New: value})
	}
}

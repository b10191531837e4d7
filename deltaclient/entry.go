package deltaclient

import (
	"bytes"
	"cmp"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// EntryKind says what one item of a page's value array is.
type EntryKind uint8

const (
	// Record is an added or changed entity, in full or in part.
	Record EntryKind = iota
	// Removed is a deleted entity: OData 4.0 $deletedEntity or 4.01 @removed.
	Removed
	// linkRow is a 4.0 $link or $deletedLink row: a relationship, not a
	// record. The decoder skips them; no Entry of this kind is delivered.
	linkRow
)

// Entry is one item of a page, in the order the server sent it.
type Entry struct {
	Kind EntryKind
	// ID is the record's identity: its id property, else the key of its
	// entity-id (@odata.id), else its key properties.
	ID string
	// Raw is the record as the server sent it (Record entries only). It is
	// never modified after the page is decoded.
	Raw []byte
	// Reason is "deleted" or "changed" for Removed entries, "" when the
	// server gave none.
	Reason string
	// guessedKey names the property the ID was taken from when it was
	// only guessed (a name ending in id: no id, no entity-id, no key from
	// $metadata or --key). Two records of one read sharing a guessed key
	// mean the guess is wrong (a foreign key), never that they are one.
	guessedKey string
}

// Identity says how a record's identity is found. The zero value follows
// SPEC's rules: id, then @odata.id/@id, then a key-like property.
//
// An identity is typed: the number 5 and the string "5" are different
// records. IDs are text (see IDText for the form); a string id is itself
// unless it could be read as another type or as a composite key, in which
// case it is quoted. A record with no usable identity (no key member, or
// null, an object or an array there) is an *IdentityError, never merged
// with another; a record naming a key member twice is malformed (which of
// the two counts is not guessed).
type Identity struct {
	// KeyFields, when set (from $metadata or the user), are the key
	// properties of the entity type, tried before anything else.
	KeyFields []string
	// KeySource says where KeyFields came from ("$metadata", "--key"), for
	// the error when a record lacks them.
	KeySource string
}

// IdentityError is a record (or removal) from which no identity could be
// read. Retrying will not help: the user names the key with --key.
type IdentityError struct {
	Item   int    // 1-based position in the page's value array
	Rule   string // the rule tried, in words
	Record string // the start of the offending item, as sent
}

func (e *IdentityError) Error() string {
	return fmt.Sprintf("item %d of the page has no usable identity (tried %s): %s; records without one cannot be told apart, so nothing was merged: name the key fields with --key field[,field]",
		e.Item, e.Rule, e.Record)
}

func (idn Identity) rule() string {
	if len(idn.KeyFields) > 0 {
		src := cmp.Or(idn.KeySource, "$metadata")
		return fmt.Sprintf("the key %s (from %s), then id, then @odata.id", strings.Join(idn.KeyFields, ", "), src)
	}
	return "id, then @odata.id, then a property whose name ends in id"
}

// classify reads the top-level members of one value item and says what it
// is and whom it names. It never decodes nested values. item is the
// item's 1-based position, for errors.
func (idn Identity) classify(raw []byte, item int) (Entry, error) {
	// Fast path for the common case, a plain record with a string id that
	// needs no quoting: the scanner's rule (see scanner.record).
	if len(idn.KeyFields) == 0 {
		if idVal, plain := plainMembers(raw); plain {
			if id, ok := plainID(idVal); ok {
				return Entry{Kind: Record, ID: id, Raw: raw}, nil
			}
		}
	}
	return idn.classifySlow(raw, item)
}

// plainMembers applies the scanner's rule to a record already validated:
// it returns the value of its member named "id" and whether the record is
// plain (no member name starting with @ but @odata.etag, none escaped, no
// second id).
func plainMembers(raw []byte) (idVal []byte, plain bool) {
	plain = true
	rawjson.MembersRaw(raw, func(name, value []byte) bool {
		switch {
		case string(name) == `"id"`:
			if idVal != nil {
				plain = false
			}
			idVal = value
		case name[1] == '@' && string(name) != `"@odata.etag"`, bytes.IndexByte(name, '\\') >= 0:
			plain = false
		}
		return plain
	})
	return idVal, plain
}

func (idn Identity) classifySlow(raw []byte, item int) (Entry, error) {
	var (
		context, reason     string
		removed, hasRemoved bool
		idVal, entityIDVal  []byte
		keyLikeName         string
		keyLikeVal          []byte
		keyVals             = make([][]byte, len(idn.KeyFields))
		dup                 string
	)
	// set keeps a key member's value; a second one makes the record
	// malformed.
	set := func(slot *[]byte, name, value []byte) {
		if *slot != nil {
			dup = string(name)
		}
		*slot = value
	}
	rawjson.Members(raw, func(name, value []byte) bool {
		for i, k := range idn.KeyFields {
			if k == string(name) {
				set(&keyVals[i], name, value)
			}
		}
		switch string(name) {
		case "@odata.context", "@context":
			context, _ = rawjson.StringView(value)
		case "@removed", "@odata.removed":
			removed, hasRemoved = true, true
			if r := rawjson.Lookup(value, "reason"); r != nil {
				reason, _ = rawjson.String(r)
			}
		case "@odata.id", "@id":
			set(&entityIDVal, name, value)
		case "id":
			set(&idVal, name, value)
		case "reason":
			if !hasRemoved {
				reason, _ = rawjson.String(value)
			}
		default:
			if len(idn.KeyFields) == 0 && looksLikeKey(name) {
				switch {
				case keyLikeVal == nil:
					keyLikeName, keyLikeVal = string(name), value
				case keyLikeName == string(name):
					dup = keyLikeName
				}
			}
		}
		return dup == ""
	})
	if dup != "" {
		return Entry{}, fmt.Errorf("item %d of \"value\" has the key member %q twice; a record with a duplicated key member is malformed (which one counts is not guessed)", item, dup)
	}
	switch {
	case strings.HasSuffix(context, "/$deletedEntity"):
		removed = true
	case strings.HasSuffix(context, "/$link"), strings.HasSuffix(context, "/$deletedLink"):
		return Entry{Kind: linkRow}, nil
	}
	e := Entry{Kind: Record, Raw: raw}
	if removed {
		e = Entry{Kind: Removed, Reason: reason}
	}
	var ok bool
	// A 4.0 $deletedEntity's "id" is its entity-id, not a key property
	// named id: it is read below, even when the key is "id".
	deleted40 := strings.HasSuffix(context, "/$deletedEntity") && idVal != nil
	if len(idn.KeyFields) > 0 && !deleted40 {
		e.ID, ok = keyID(idn.KeyFields, keyVals)
		if !ok && !removed && idn.KeySource == "--key" {
			// The user named the key: a record without it is not
			// identified by something else behind their back.
			return Entry{}, &IdentityError{Item: item, Rule: "the key " + strings.Join(idn.KeyFields, ", ") + " (from --key)", Record: string(excerpt(raw, 200))}
		}
	}
	if !ok && idVal != nil {
		if removed {
			// A 4.0 $deletedEntity's id is the entity-id, a URL (or, in
			// Business Central and Dataverse, the bare key).
			var s string
			if s, ok = rawjson.String(idVal); ok && idVal[0] == '"' {
				e.ID = KeyOf(s)
			} else {
				e.ID, ok = scalarID(idVal)
			}
		} else {
			e.ID, ok = scalarID(idVal)
		}
	}
	if !ok && entityIDVal != nil && entityIDVal[0] == '"' {
		var s string
		s, ok = rawjson.String(entityIDVal)
		ok = ok && s != ""
		e.ID = KeyOf(s)
	}
	if !ok && keyLikeVal != nil {
		e.ID, ok = scalarID(keyLikeVal)
		e.guessedKey = keyLikeName
	}
	if !ok {
		return Entry{}, &IdentityError{Item: item, Rule: idn.rule(), Record: string(excerpt(raw, 200))}
	}
	return e, nil
}

// scalarID is the typed id of one raw JSON value: a string as IDText
// writes it, a number or boolean as sent. null, objects and arrays are no
// identity.
func scalarID(v []byte) (string, bool) {
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		s, _ := rawjson.StringView(v)
		return textID(s), true
	case 'n', '{', '[':
		return "", false
	}
	return string(v), true
}

// keyID is the typed id of a key: the single value, or "name=value" pairs
// sorted by name and joined with commas. Any key member missing or null
// means no identity.
func keyID(fields []string, vals [][]byte) (string, bool) {
	if len(fields) == 1 {
		if vals[0] == nil {
			return "", false
		}
		return scalarID(vals[0])
	}
	parts := make([]string, 0, len(fields))
	for i, f := range fields {
		if vals[i] == nil {
			return "", false
		}
		v, ok := scalarID(vals[i])
		if !ok {
			return "", false
		}
		parts = append(parts, f+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ","), true
}

// textID is the id of the string s: s itself, or quoted when s could be
// read as a number, a boolean, null, a quoted string or a composite key
// (it has a comma). So 5 and "5" differ, and "a=1,b=2" is not the key
// (a=1, b=2).
func textID(s string) string {
	if needsQuote(s) {
		return strconv.Quote(s)
	}
	return s
}

func needsQuote(s string) bool {
	if s == "" || s[0] == '"' || strings.IndexByte(s, ',') >= 0 {
		return true
	}
	switch s {
	case "true", "false", "null":
		return true
	}
	return isNumber(s)
}

// isNumber reports a JSON number literal (and an OData one, which is the
// same grammar plus INF and NaN).
func isNumber(s string) bool {
	if s == "INF" || s == "-INF" || s == "NaN" {
		return true
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if lead := i; digits() == 0 || s[lead] == '0' && i-lead > 1 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// looksLikeKey is the last resort for records with neither id nor entity-id
// and no known key: ID, Id, or a name ending in "id" such as Dataverse's
// accountid.
func looksLikeKey(name []byte) bool {
	n := len(name)
	if n < 2 || name[0] == '@' || strings.Contains(string(name), "@") {
		return false
	}
	return strings.EqualFold(string(name[n-2:]), "id")
}

// KeyOf reduces an entity-id such as "https://host/svc/Customers('ANTON')"
// or "companies(1)/customers(6cb4...)" to its typed key, as a record
// carrying the same key gets it: 'ANTON' is the string ANTON, an unquoted
// number is a number, other unquoted literals (GUIDs, dates) are strings.
// Composite keys become sorted "Name=value" pairs; a string without
// parentheses is a bare key (Business Central's removals).
func KeyOf(entityID string) string {
	s := entityID
	if !strings.HasSuffix(s, ")") {
		return textID(s)
	}
	open := strings.LastIndexByte(s, '(')
	if open < 0 {
		return textID(s)
	}
	if u, err := url.PathUnescape(s[open+1 : len(s)-1]); err == nil {
		s = u
	} else {
		s = s[open+1 : len(s)-1]
	}
	if !strings.Contains(s, "=") || isQuoted(s) {
		return literalID(s)
	}
	parts := splitKeyParts(s)
	if len(parts) == 1 {
		_, val, _ := strings.Cut(parts[0], "=")
		return literalID(val)
	}
	for i, p := range parts {
		name, val, _ := strings.Cut(p, "=")
		parts[i] = name + "=" + literalID(val)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// literalID is the typed id of one key literal of a URL.
func literalID(v string) string {
	switch {
	case isQuoted(v):
		return textID(unquoteKey(v))
	case isNumber(v), v == "true", v == "false":
		return v
	}
	return textID(v)
}

func isQuoted(s string) bool { return len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' }

func unquoteKey(s string) string {
	if isQuoted(s) {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// splitKeyParts splits "A=1,B='x,y'" on commas outside quotes.
func splitKeyParts(s string) []string {
	var parts []string
	inQuote := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

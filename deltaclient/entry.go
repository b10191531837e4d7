package deltaclient

import (
	"bytes"
	"net/url"
	"sort"
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
	// Link is a 4.0 $link or $deletedLink row: a relationship, not a record.
	Link
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
}

// Identity says how a record's identity is found. The zero value follows
// SPEC's rules: id, then @odata.id/@id, then a key-like property.
type Identity struct {
	// KeyFields, when set (from $metadata or the user), are the key
	// properties of the entity type, tried before anything else.
	KeyFields []string
}

// plainRecord reports a record with no control information but an etag:
// removals and links carry @removed, @odata.removed or an @odata.context,
// so a record whose only member name starting with @ is @odata.etag is
// neither. One vectorised pass; '@' in values (emails) is skipped.
func plainRecord(raw []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(raw[i:], '@')
		if j < 0 {
			return true
		}
		i += j
		if i > 0 && raw[i-1] == '"' && !bytes.HasPrefix(raw[i:], []byte(`@odata.etag"`)) {
			return false
		}
		i++
	}
}

// classify reads the top-level members of one value item and says what it
// is and whom it names. It never decodes nested values.
func (idn Identity) classify(raw []byte) Entry {
	// Fast path for the common case, a plain record with an id: skip the
	// walk over every member once the id is found.
	if len(idn.KeyFields) == 0 && plainRecord(raw) {
		var id string
		rawjson.MembersRaw(raw, func(name, value []byte) bool {
			if string(name) == `"id"` {
				id, _ = rawjson.StringView(value)
				return false
			}
			return true
		})
		if id != "" {
			return Entry{Kind: Record, ID: id, Raw: raw}
		}
	}
	return idn.classifySlow(raw)
}

func (idn Identity) classifySlow(raw []byte) Entry {
	var (
		context, reason, idProp, entityID string
		removed, hasRemoved               bool
		keyLike                           string
		keys                              map[string]string
	)
	rawjson.Members(raw, func(name, value []byte) bool {
		switch string(name) {
		case "@odata.context", "@context":
			context, _ = rawjson.StringView(value)
		case "@removed", "@odata.removed":
			removed, hasRemoved = true, true
			if r := rawjson.Lookup(value, "reason"); r != nil {
				reason, _ = rawjson.String(r)
			}
		case "@odata.id", "@id":
			entityID, _ = rawjson.StringView(value)
		case "id":
			// The id shares the record's memory: a snapshot of a million
			// records holds no second copy of a million ids.
			idProp, _ = rawjson.StringView(value)
		case "reason":
			if !hasRemoved {
				reason, _ = rawjson.String(value)
			}
		default:
			if len(idn.KeyFields) > 0 {
				for _, k := range idn.KeyFields {
					if k == string(name) {
						if keys == nil {
							keys = map[string]string{}
						}
						keys[k], _ = rawjson.StringView(value)
					}
				}
			} else if keyLike == "" && idProp == "" && looksLikeKey(name) {
				keyLike, _ = rawjson.StringView(value)
			}
		}
		return true
	})
	switch {
	case strings.HasSuffix(context, "/$deletedEntity"):
		removed = true
	case strings.HasSuffix(context, "/$link"), strings.HasSuffix(context, "/$deletedLink"):
		return Entry{Kind: Link}
	}
	e := Entry{Kind: Record, Raw: raw}
	if removed {
		e = Entry{Kind: Removed, Reason: reason}
	}
	switch {
	case len(keys) == len(idn.KeyFields) && len(keys) > 0:
		e.ID = joinKeys(idn.KeyFields, keys)
	case idProp != "":
		if removed {
			e.ID = KeyOf(idProp)
		} else {
			e.ID = idProp
		}
	case entityID != "":
		e.ID = KeyOf(entityID)
	default:
		e.ID = keyLike
	}
	return e
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

func joinKeys(fields []string, vals map[string]string) string {
	if len(fields) == 1 {
		return vals[fields[0]]
	}
	parts := make([]string, 0, len(fields))
	for _, f := range fields {
		parts = append(parts, f+"="+vals[f])
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// KeyOf reduces an entity-id such as "https://host/svc/Customers('ANTON')"
// or "companies(1)/customers(6cb4...)" to its key ("ANTON", "6cb4..."), so
// a removal that names its record by URL matches the record's id. Composite
// keys become sorted "Name=value" pairs; anything else is returned as is.
func KeyOf(entityID string) string {
	s := entityID
	if !strings.HasSuffix(s, ")") {
		return s
	}
	open := strings.LastIndexByte(s, '(')
	if open < 0 {
		return s
	}
	if u, err := url.PathUnescape(s[open+1 : len(s)-1]); err == nil {
		s = u
	} else {
		s = s[open+1 : len(s)-1]
	}
	if !strings.Contains(s, "=") || isQuoted(s) {
		return unquoteKey(s)
	}
	parts := splitKeyParts(s)
	for i, p := range parts {
		name, val, _ := strings.Cut(p, "=")
		parts[i] = name + "=" + unquoteKey(val)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
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

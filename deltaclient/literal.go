package deltaclient

import (
	"strings"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// Literal writes a raw JSON key value as an OData URL literal, for $filter
// expressions that name records by key: numbers as they are, GUIDs (and
// typed non-string values: dates, times) bare, other strings quoted with '
// doubled. edmType comes from $metadata, "" when unknown.
func Literal(v []byte, edmType string) string {
	if len(v) == 0 {
		return "null"
	}
	if v[0] != '"' {
		return string(v)
	}
	s, _ := rawjson.String(v)
	switch {
	case edmType == "Edm.String":
	case edmType != "", isGUID(s):
		// GUIDs, dates and times are written bare in OData URLs.
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
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

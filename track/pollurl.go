package track

import (
	"net/url"
	"slices"
	"strings"
)

// queryURL adds a poll query to the collection URL the user gave: filter
// is and-ed with the user's $filter, fields replace $select (nil keeps
// the user's), orderby sets $orderby. Other parameters stay as they are.
func queryURL(raw, filter string, fields []string, orderby string) string {
	base, query, _ := strings.Cut(raw, "?")
	var keep []string
	userFilter := ""
	for _, part := range strings.Split(query, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		switch name, _ := url.PathUnescape(k); name {
		case "$filter":
			userFilter, _ = url.PathUnescape(v)
			continue
		case "$select":
			if fields != nil {
				continue
			}
		case "$orderby":
			if orderby != "" {
				continue
			}
		}
		keep = append(keep, part)
	}
	switch {
	case userFilter != "" && filter != "":
		filter = "(" + userFilter + ") and (" + filter + ")"
	case filter == "":
		filter = userFilter
	}
	// Spaces become %20 (OData's form, not '+'); commas, quotes and
	// parentheses stay readable in the request log.
	esc := strings.NewReplacer("%2C", ",", "%27", "'", "%28", "(", "%29", ")", "%3A", ":").Replace
	if fields != nil {
		keep = append(keep, "$select="+esc(url.PathEscape(strings.Join(fields, ","))))
	}
	if filter != "" {
		keep = append(keep, "$filter="+esc(url.PathEscape(filter)))
	}
	if orderby != "" {
		keep = append(keep, "$orderby="+esc(url.PathEscape(orderby)))
	}
	if len(keep) == 0 {
		return base
	}
	return base + "?" + strings.Join(keep, "&")
}

// userSelect is the $select of the user's URL, nil when it has none.
func userSelect(raw string) []string {
	_, query, _ := strings.Cut(raw, "?")
	for _, part := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		if name, _ := url.PathUnescape(k); name == "$select" {
			v, _ = url.PathUnescape(v)
			var out []string
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					out = append(out, f)
				}
			}
			return out
		}
	}
	return nil
}

// withFields adds need to a user's $select; nil (every property) stays
// nil.
func withFields(user, need []string) []string {
	if user == nil {
		return nil
	}
	out := slices.Clone(user)
	for _, f := range need {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// countURL is the /$count resource of a collection URL, with the user's
// $filter (and nothing else: /$count takes no other options).
func countURL(raw string) string {
	base, query, _ := strings.Cut(raw, "?")
	out := strings.TrimRight(base, "/") + "/$count"
	for _, part := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(part, "=")
		if name, _ := url.PathUnescape(k); name == "$filter" {
			return out + "?" + part
		}
	}
	return out
}

// withoutFilter is raw without the user's $filter (raw itself when it has
// none).
func withoutFilter(raw string) string {
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return raw
	}
	var keep []string
	dropped := false
	for _, part := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(part, "=")
		if name, _ := url.PathUnescape(k); name == "$filter" {
			dropped = true
			continue
		}
		keep = append(keep, part)
	}
	if !dropped {
		return raw
	}
	if len(keep) == 0 {
		return base
	}
	return base + "?" + strings.Join(keep, "&")
}

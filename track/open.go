package track

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/deltascope/deltascope/deltaclient"
)

// Open resolves a target into trackers, one per entity set, each with the
// identity rule its records need: the key properties from the service's
// $metadata when it has them (Dataverse's accountid, a composite key),
// else SPEC's rules. notes say which rule each entity uses, for the
// request log.
func Open(ctx context.Context, c *deltaclient.Client, t Target) (trackers []*Tracker, notes []string, err error) {
	sources, err := Resolve(ctx, c, t)
	if err != nil {
		return nil, nil, err
	}
	var keys deltaclient.Keys
	var why string
	if t.URL != "" {
		root, _, _ := strings.Cut(strings.TrimRight(t.URL, "/"), "/companies(")
		keys, err = c.Metadata(ctx, root)
		if err != nil {
			why = err.Error()
		}
	} else {
		why = "no --url to read $metadata from"
	}
	for _, s := range sources {
		tc := *c
		if k := keys[s.Name]; len(k) > 0 {
			tc.Identity = deltaclient.Identity{KeyFields: k}
			notes = append(notes, fmt.Sprintf("%s: records are identified by their key %s (from $metadata)", s.Name, strings.Join(k, ", ")))
		} else {
			reason := why
			if reason == "" {
				reason = "$metadata names no key for it"
			}
			notes = append(notes, fmt.Sprintf("%s: records are identified by id, else @odata.id, else the first property named ...id (%s)", s.Name, reason))
		}
		trackers = append(trackers, New(s.Name, withQuery(s.URL, t.Select, t.Filter), &tc))
	}
	return trackers, notes, nil
}

// withQuery adds $select and $filter to a baseline URL. Never used on a
// delta link: those carry the query they were made for.
func withQuery(raw, sel, filter string) string {
	if sel == "" && filter == "" {
		return raw
	}
	// Spaces become %20 (OData's form, not '+'); commas and quotes stay
	// readable in the request log.
	esc := strings.NewReplacer("%2C", ",", "%27", "'").Replace
	var add []string
	if sel != "" {
		add = append(add, "$select="+esc(url.PathEscape(sel)))
	}
	if filter != "" {
		add = append(add, "$filter="+esc(url.PathEscape(filter)))
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + strings.Join(add, "&")
}

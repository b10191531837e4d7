package deltaclient

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Support is a probe's verdict on one entity set.
type Support string

const (
	Supported   Support = "yes"
	NotSupport  Support = "no"
	Unknown     Support = "unknown"
	ProbeFailed Support = "error"
)

// ProbeResult says whether an entity set supports delta requests and how
// the probe knows.
type ProbeResult struct {
	Support Support
	// Evidence in words: "deltaLink on page 1", "Preference-Applied:
	// odata.track-changes", the server's message for a no.
	Evidence          string
	PreferenceApplied bool
	Status            int // HTTP status of a failing answer
	Pages             int
}

// Probe asks for url with change tracking in pages of one record and
// follows at most maxPages pages: a deltaLink, or Preference-Applied on
// the first page, is a yes; "does not support delta" or a last page
// without a deltaLink is a no. It never downloads a whole large set.
func (c *Client) Probe(ctx context.Context, url string, maxPages int) ProbeResult {
	pc := *c
	pc.MaxPageSize = 1
	pc.MaxPages = maxPages
	pc.Retry.Tries = min(max(pc.Retry.Tries, 1), 2)
	var applied bool
	res, err := pc.run(ctx, url, true, func(p Progress) { applied = applied || p.TrackingApplied }, func([]Entry) {})
	if err == nil {
		ev := "deltaLink on page " + strconv.Itoa(res.Pages)
		if applied {
			ev += ", Preference-Applied: odata.track-changes"
		}
		return ProbeResult{Support: Supported, Evidence: ev, PreferenceApplied: applied, Pages: res.Pages}
	}
	if errors.Is(err, errPageLimit) {
		if applied {
			return ProbeResult{Support: Supported, Evidence: "Preference-Applied: odata.track-changes (deltaLink not reached in " + strconv.Itoa(maxPages) + " pages)", PreferenceApplied: true, Pages: maxPages}
		}
		return ProbeResult{Support: Unknown, Evidence: "no deltaLink within " + strconv.Itoa(maxPages) + " pages of one record, and no Preference-Applied", Pages: maxPages}
	}
	st := StatusOf(err)
	if st.Kind == KindUnsupported {
		var uns *UnsupportedError
		errors.As(err, &uns)
		if uns.NoDeltaLink {
			return ProbeResult{Support: NotSupport, Evidence: "the collection ended without a deltaLink"}
		}
		return ProbeResult{Support: NotSupport, Evidence: strconv.Itoa(uns.Status) + ": " + uns.Message, Status: uns.Status}
	}
	return ProbeResult{Support: ProbeFailed, Evidence: strings.TrimSpace(err.Error()), Status: st.HTTP}
}

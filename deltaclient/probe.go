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

// ProbePages is the most pages Probe reads of one set, whatever their
// size: a server may ignore odata.maxpagesize (SAP CAP sends 1,000 records
// a page), and probe must never download a whole set.
const ProbePages = 2

// Probe asks for url with change tracking, in pages of one record if the
// server honours odata.maxpagesize, and reads at most min(maxPages,
// ProbePages) pages. Page 1 decides: a deltaLink, or Preference-Applied:
// odata.track-changes, is a yes; neither is a no (the server ignored the
// preference), unless page 2 still brings a deltaLink. So the verdict does
// not depend on the set's size. A server's "does not support delta" is a
// no; anything else that fails is an error. The evidence says what
// happened, in pages and records as they arrived.
func (c *Client) Probe(ctx context.Context, url string, maxPages int) ProbeResult {
	pc := *c
	pc.MaxPageSize = 1
	pc.MaxPages = min(max(maxPages, 1), ProbePages)
	pc.Retry.Tries = min(max(pc.Retry.Tries, 1), 2)
	var applied bool
	var perPage []int // records on each page, as they arrived
	res, err := pc.run(ctx, url, modeBaseline, func(p Progress) {
		if p.Retry != nil {
			return
		}
		applied = applied || p.TrackingApplied
		prev := 0
		for _, n := range perPage {
			prev += n
		}
		if p.Pages > len(perPage) {
			perPage = append(perPage, p.Records-prev)
		}
	}, func([]Entry) {})
	read := pagesRead(perPage)
	pa := ""
	if applied {
		pa = ", with Preference-Applied: odata.track-changes"
	}
	switch {
	case err == nil:
		return ProbeResult{Support: Supported, Evidence: "deltaLink on page " + strconv.Itoa(res.Pages) + " (" + read + ")" + pa, PreferenceApplied: applied, Pages: res.Pages}
	case errors.Is(err, errPageLimit) && applied:
		return ProbeResult{Support: Supported, Evidence: "Preference-Applied: odata.track-changes on page 1; no deltaLink yet after " + read + ", stopped there", PreferenceApplied: true, Pages: len(perPage)}
	case errors.Is(err, errPageLimit):
		return ProbeResult{Support: NotSupport, Evidence: "page 1 came without Preference-Applied: odata.track-changes and without a deltaLink (the preference was ignored); no deltaLink after " + read + ", stopped there", Pages: len(perPage)}
	}
	st := StatusOf(err)
	if st.Kind == KindUnsupported {
		var uns *UnsupportedError
		errors.As(err, &uns)
		if uns.NoDeltaLink {
			ev := "the set ended without a deltaLink after " + read
			if !applied {
				ev = "page 1 came without Preference-Applied: odata.track-changes; " + ev
			}
			return ProbeResult{Support: NotSupport, Evidence: ev, PreferenceApplied: applied, Pages: len(perPage)}
		}
		return ProbeResult{Support: NotSupport, Evidence: strconv.Itoa(uns.Status) + ": " + uns.Message, Status: uns.Status}
	}
	return ProbeResult{Support: ProbeFailed, Evidence: strings.TrimSpace(err.Error()), Status: st.HTTP, Pages: len(perPage)}
}

// pagesRead says how many pages of how many records arrived: "1 page of 1
// record", "2 pages (1,000 and 500 records)".
func pagesRead(perPage []int) string {
	plural := func(n int, word string) string {
		if n == 1 {
			return "1 " + word
		}
		return strconv.Itoa(n) + " " + word + "s"
	}
	switch len(perPage) {
	case 0:
		return "no page"
	case 1:
		return "1 page of " + plural(perPage[0], "record")
	}
	same := true
	for _, n := range perPage {
		same = same && n == perPage[0]
	}
	if same {
		return plural(len(perPage), "page") + " of " + plural(perPage[0], "record")
	}
	parts := make([]string, len(perPage))
	for i, n := range perPage {
		parts[i] = strconv.Itoa(n)
	}
	return plural(len(perPage), "page") + " (" + strings.Join(parts, " and ") + " records)"
}

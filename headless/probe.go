package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/track"
)

// ProbeRow is one entity set's answer to "does it support deltas?".
type ProbeRow struct {
	Entity   string `json:"entity"`
	URL      string `json:"url"`
	Supports string `json:"supports"` // yes, no, unknown, error
	Evidence string `json:"evidence"`
	// Method says how changes can be followed: "delta", "poll: etag scan",
	// "poll: lastModifiedDateTime + key scan", "poll: full read"; "" when
	// the set could not be read.
	Method            string `json:"method"`
	PreferenceApplied bool   `json:"preferenceApplied"`
	Status            int    `json:"status,omitempty"`
}

// ProbeOptions configure a probe run.
type ProbeOptions struct {
	Trackers    []*track.Tracker
	Concurrency int // parallel probes; 0 means 4
	MaxPages    int // pages to read of each set; 0 and more than 2 mean 2
	// Secrets is the session's redactor for everything printed.
	Secrets Redactor
	JSON    bool // an array of objects instead of a table
	// BusinessCentral adds the v22/2024 wave 1 deprecation note when
	// no entity says yes.
	BusinessCentral bool
}

// Probe asks every tracker's entity set whether it supports delta requests,
// reading at most two pages of each (of one record when the server honours
// the page size), a few sets at a time, and prints a table or JSON. It
// returns nil when every set got a yes or no, ErrSomeUnprobed when some
// set's verdict is error (the table still shows all), ErrUnreachable when
// no set could be reached (both said on stderr), and ctx's error when it
// was interrupted.
func Probe(ctx context.Context, opts ProbeOptions, stdout, stderr io.Writer) error {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MaxPages <= 0 || opts.MaxPages > deltaclient.ProbePages {
		opts.MaxPages = deltaclient.ProbePages
	}
	out := &output{stdout: stdout, stderr: stderr, secrets: opts.Secrets}
	rows := make([]ProbeRow, len(opts.Trackers))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, t := range opts.Trackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := t.Client.Probe(ctx, t.URL, opts.MaxPages)
			url := t.URL
			if opts.Secrets != nil {
				url = opts.Secrets.URL(url)
			}
			rows[i] = ProbeRow{Entity: termtext.Sanitize(out.redact(t.Name)), URL: termtext.Sanitize(url), Supports: string(r.Support),
				Evidence: termtext.Sanitize(out.redact(r.Evidence)), PreferenceApplied: r.PreferenceApplied, Status: r.Status}
			switch r.Support {
			case deltaclient.Supported:
				rows[i].Method = "delta"
			case deltaclient.NotSupport, deltaclient.Unknown:
				if m, err := t.ProbePoll(ctx); err == nil {
					rows[i].Method = "poll: " + termtext.Sanitize(out.redact(m))
				} else {
					rows[i].Evidence += "; reading it to poll failed: " + termtext.Sanitize(out.redact(err.Error()))
				}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if opts.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rows)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ENTITY\tDELTAS\tFOLLOWED BY\tEVIDENCE")
		for _, r := range rows {
			method := r.Method
			if method == "" {
				method = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Entity, r.Supports, method, r.Evidence)
		}
		tw.Flush()
	}
	reached, no, yes, failed := 0, 0, 0, 0
	for _, r := range rows {
		if r.Supports == string(deltaclient.ProbeFailed) {
			failed++
		}
		if r.Supports == string(deltaclient.Supported) {
			yes++
		}
		if r.Supports != string(deltaclient.ProbeFailed) || r.Status != 0 {
			reached++
		}
		if r.Supports == string(deltaclient.NotSupport) || r.Supports == string(deltaclient.Unknown) {
			no++ // a large set without delta links ends unknown: no link in a few pages
		}
	}
	if opts.BusinessCentral && no > 0 && yes == 0 && !opts.JSON {
		fmt.Fprintln(stdout, "\nNote: Business Central deprecated delta links in v22 and stopped serving them from 2024 release wave 1;\non such a service every entity says no (or unknown): it is the service, not deltascope. deltascope follows them\nby polling instead, with the method under FOLLOWED BY (watch --delta-only refuses to).")
	}
	if reached == 0 && len(rows) > 0 {
		out.say("probe: could not reach the service: %s", strings.TrimSpace(rows[0].Evidence))
		return ErrUnreachable
	}
	if failed > 0 {
		out.say("probe: %d of %d entity sets could not be probed (verdict error); see the table", failed, len(rows))
		return ErrSomeUnprobed
	}
	return nil
}

// Probe's answers when it could not say yes or no for every set; the
// reason is on stderr already.
var (
	ErrUnreachable  = errors.New("could not reach the service")
	ErrSomeUnprobed = errors.New("some entity sets could not be probed")
)

package headless

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
)

// A baseline's once-a-second progress line on stderr counts in English:
// one page of one record is "1 page, 1 record", not "1 pages, 1 records".
func TestBaselineProgressLineGrammar(t *testing.T) {
	for _, tc := range []struct {
		pages, records int
		want           string
	}{
		{1, 1, "customers: 1 page, 1 record, "},
		{1, 20000, "customers: 1 page, 20000 records, "},
		{3, 0, ""}, // no records yet: no progress line
		{2, 5, "customers: 2 pages, 5 records, "},
	} {
		var stderr bytes.Buffer
		at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		w := &watcher{opts: WatchOptions{Now: func() time.Time { return at }}, out: &output{stdout: &bytes.Buffer{}, stderr: &stderr}}
		report := w.retries("customers", true)
		at = at.Add(2 * time.Second)
		report(deltaclient.Progress{Pages: tc.pages, Records: tc.records, Bytes: 1 << 20})
		got := stderr.String()
		if tc.want == "" {
			if got != "" {
				t.Errorf("%d pages, %d records: wrote %q, want nothing", tc.pages, tc.records, got)
			}
			continue
		}
		if !strings.HasPrefix(got, "deltascope: "+tc.want) {
			t.Errorf("%d pages, %d records: wrote %q, want it to start %q", tc.pages, tc.records, got, "deltascope: "+tc.want)
		}
	}
}

package ui

import (
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// A service without delta links (Business Central since 2024 wave 1):
// every set is polled, says so with its method, and r and b work.
func TestPollingEntities(t *testing.T) {
	t.Parallel()
	f := newFixture(t, deltatest.Options{NoDelta: true}).start()
	f.size(120, 30)
	f.mustShow("customers", "polling", "balanceSheet", "customers · 30 records · polling · etag scan")
	f.mustNotShow("tracking")
	if !f.m.keys.Refresh.Enabled() || !f.m.keys.Rebaseline.Enabled() {
		t.Error("a polled entity offers r and b")
	}
	ids := f.srv.IDs("customers")
	f.srv.Update("customers", ids[3], map[string]any{"displayName": "Super Cloud"})
	f.srv.Delete("customers", ids[4])
	f.press("r")
	f.mustShow("round 1", "+0 ~1 -1", `-> "Super Cloud"`)
	// b: a fresh full read compared with the old snapshot.
	f.srv.Delete("customers", ids[5])
	f.press("b")
	f.mustShow("re-baseline", "+0 ~0 -1", "polling · etag scan")
}

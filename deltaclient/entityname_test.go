package deltaclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// TestUnknownEntityNamesTheNearest: --entity is checked against the
// service document before any baseline, and a typo gets the nearest names.
func TestUnknownEntityNamesTheNearest(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 1, Records: 5})
	defer srv.Close()
	c := &deltaclient.Client{}
	cases := []struct {
		url    string
		entity string
		near   []string
		says   string
	}{
		{srv.ServiceRoot(), "custmers", []string{"customers"}, `--entity "custmers": the service has no entity set of that name; did you mean customers?`},
		{srv.ServiceRoot(), "Vendors", []string{"vendors"}, "did you mean vendors?"},
		{srv.ServiceRoot(), "nosuch", nil, "it has customers, vendors, items"},
		{srv.ServiceRoot() + "/companies(" + srv.CompanyID() + ")", "item", []string{"items"}, "did you mean items?"},
	}
	for _, tc := range cases {
		_, err := c.Discover(context.Background(), deltaclient.Target{URL: tc.url, Entities: []string{"customers", tc.entity}})
		var ue *deltaclient.UnknownEntityError
		if !errors.As(err, &ue) {
			t.Fatalf("%s: err %v, want *UnknownEntityError", tc.entity, err)
		}
		if !cmp.Equal(ue.Near, tc.near) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: near %v, error %q", tc.entity, ue.Near, err)
		}
	}
	if _, err := c.Discover(context.Background(), deltaclient.Target{URL: srv.ServiceRoot(), Entities: []string{"customers", "balanceSheet"}}); err != nil {
		t.Errorf("listed names: %v", err)
	}
}

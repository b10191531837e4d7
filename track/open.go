package track

import (
	"context"

	"github.com/deltascope/deltascope/deltaclient"
)

// Open discovers the entity sets of a target and makes a tracker for each,
// with the identity rule discovery chose for its records. The discovery
// says which company was picked, whether the service is Business Central,
// and (in Sources[i].IdentityNote) which rule each entity uses.
func Open(ctx context.Context, c *deltaclient.Client, t deltaclient.Target) ([]*Tracker, *deltaclient.Discovery, error) {
	d, err := c.Discover(ctx, t)
	if err != nil {
		return nil, nil, err
	}
	trackers := make([]*Tracker, 0, len(d.Sources))
	for _, s := range d.Sources {
		tc := *c
		tc.Identity = s.Identity
		tr := New(s.Name, s.URL, &tc)
		tr.Hints = HintsOf(s.Schema)
		if k := s.Identity.KeyFields; len(k) > 0 {
			tr.Hints.KeyFields = k // --key wins over $metadata
		}
		trackers = append(trackers, tr)
	}
	return trackers, d, nil
}

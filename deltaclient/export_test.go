package deltaclient

import "context"

// Baseline is BaselinePages collecting the entries in the Result, for
// tests that look at a whole baseline at once.
func (c *Client) Baseline(ctx context.Context, url string, progress func(Progress)) (*Result, error) {
	return c.run(ctx, url, modeBaseline, progress, nil)
}

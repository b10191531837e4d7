package deltaclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Count reads a collection's /$count resource (OData 4.0 §11.2.10, a bare
// number as text/plain): u is the count URL, with the $filter the count
// must honour. It returns the count and the body bytes read. Polling
// checks it before scanning every key for deletions.
func (c *Client) Count(ctx context.Context, u string) (n, bytes int64, err error) {
	origin, err := c.home(u)
	if err != nil {
		return 0, 0, err
	}
	var body []byte
	bytes, err = c.do(ctx, get{url: u, origin: origin, accept: "text/plain"}, func(_ *http.Response, r io.Reader) error {
		var rerr error
		body, rerr = io.ReadAll(io.LimitReader(r, 64))
		return rerr
	})
	if err != nil {
		return 0, bytes, err
	}
	text := strings.TrimPrefix(strings.TrimSpace(string(body)), "\ufeff")
	n, perr := strconv.ParseInt(text, 10, 64)
	if perr != nil || n < 0 {
		return 0, bytes, fmt.Errorf("%s: not a count: %q", u, excerpt(body, 40))
	}
	return n, bytes, nil
}

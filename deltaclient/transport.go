package deltaclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// fetch GETs one page and reads its body whole, bounded by MaxBody.
func (c *Client) fetch(ctx context.Context, link, origin string, track bool) (f fetched) {
	var prefer []string
	if track {
		prefer = append(prefer, "odata.track-changes")
	}
	if c.MaxPageSize > 0 {
		prefer = append(prefer, "odata.maxpagesize="+strconv.Itoa(c.MaxPageSize))
	}
	f.n, f.err = c.do(ctx, get{url: link, origin: origin, prefer: prefer}, func(resp *http.Response, body io.Reader) error {
		f.applied = strings.Contains(resp.Header.Get("Preference-Applied"), "track-changes")
		f.contentType = resp.Header.Get("Content-Type")
		var err error
		f.body, err = readBody(body, resp.ContentLength, c.maxBody(), sizeHintOf(ctx))
		return err
	})
	return f
}

// get is one GET to make: url, the origin credentials belong to, the
// Prefer values, and the Accept to ask for ("" means application/json).
type get struct {
	url, origin string
	prefer      []string
	accept      string
}

// do sends one GET (see send); after a 401, credentials that can be
// renewed (a token command) are renewed once and the request sent again.
func (c *Client) do(ctx context.Context, g get, read func(*http.Response, io.Reader) error) (int64, error) {
	n, err := c.send(ctx, g, read)
	var he *HTTPError
	if r, ok := c.Credentials.(Refresher); ok && errors.As(err, &he) && he.Status == http.StatusUnauthorized && he.Credentials != "no credentials" {
		if rerr := r.Refresh(ctx); rerr != nil {
			return n, fmt.Errorf("%w; renewing the token failed: %v", err, rerr)
		}
		return c.send(ctx, g, read)
	}
	return n, err
}

// send sends one GET with the client's headers, and its credentials when u is
// on origin. On a 2xx answer it calls read with the body, bounded by
// MaxBody; other answers become typed errors. It returns the body bytes read.
func (c *Client) send(ctx context.Context, g get, read func(*http.Response, io.Reader) error) (n int64, err error) {
	u, origin := g.url, g.origin
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", cmp.Or(g.accept, "application/json"))
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	if len(g.prefer) > 0 {
		req.Header.Set("Prefer", strings.Join(g.prefer, ", "))
	}
	sameOrigin := false
	if o, _ := originOf(u); o == origin {
		sameOrigin = true
		// A --header replaces the default of the same name (an Accept the
		// user names is sent as named, never next to ours), except Prefer,
		// whose values are added to the ones the protocol needs.
		for k, vs := range c.Header {
			if http.CanonicalHeaderKey(k) != "Prefer" {
				req.Header.Del(k)
			}
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		if c.Credentials != nil {
			if err := c.Credentials.Apply(ctx, req); err != nil {
				return 0, &CredentialsError{Message: c.redact(err.Error())}
			}
			if c.Secrets != nil {
				// A token command's output and an OAuth access token are
				// known here first: from now on they are redacted wherever
				// they turn up (a 401 body that echoes them).
				c.Secrets.Learn(req.Header.Get("Authorization"))
			}
		}
	}
	hc := c.httpClient(origin)
	info := RequestInfo{Time: time.Now(), Method: http.MethodGet, URL: u}
	defer func() {
		if c.OnRequest != nil {
			info.Duration, info.Bytes, info.Err = time.Since(info.Time), n, err
			c.OnRequest(info)
		}
	}()
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrCrossOrigin) || errors.Is(err, ErrUnsafeRedirect) {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return 0, err
		}
		return 0, networkError(err)
	}
	defer resp.Body.Close()
	info.Status = resp.StatusCode
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			info.RequestID = v
			break
		}
	}
	body := &countingReader{r: resp.Body, limit: c.maxBody()}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		err := c.redactError(errorFromResponse(resp, b, u))
		var he *HTTPError
		if errors.As(err, &he) && (he.Status == http.StatusUnauthorized || he.Status == http.StatusForbidden) {
			he.Credentials = "no credentials"
			if c.Credentials != nil && sameOrigin {
				he.Credentials = c.Credentials.Describe()
			}
		}
		return body.n, err
	}
	if err := read(resp, body); err != nil {
		if body.err != nil {
			return body.n, body.err
		}
		return body.n, err
	}
	return body.n, nil
}

// ErrTooLarge is wrapped when a body passes Client.MaxBody.
var ErrTooLarge = errors.New("response body too large")

type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	err   error
}

func (c *countingReader) Read(b []byte) (int, error) {
	if c.n >= c.limit {
		c.err = fmt.Errorf("%w: more than %d bytes in one page (raise --max-body or ask for smaller pages with --maxpagesize)", ErrTooLarge, c.limit)
		return 0, c.err
	}
	if rem := c.limit - c.n; int64(len(b)) > rem {
		b = b[:rem]
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = networkError(err)
	}
	return n, err
}

// NetworkError is a failure to reach the service or to read its answer.
type NetworkError struct{ Err error }

func (e *NetworkError) Error() string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(e.Err, &dns):
		return fmt.Sprintf("cannot find the host %s (%s): check the host in --url", dns.Name, dns.Err)
	case errors.As(e.Err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect to %s (%v): check --url and that the service is running", op.Addr, op.Err)
	}
	return "network: " + e.Err.Error()
}
func (e *NetworkError) Unwrap() error { return e.Err }

func networkError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var ne *NetworkError
	if errors.As(err, &ne) {
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &NetworkError{Err: err}
}

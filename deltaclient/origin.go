package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The origin policy, in one place: credentials (Credentials and every
// --header value) go only to the origin the user named (Client.Origin, or
// the origin of the URL a baseline starts from when unset). A nextLink, a
// deltaLink, a 410 Location or a redirect to another origin is refused
// with ErrCrossOrigin; with AllowCrossOrigin it is followed without
// credentials, and so is every later request that stays there. A redirect
// never carries a Referer; neither a redirect nor a link is ever followed
// into a link-local or cloud metadata address, whatever the flags.

// ErrCrossOrigin is wrapped by the error for a link or redirect that points
// at another origin than the one the credentials were given for.
var ErrCrossOrigin = errors.New("link to another origin refused")

// ErrUnsafeRedirect is wrapped when a redirect or a link on another
// origin points at a link-local or cloud metadata address.
var ErrUnsafeRedirect = errors.New("a link-local or cloud metadata address is never followed")

// CheckLink applies the origin policy to a link the server handed over
// (what names it in the error: "410 Location", "deltaLink"): nil when it
// is on the client's origin, or another origin and AllowCrossOrigin is
// set. Callers that start a baseline from a server's URL check it first;
// run checks every link again.
func (c *Client) CheckLink(link, what string) error {
	home, err := c.home(link)
	if err != nil {
		return err
	}
	return c.checkOrigin(home, link, what)
}

// home is the origin credentials belong to: Client.Origin, else the origin
// of start (a baseline URL the user named).
func (c *Client) home(start string) (string, error) {
	if c.Origin != "" {
		return originOf(c.Origin)
	}
	return originOf(start)
}

// WithOrigin returns a copy of c whose credentials stay on the origin of
// raw (the URL the user named), unless c already has an Origin.
func (c *Client) WithOrigin(raw string) *Client {
	cc := *c
	if cc.Origin == "" {
		if o, err := originOf(raw); err == nil {
			cc.Origin = o
		}
	}
	return &cc
}

func (c *Client) checkOrigin(origin, link, what string) error {
	o, err := originOf(link)
	if err != nil {
		return err
	}
	if o == origin {
		return nil
	}
	if !c.AllowCrossOrigin {
		return fmt.Errorf("%w: the %s goes to %s, not %s; credentials are only sent to the service you named (use --allow-cross-origin to follow it without them)", ErrCrossOrigin, what, o, origin)
	}
	// Followed elsewhere, but never into the link-local range, as for a
	// redirect: a hostile page could point a nextLink at the cloud
	// metadata service.
	u, _ := url.Parse(link)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := unsafeHost(ctx, u.Hostname()); err != nil {
		return fmt.Errorf("the %s goes to %s: %w", what, o, err)
	}
	return nil
}

func originOf(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", raw)
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" || u.Scheme == "http" && port == "80" || u.Scheme == "https" && port == "443" {
		port = ""
	}
	o := strings.ToLower(u.Scheme) + "://" + host
	if strings.Contains(host, ":") {
		o = strings.ToLower(u.Scheme) + "://[" + host + "]"
	}
	if port != "" {
		o += ":" + port
	}
	return o, nil
}

// httpClient is the transport with the redirect half of the origin policy:
// a redirect to another origin than home is refused (or, with
// AllowCrossOrigin, followed without credentials and --header values);
// no redirect carries a Referer or goes to a link-local address.
func (c *Client) httpClient(home string) *http.Client {
	hc := http.Client{}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	next := hc.CheckRedirect
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		// Go sets Referer to the URL redirected from, query and all: a
		// signature or access_token in it would travel on.
		req.Header.Del("Referer")
		to, err := originOf(req.URL.String())
		if err != nil {
			return err
		}
		if to != home {
			if err := unsafeHost(req.Context(), req.URL.Hostname()); err != nil {
				return fmt.Errorf("the server redirected to %s: %w", to, err)
			}
			if !c.AllowCrossOrigin {
				return fmt.Errorf("%w: the server redirected to %s, not %s; credentials are only sent to the service you named (use --allow-cross-origin to follow it without them)", ErrCrossOrigin, to, home)
			}
			stripCredentials(req.Header, c.Header)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &hc
}

// stripCredentials removes what only the home origin may see.
func stripCredentials(h, extra http.Header) {
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		h.Del(k)
	}
	for k := range extra {
		h.Del(k)
	}
}

// unsafeHost refuses link-local addresses (169.254.0.0/16 with the cloud
// metadata service at 169.254.169.254, fe80::/10) and the metadata host
// names, by the literal and by what the name resolves to.
func unsafeHost(ctx context.Context, host string) error {
	switch strings.ToLower(strings.TrimSuffix(host, ".")) {
	case "metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal":
		return fmt.Errorf("%w: %s", ErrUnsafeRedirect, host)
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return nil // the request itself will fail and say so
		}
		ips = ips[:0]
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsUnspecified() || ip.Equal(net.ParseIP("fd00:ec2::254")) {
			return fmt.Errorf("%w: %s (%s)", ErrUnsafeRedirect, host, ip)
		}
	}
	return nil
}

// resolve makes link absolute against the URL of the page it came on. An
// absolute link is returned untouched, byte for byte.
func resolve(base, link string) (string, error) {
	if strings.HasPrefix(link, "http://") || strings.HasPrefix(link, "https://") {
		return link, nil
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	return b.ResolveReference(r).String(), nil
}

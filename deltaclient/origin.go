package deltaclient

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrCrossOrigin is wrapped by the error for a next or delta link that
// points at another origin than the one the credentials were given for.
var ErrCrossOrigin = errors.New("link to another origin refused")

func (c *Client) checkOrigin(origin, link, what string) error {
	o, err := originOf(link)
	if err != nil {
		return err
	}
	if o != origin && !c.AllowCrossOrigin {
		return fmt.Errorf("%w: the %s goes to %s, not %s; credentials are only sent to the service you named (use --allow-cross-origin to follow it without them)", ErrCrossOrigin, what, o, origin)
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
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
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

package deltaclient

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Credentials authenticate requests to the service's own origin. Describe
// says what they are without revealing them, for error messages.
type Credentials interface {
	Apply(ctx context.Context, req *http.Request) error
	Describe() string
}

// Refresher is implemented by credentials that can be renewed after a 401
// (a token command run again). The client refreshes once, then gives up.
type Refresher interface {
	Refresh(ctx context.Context) error
}

// Bearer is a fixed bearer token.
type Bearer struct {
	Token  string
	Source string // where it came from: "--token", "DELTASCOPE_TOKEN"
}

func (b Bearer) Apply(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", "Bearer "+b.Token)
	return nil
}

func (b Bearer) Describe() string { return "bearer token from " + b.Source }

// Basic is user and password (Business Central on-premises web service
// access keys).
type Basic struct {
	User, Password string
}

func (b Basic) Apply(_ context.Context, r *http.Request) error {
	r.SetBasicAuth(b.User, b.Password)
	return nil
}

func (b Basic) Describe() string {
	return fmt.Sprintf("basic auth for user %q with DELTASCOPE_PASSWORD", b.User)
}

// TokenCommand runs a command that prints a bearer token (az account
// get-access-token ... -o tsv), once, and again after a 401.
type TokenCommand struct {
	Command string

	mu    sync.Mutex
	token string
}

func (t *TokenCommand) Apply(ctx context.Context, r *http.Request) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" {
		if err := t.run(ctx); err != nil {
			return err
		}
	}
	r.Header.Set("Authorization", "Bearer "+t.token)
	return nil
}

func (t *TokenCommand) Refresh(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.run(ctx)
}

func (t *TokenCommand) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "sh", "-c", t.Command)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		// Its stderr explains (az: "Please run 'az login'"); its stdout
		// may hold a token, so it is never shown.
		return fmt.Errorf("--token-command failed (%v)%s", err, lastLine(errOut.Bytes()))
	}
	tok := strings.TrimSpace(out.String())
	if tok == "" || strings.ContainsAny(tok, " \n\t") {
		return errors.New("--token-command printed no single token on stdout")
	}
	t.token = tok
	return nil
}

func (t *TokenCommand) Describe() string { return "bearer token from --token-command" }

// ClientCredentials is OAuth2 client credentials against Microsoft Entra
// ID (or TokenURL). Tokens are cached and renewed before they expire.
type ClientCredentials struct {
	src      oauth2.TokenSource
	describe string
}

// NewClientCredentials builds the token source. tokenURL "" means
// https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token. hc is the
// HTTP client used for the token endpoint.
func NewClientCredentials(tenant, clientID, secret, scope, tokenURL string, hc *http.Client) *ClientCredentials {
	if tokenURL == "" {
		tokenURL = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/token"
	}
	cfg := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: tokenURL, Scopes: []string{scope}, AuthStyle: oauth2.AuthStyleInParams}
	ctx := context.Background()
	if hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, hc)
	}
	return &ClientCredentials{
		src:      oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), time.Minute),
		describe: fmt.Sprintf("OAuth2 client credentials for client %s", clientID),
	}
}

func (c *ClientCredentials) Apply(_ context.Context, r *http.Request) error {
	tok, err := c.src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			msg := re.ErrorDescription
			if msg == "" {
				// The library reads the fields only from a JSON content
				// type; some endpoints send JSON without one.
				var body struct {
					Code string `json:"error"`
					Desc string `json:"error_description"`
				}
				json.Unmarshal(re.Body, &body)
				msg = cmp.Or(body.Desc, re.ErrorCode, body.Code, string(excerpt(re.Body, 200)))
			}
			first, _, _ := strings.Cut(msg, "\n")
			return fmt.Errorf("the token endpoint refused the client credentials (%d): %s", re.Response.StatusCode, excerpt([]byte(first), 200))
		}
		return fmt.Errorf("getting a token: %w", err)
	}
	tok.SetAuthHeader(r)
	return nil
}

func (c *ClientCredentials) Describe() string { return c.describe }

// lastLine is ": " and the last non-empty line of a command's stderr,
// where tools put the sentence that explains (az: "Please run 'az
// login'"), or "" when it wrote nothing.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ""
	}
	return ": " + string(excerpt([]byte(last), 200))
}

package deltaclient

import (
	"encoding/json"

	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/deltascope/deltascope/internal/termtext"
)

// GoneError means the delta link expired: 410 Gone, or a 400/410 whose code
// says the sync state is gone (Graph's syncStateNotFound). Take a new
// baseline, from Location when the server gave one.
type GoneError struct {
	Status   int
	Location string // absolute URL to re-baseline from; "" when not given
	Code     string
	Message  string
}

func (e *GoneError) Error() string {
	s := fmt.Sprintf("delta link expired (%d %s)", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// UnsupportedError means the entity set does not support delta requests:
// the server said so (BC's 500 "Entity does not support delta requests"),
// or it answered the whole collection without a deltaLink. Retrying will
// not help.
type UnsupportedError struct {
	Status      int    // 0 when the collection came back without a deltaLink
	Message     string // the server's words, when it sent any
	NoDeltaLink bool
}

func (e *UnsupportedError) Error() string {
	if e.NoDeltaLink {
		return "does not support delta requests: the server returned the collection without a deltaLink (change tracking is off for it, or the preference was ignored)"
	}
	s := fmt.Sprintf("does not support delta requests (%d)", e.Status)
	if e.Message != "" {
		s += ": the server returned " + quoteMsg(e.Message)
	}
	return s
}

// HTTPError is any other non-success answer.
type HTTPError struct {
	Status     int
	Code       string // OData error code, when the body had one
	Message    string // OData error message, or a short excerpt of the body
	RequestID  string
	RetryAfter string // the Retry-After header, as sent
	// Credentials says what was sent with a 401 or 403: "bearer token from
	// DELTASCOPE_TOKEN", or "no credentials". Never the secret itself.
	Credentials string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, http.StatusText(e.Status))
	switch {
	case e.Credentials == "no credentials":
		s = "the service wants credentials and none were sent (--token, --token-command, --user or --client-id): " + s
	case e.Credentials != "" && e.Status == http.StatusUnauthorized:
		s = e.Credentials + " was rejected: " + s
	case e.Credentials != "":
		s = e.Credentials + " lacks permission: " + s
	}
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	if e.Message != "" {
		s += ": " + quoteMsg(e.Message)
	}
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// CredentialsError is a failure to get or apply credentials: a token
// command that failed, a token endpoint that refused. Its message has every
// known secret redacted (a token endpoint may echo the client secret).
type CredentialsError struct{ Message string }

func (e *CredentialsError) Error() string { return "credentials: " + e.Message }

// Redactor removes the secrets the process knows from text. The session's
// one redactor (reqlog.Secrets) implements it; the client feeds it what
// it learns and passes server text through it before it becomes an error.
type Redactor interface {
	Text(string) string
	// Learn takes the credential out of an Authorization header value.
	Learn(authorization string) (basicUser string)
}

func (c *Client) redact(s string) string {
	if c.Secrets == nil {
		return s
	}
	return c.Secrets.Text(s)
}

// redactError removes known secrets from the server's words in a typed
// error: a 401 or 400 body may echo the Authorization header.
func (c *Client) redactError(err error) error {
	switch e := err.(type) {
	case *HTTPError:
		e.Code, e.Message = c.redact(e.Code), c.redact(e.Message)
	case *GoneError:
		e.Code, e.Message = c.redact(e.Code), c.redact(e.Message)
	case *UnsupportedError:
		e.Message = c.redact(e.Message)
	}
	return err
}

// requestIDHeaders are where Business Central, Graph and Dataverse put the
// id their support asks for.
var requestIDHeaders = []string{"request-id", "x-ms-request-id", "ms-correlation-x", "x-ms-service-request-id", "client-request-id"}

// errorFromResponse turns a non-2xx answer (body already read, bounded)
// into a typed error.
func errorFromResponse(resp *http.Response, body []byte, base string) error {
	code, msg := odataError(body)
	if code == "" && msg == "" {
		msg = string(excerpt(body, 200))
	}
	// Server text is data: whoever prints these errors gets them clean.
	code, msg = termtext.Sanitize(code), termtext.Sanitize(msg)
	if isGone(resp.StatusCode, code) {
		loc := resp.Header.Get("Location")
		if loc != "" {
			if abs, err := resolve(base, loc); err == nil {
				loc = abs
			}
		}
		return &GoneError{Status: resp.StatusCode, Location: loc, Code: code, Message: msg}
	}
	if isUnsupported(resp.StatusCode, msg) {
		return &UnsupportedError{Status: resp.StatusCode, Message: msg}
	}
	e := &HTTPError{Status: resp.StatusCode, Code: code, Message: msg, RetryAfter: resp.Header.Get("Retry-After")}
	for _, h := range requestIDHeaders {
		if v := resp.Header.Get(h); v != "" {
			e.RequestID = v
			break
		}
	}
	return e
}

var goneCodes = []string{"syncStateNotFound", "resyncRequired", "resyncChangesApplyDifferences", "resyncChangesUploadDifferences"}

func isGone(status int, code string) bool {
	if status == http.StatusGone {
		return true
	}
	if status != http.StatusBadRequest {
		return false
	}
	for _, c := range goneCodes {
		if strings.EqualFold(code, c) {
			return true
		}
	}
	return false
}

func isUnsupported(status int, msg string) bool {
	if status < 400 {
		return false
	}
	m := strings.ToLower(msg)
	return strings.Contains(m, "does not support delta") ||
		strings.Contains(m, "change tracking is not enabled") ||
		strings.Contains(m, "changetracking is not enabled")
}

// odataError reads {"error":{"code":..,"message":..}}; message may also be
// an object {"value": ".."} in OData 2/3-style services.
func odataError(body []byte) (code, msg string) {
	var env struct {
		Error struct {
			Code    string          `json:"code"`
			Message json.RawMessage `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil {
		return "", ""
	}
	code = env.Error.Code
	if err := json.Unmarshal(env.Error.Message, &msg); err != nil {
		var nested struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(env.Error.Message, &nested) == nil {
			msg = nested.Value
		}
	}
	return code, strings.TrimSpace(msg)
}

func quoteMsg(s string) string { return "\"" + s + "\"" }

// excerpt returns at most n bytes of b on a rune boundary, with whitespace
// runs folded, for error messages. Callers that print it sanitise it.
func excerpt(b []byte, n int) []byte {
	b = []byte(strings.Join(strings.Fields(string(b)), " "))
	if len(b) <= n {
		return b
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return append(b[:n:n], "…"...)
}

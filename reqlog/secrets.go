package reqlog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"unicode/utf16"

	"github.com/deltascope/deltascope/internal/termtext"
)

// Redacted replaces a secret wherever one would be written.
const Redacted = "[redacted]"

// Secrets is the session's one redactor: every writer (the request log,
// --log, --record, the request detail and its curl copy) passes text
// through it. It knows the secrets it was given and the ones it learns
// while the session runs (a token command's output and an OAuth access
// token are seen first in an Authorization header or a token response),
// each in every encoding the process uses (as is, URL query and path
// escaped, JSON escaped, and the base64 of user:password), and it applies
// the rules for header names, URL query parameters and form fields.
// It is safe for concurrent use.
type Secrets struct {
	mu    sync.RWMutex
	known []string // longest first, so a secret inside another goes second
}

// NewSecrets knows secrets from the start (the token, the password, the
// client secret, secret --header values). Values shorter than 4 bytes are
// ignored: replacing them would shred ordinary text.
func NewSecrets(secrets ...string) *Secrets {
	s := &Secrets{}
	for _, v := range secrets {
		s.Add(v)
	}
	return s
}

// Add learns a secret and its encodings.
func (s *Secrets) Add(secret string) {
	if s == nil || len(secret) < 4 {
		return
	}
	s.mu.RLock()
	known := contains(s.known, secret)
	s.mu.RUnlock()
	if known {
		return // the same token on every request: learnt once
	}
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, html := range []bool{true, false} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(secret) == nil {
			q := strings.TrimSpace(b.String())
			forms = append(forms, q[1:len(q)-1])
		}
	}
	forms = append(forms, echoForms(secret)...)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range forms {
		if !contains(s.known, f) {
			s.known = append(s.known, f)
		}
	}
	sort.Slice(s.known, func(i, j int) bool { return len(s.known[i]) > len(s.known[j]) })
}

// echoForms are the JSON forms other servers' encoders give a secret they
// echo in a body, which lands in --record and the request detail as
// served: PHP and Java write "/" as \/; .NET's System.Text.Json writes
// +, <, >, &, ', ", ` and every non-ASCII character as \uXXXX (upper
// case hex), JavaScript-style encoders in lower case; some do both.
func echoForms(secret string) []string {
	slash := strings.ReplaceAll(strings.ReplaceAll(secret, `\`, `\\`), "/", `\/`)
	slash = strings.ReplaceAll(slash, `"`, `\"`)
	var upper, lower strings.Builder
	for _, r := range secret {
		switch {
		case r == '\\':
			upper.WriteString(`\\`)
			lower.WriteString(`\\`)
		case r < 0x20 || r > 0x7e || strings.ContainsRune("+<>&'\"`", r):
			for _, u := range utf16.Encode([]rune{r}) {
				fmt.Fprintf(&upper, `\u%04X`, u)
				fmt.Fprintf(&lower, `\u%04x`, u)
			}
		default:
			upper.WriteRune(r)
			lower.WriteRune(r)
		}
	}
	return []string{slash, upper.String(), lower.String(),
		strings.ReplaceAll(upper.String(), "/", `\/`), strings.ReplaceAll(lower.String(), "/", `\/`)}
}

// AddBasic learns a basic-auth password and the base64 form of user:password
// that travels in the Authorization header.
func (s *Secrets) AddBasic(user, password string) {
	s.Add(password)
	s.Add(base64.StdEncoding.EncodeToString([]byte(user + ":" + password)))
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Text replaces every known secret in s.
func (s *Secrets) Text(text string) string {
	if s == nil {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.known {
		if strings.Contains(text, k) {
			text = strings.ReplaceAll(text, k, Redacted)
		}
	}
	return text
}

// Bytes is Text for a body; it returns b itself when nothing was found.
func (s *Secrets) Bytes(b []byte) []byte {
	if s == nil || len(b) == 0 {
		return b
	}
	s.mu.RLock()
	found := false
	for _, k := range s.known {
		if bytes.Contains(b, []byte(k)) {
			found = true
			break
		}
	}
	s.mu.RUnlock()
	if !found {
		return b
	}
	return []byte(s.Text(string(b)))
}

// SecretHeader says whether a header carries a credential by its name:
// Authorization, cookies, and names that say key, token, secret, password
// or signature (Ocp-Apim-Subscription-Key, X-Api-Key, X-Auth-Token).
func SecretHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"key", "token", "secret", "password", "signature", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Header redacts one header value: a secret header keeps only its scheme
// ("Bearer [redacted]"), a URL (Location, Referer) goes by the URL rules,
// any other has the known secrets replaced.
func (s *Secrets) Header(name, value string) string {
	switch strings.ToLower(name) {
	case "location", "content-location", "referer":
		return s.URL(value)
	}
	if !SecretHeader(name) {
		return s.Text(value)
	}
	if strings.EqualFold(name, "authorization") || strings.EqualFold(name, "proxy-authorization") {
		if scheme, _, ok := strings.Cut(value, " "); ok {
			return scheme + " " + Redacted
		}
	}
	return Redacted
}

// Learn takes the credentials out of an outgoing Authorization header so
// that the same secret is redacted wherever it turns up later (an echo in
// a body, an error message). It returns the basic-auth user, if any: a
// user name is not a secret and the curl copy needs it.
func (s *Secrets) Learn(authorization string) (basicUser string) {
	scheme, cred, ok := strings.Cut(authorization, " ")
	if !ok {
		s.Add(authorization)
		return ""
	}
	cred = strings.TrimSpace(cred)
	s.Add(cred)
	if strings.EqualFold(scheme, "basic") {
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			user, pw, _ := strings.Cut(string(raw), ":")
			s.AddBasic(user, pw)
			return user
		}
	}
	return ""
}

// secretParam says whether a URL query parameter or form field carries a
// credential by its name. OData's own options ($skiptoken, $deltatoken,
// deltaToken, $skip) are cursors that replay matches on, never secrets.
func secretParam(name string) bool {
	n := strings.ToLower(name)
	if strings.HasPrefix(n, "$") || n == "deltatoken" || n == "skiptoken" {
		return false
	}
	for _, w := range []string{"token", "secret", "sig", "key", "code", "credential", "password", "assertion"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// URL removes credentials from a URL: user info, secret query parameters
// (by name), a fragment that carries a token, and every known secret. An
// unparsable URL loses everything after its '?'.
func (s *Secrets) URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			raw = raw[:i+1] + Redacted
		}
		return termtext.Sanitize(s.Text(raw))
	}
	if u.User != nil {
		u.User = url.User(Redacted)
	}
	if u.RawQuery != "" {
		u.RawQuery = redactQuery(u.RawQuery)
	}
	fragment := ""
	if strings.Contains(u.EscapedFragment(), "=") {
		u.Fragment, u.RawFragment, fragment = "", "", "#"+Redacted
	}
	return termtext.Sanitize(s.Text(u.String() + fragment))
}

// redactQuery replaces the values of secret parameters and keeps the rest
// byte for byte (a delta token must stay exactly as the server sent it).
func redactQuery(q string) string {
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		if uk, err := url.QueryUnescape(k); err == nil && secretParam(uk) || err != nil && secretParam(k) {
			parts[i] = k + "=" + Redacted
		}
	}
	return strings.Join(parts, "&")
}

// Form redacts an application/x-www-form-urlencoded body (a token request:
// client_secret, password, refresh_token, client_assertion) and learns the
// secrets it carried.
func (s *Secrets) Form(body string) string {
	parts := strings.Split(body, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil || !secretParam(uk) {
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			s.Add(uv)
		}
		s.Add(v)
		parts[i] = k + "=" + Redacted
	}
	return s.Text(strings.Join(parts, "&"))
}

// tokenFields are the members of an OAuth token response that are secrets.
var tokenFields = []string{"access_token", "refresh_token", "id_token"}

// TokenResponse learns and redacts the tokens of a JSON token endpoint
// answer ({"access_token": ...}); other bodies come back unchanged.
func (s *Secrets) TokenResponse(body []byte) []byte {
	if !strings.Contains(string(body), "_token") {
		return body
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	for _, f := range tokenFields {
		if v, ok := m[f].(string); ok {
			s.Add(v)
		}
	}
	return s.Bytes(body)
}

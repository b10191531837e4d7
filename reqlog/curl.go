package reqlog

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Curl writes the request as a curl command to paste into a bug report and
// run again. The exchange is already redacted; each redacted value becomes
// a reference to an environment variable, so the command holds no secret
// and works once the variable is set: $DELTASCOPE_TOKEN for a bearer
// token, $DELTASCOPE_PASSWORD for basic auth, $DELTASCOPE_CLIENT_SECRET
// for a token request, $DELTASCOPE_<NAME> for any other secret header,
// query parameter or form field.
func (x *Exchange) Curl() string {
	var b strings.Builder
	b.WriteString("curl -sS")
	if x.Method != "" && x.Method != "GET" && !(x.Method == "POST" && len(x.RequestBody) > 0) {
		b.WriteString(" -X " + x.Method)
	}
	b.WriteString(" " + withSecrets(x.URL, func(name string) string { return envName(name) }))
	names := make([]string, 0, len(x.RequestHeader))
	for k := range x.RequestHeader {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		switch strings.ToLower(k) {
		case "host", "content-length", "accept-encoding", "user-agent":
			continue
		}
		for _, v := range x.RequestHeader[k] {
			b.WriteString(" \\\n  ")
			switch {
			case !strings.Contains(v, Redacted):
				b.WriteString("-H " + quote(k+": "+v))
			case strings.EqualFold(k, "authorization") && strings.HasPrefix(strings.ToLower(v), "basic ") && x.BasicUser != "":
				b.WriteString("-u " + quote(x.BasicUser+":") + `"$DELTASCOPE_PASSWORD"`)
			case strings.EqualFold(k, "authorization"):
				scheme, _, _ := strings.Cut(v, " ")
				b.WriteString(`-H "` + k + ": " + scheme + ` $DELTASCOPE_TOKEN"`)
			default:
				b.WriteString(`-H "` + k + `: $` + envName(k) + `"`)
			}
		}
	}
	if len(x.RequestBody) > 0 {
		body := string(x.RequestBody)
		if strings.HasPrefix(x.RequestHeader.Get("Content-Type"), "application/x-www-form-urlencoded") {
			for _, p := range strings.Split(body, "&") {
				k, v, _ := strings.Cut(p, "=")
				uk, err1 := url.QueryUnescape(k)
				uv, err2 := url.QueryUnescape(v)
				if err1 != nil || err2 != nil {
					uk, uv = k, v
				}
				b.WriteString(" \\\n  --data-urlencode ")
				if uv == Redacted {
					b.WriteString(`"` + uk + `=$` + envName(uk) + `"`)
				} else {
					b.WriteString(quote(uk + "=" + uv))
				}
			}
		} else {
			b.WriteString(" \\\n  --data-raw " + quote(body))
		}
	}
	return b.String()
}

// withSecrets quotes a URL whose redacted query values become variables.
func withSecrets(u string, env func(string) string) string {
	path, query, ok := strings.Cut(u, "?")
	if !ok || !strings.Contains(query, Redacted) {
		return quote(u)
	}
	var out strings.Builder
	lit := path + "?"
	for i, p := range strings.Split(query, "&") {
		if i > 0 {
			lit += "&"
		}
		k, v, _ := strings.Cut(p, "=")
		if v != Redacted {
			lit += p
			continue
		}
		out.WriteString(quote(lit + k + "="))
		out.WriteString(`"$` + env(k) + `"`)
		lit = ""
	}
	if lit != "" {
		out.WriteString(quote(lit))
	}
	return out.String()
}

var notEnv = regexp.MustCompile(`[^A-Z0-9]+`)

// envName is the variable a secret is read from: DELTASCOPE_CLIENT_SECRET
// for client_secret, DELTASCOPE_OCP_APIM_SUBSCRIPTION_KEY for that header.
func envName(name string) string {
	return "DELTASCOPE_" + strings.Trim(notEnv.ReplaceAllString(strings.ToUpper(name), "_"), "_")
}

// quote makes s one shell word that expands nothing ($deltatoken stays).
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

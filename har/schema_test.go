package har

import (
	"strings"
	"testing"

	"github.com/deltascope/deltascope/har/hartest"
)

// validate checks data against the HAR 1.2 JSON schema: a consumer we did
// not write.
func validate(t testing.TB, data []byte) {
	t.Helper()
	if err := hartest.Validate(data); err != nil {
		t.Fatalf("not valid HAR 1.2: %v\n%s", err, excerpt(data))
	}
}

func excerpt(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[:1000] + " … " + s[len(s)-1000:]
	}
	return strings.TrimSpace(s)
}

func TestSchemaRejectsBrokenHAR(t *testing.T) {
	t.Parallel()
	// The validator must be able to fail.
	for _, bad := range []string{
		`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-11-25 14:03","time":1,"request":{},"response":{},"cache":{}}]}}`,
		`{"log":{"version":"1.2","entries":[]}}`,
		`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-11-25T14:03:00","time":1,"request":{"method":"GET","url":"http://h/","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"queryString":[],"headersSize":-1,"bodySize":0},"response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],"headers":[],"content":{"size":0,"mimeType":"x"},"redirectURL":"","headersSize":-1,"bodySize":0},"cache":{},"timings":{"send":0,"wait":0,"receive":0}}]}}`,
	} {
		if hartest.Validate([]byte(bad)) == nil {
			t.Errorf("the schema accepted %s", bad)
		}
	}
}

package reqlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://u:pw@h/svc/Customers?$deltatoken=abc":      "https://%5Bredacted%5D@h/svc/Customers?$deltatoken=abc",
		"https://h/blob?sv=2020&sig=SECRET&se=1":            "https://h/blob?sv=2020&sig=[redacted]&se=1",
		"https://h/x?access_token=SECRET&deltaToken=ZmYw==": "https://h/x?access_token=[redacted]&deltaToken=ZmYw==",
		"https://h/x?name=\x1b]0;title\x07":                 "https://h/x?name=",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRingAndNDJSON(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := New(3, &out, "hunter22")
	for i := 0; i < 5; i++ {
		l.Request(deltaclient.RequestInfo{Time: time.Unix(int64(i), 0), Method: "GET", URL: "https://h/x?i=" + string(rune('0'+i)), Status: 200})
	}
	l.Request(deltaclient.RequestInfo{Method: "GET", URL: "https://h/y", Err: errors.New("token hunter22 rejected")})
	if l.Len() != 3 || l.Total() != 6 {
		t.Fatalf("len %d total %d", l.Len(), l.Total())
	}
	newest := l.Newest(0, 2)
	if newest[0].URL != "https://h/y" || newest[1].URL != "https://h/x?i=4" {
		t.Errorf("newest %+v", newest)
	}
	if strings.Contains(out.String(), "hunter22") || !strings.Contains(newest[0].Error, "[redacted]") {
		t.Errorf("a secret was written: %s", out.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 6 {
		t.Errorf("%d NDJSON lines, want 6", n)
	}
}

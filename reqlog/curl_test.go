package reqlog

import (
	"net/http"
	"strings"
	"testing"
)

func TestCurlNamesEverySecretByVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		x    Exchange
		want []string
	}{
		{"bearer", Exchange{Method: "GET", URL: "https://h/api/customers?$deltatoken=a'b&sig=[redacted]&x=1",
			RequestHeader: http.Header{"Authorization": {"Bearer [redacted]"}, "Prefer": {"odata.track-changes"}, "Ocp-Apim-Subscription-Key": {"[redacted]"}, "User-Agent": {"Go"}}},
			[]string{`curl -sS 'https://h/api/customers?$deltatoken=a'\''b&sig='"$DELTASCOPE_SIG"'&x=1'`, `-H "Authorization: Bearer $DELTASCOPE_TOKEN"`,
				`-H "Ocp-Apim-Subscription-Key: $DELTASCOPE_OCP_APIM_SUBSCRIPTION_KEY"`, `-H 'Prefer: odata.track-changes'`}},
		{"basic", Exchange{Method: "GET", URL: "https://h/api", BasicUser: "ADMIN", RequestHeader: http.Header{"Authorization": {"Basic [redacted]"}}},
			[]string{`-u 'ADMIN:'"$DELTASCOPE_PASSWORD"`}},
		{"token request", Exchange{Method: "POST", URL: "https://login/t/oauth2/v2.0/token", RequestHeader: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			RequestBody: []byte("client_id=app&client_secret=[redacted]&grant_type=client_credentials&scope=https%3A%2F%2Fapi%2F.default")},
			[]string{`--data-urlencode 'client_id=app'`, `--data-urlencode "client_secret=$DELTASCOPE_CLIENT_SECRET"`, `--data-urlencode 'scope=https://api/.default'`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.x.Curl()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("curl lacks %s:\n%s", w, got)
				}
			}
			if strings.Contains(got, Redacted) || strings.Contains(got, "User-Agent") {
				t.Errorf("curl:\n%s", got)
			}
		})
	}
}

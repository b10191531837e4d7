package deltaclient_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/reqlog"
)

// Point 4 at the client: a 401 or 400 body that echoes the Authorization
// header becomes an error without the secret, for a fixed token, a token
// command's output (learned when applied) and basic auth's base64 form.
func TestServerEchoesOfCredentialsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"code":"InvalidAuthenticationToken","message":"rejected header %s"}}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	for name, tc := range map[string]struct {
		creds  deltaclient.Credentials
		secret string
	}{
		"bearer":        {deltaclient.Bearer{Token: "tok-fixed-9f8e7d", Source: "--token"}, "tok-fixed-9f8e7d"},
		"token command": {&deltaclient.TokenCommand{Command: "echo tok-from-command-5a4b3c"}, "tok-from-command-5a4b3c"},
		"basic":         {deltaclient.Basic{User: "ADMIN", Password: "pa55word!"}, base64.StdEncoding.EncodeToString([]byte("ADMIN:pa55word!"))},
	} {
		secrets := reqlog.NewSecrets()
		if b, ok := tc.creds.(deltaclient.Basic); ok {
			secrets.AddBasic(b.User, b.Password)
		} else if bt, ok := tc.creds.(deltaclient.Bearer); ok {
			secrets.Add(bt.Token)
		}
		c := &deltaclient.Client{Credentials: tc.creds, Secrets: secrets, Retry: noSleep(1)}
		_, err := c.Baseline(context.Background(), srv.URL+"/items", nil)
		if err == nil || !strings.Contains(err.Error(), "rejected header") {
			t.Fatalf("%s: error %v", name, err)
		}
		if strings.Contains(err.Error(), tc.secret) {
			t.Errorf("%s: the secret is in the error: %v", name, err)
		}
	}
}

// A token endpoint's error that echoes the client secret form field.
func TestTokenEndpointEchoIsRedacted(t *testing.T) {
	t.Parallel()
	const secret = "cl1ent-s3cret-value"
	tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad client_secret=%s"}`, r.PostForm.Get("client_secret"))
	}))
	defer tokenSrv.Close()
	api := httptest.NewServer(http.NotFoundHandler())
	defer api.Close()
	c := &deltaclient.Client{
		Credentials: deltaclient.NewClientCredentials("", "app", secret, "scope", tokenSrv.URL, nil),
		Secrets:     reqlog.NewSecrets(secret),
		Retry:       noSleep(1),
	}
	_, err := c.Baseline(context.Background(), api.URL+"/items", nil)
	if err == nil || !strings.Contains(err.Error(), "refused the client credentials") {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the client secret is in the error: %v", err)
	}
}

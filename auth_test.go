package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// guarded serves the demo behind an authorization check.
func guarded(t *testing.T, ok func(r *http.Request) bool) *httptest.Server {
	demo := deltatest.New(deltatest.Options{Seed: 2, Records: 5})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm=""`)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"Authentication_InvalidCredentials","message":"The server has rejected the client credentials."}}`)
			return
		}
		demo.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type outcome struct {
	code           int
	stdout, stderr string
	log            string
}

func runCapture(t *testing.T, args ...string) outcome {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), "requests.ndjson")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append(args, "--log", logFile), &stdout, &stderr)
	logBytes, _ := os.ReadFile(logFile)
	return outcome{code, stdout.String(), stderr.String(), string(logBytes)}
}

func (o outcome) mustNotContain(t *testing.T, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for name, text := range map[string]string{"stdout": o.stdout, "stderr": o.stderr, "log": o.log} {
			if strings.Contains(text, s) {
				t.Errorf("the secret %q appears in %s:\n%s", s, name, text)
			}
		}
	}
}

func TestAuthModes(t *testing.T) {
	const (
		flagToken = "tok-from-flag-7f3a"
		envToken  = "tok-from-env-91c2"
		password  = "pa55-word-e2e"
		ccSecret  = "client-secret-44d1"
		ccToken   = "cc-access-token-88a0"
		fresh     = "fresh-token-12ab"
	)
	t.Run("bearer flag, and what a rejection says", func(t *testing.T) {
		srv := guarded(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+flagToken })
		o := runCapture(t, "watch", "--url", srv.URL+"/api/v2.0", "--entity", "customers", "--rounds", "1", "--interval", "1ms", "--token", flagToken)
		if o.code != 0 || !strings.Contains(o.stdout, `"event":"baseline"`) {
			t.Fatalf("exit %d: %s %s", o.code, o.stdout, o.stderr)
		}
		o.mustNotContain(t, flagToken)
		if !strings.Contains(o.log, `"status":200`) || !strings.Contains(o.log, "identified by their key id (from $metadata)") {
			t.Errorf("request log: %s", o.log)
		}
		o = runCapture(t, "watch", "--url", srv.URL+"/api/v2.0", "--rounds", "1", "--token", "wrong-"+flagToken)
		if o.code != 1 || !strings.Contains(o.stderr, "bearer token from --token was rejected: 401 Unauthorized") {
			t.Errorf("rejected token: exit %d, stderr %q", o.code, o.stderr)
		}
		o.mustNotContain(t, "wrong-"+flagToken)
		o = runCapture(t, "probe", "--url", srv.URL+"/api/v2.0")
		if o.code != 1 || !strings.Contains(o.stderr, "none were sent") {
			t.Errorf("no credentials: exit %d, stderr %q", o.code, o.stderr)
		}
	})
	t.Run("bearer from DELTASCOPE_TOKEN", func(t *testing.T) {
		t.Setenv("DELTASCOPE_TOKEN", envToken)
		srv := guarded(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+envToken })
		o := runCapture(t, "probe", "--json", "--url", srv.URL+"/api/v2.0")
		if o.code != 0 || !strings.Contains(o.stdout, `"supports": "yes"`) {
			t.Fatalf("exit %d: %s %s", o.code, o.stdout, o.stderr)
		}
		o.mustNotContain(t, envToken)
		var help bytes.Buffer
		run(context.Background(), []string{"watch", "--help"}, &help, &help)
		if strings.Contains(help.String(), envToken) {
			t.Error("--help shows the token")
		}
	})
	t.Run("token command, run again after a 401", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "ran")
		cmd := fmt.Sprintf(`if [ -f %q ]; then echo %s; else touch %q; echo stale-token-0000; fi`, marker, fresh, marker)
		srv := guarded(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+fresh })
		o := runCapture(t, "watch", "--url", srv.URL+"/api/v2.0", "--entity", "items", "--rounds", "1", "--interval", "1ms", "--token-command", cmd)
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		if !strings.Contains(o.log, `"status":401`) {
			t.Errorf("the stale token should have been rejected once: %s", o.log)
		}
		o.mustNotContain(t, fresh, "stale-token-0000")
	})
	t.Run("basic", func(t *testing.T) {
		t.Setenv("DELTASCOPE_PASSWORD", password)
		srv := guarded(t, func(r *http.Request) bool { u, p, ok := r.BasicAuth(); return ok && u == "admin" && p == password })
		o := runCapture(t, "watch", "--url", srv.URL+"/api/v2.0", "--entity", "vendors", "--rounds", "1", "--interval", "1ms", "--user", "admin")
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		o.mustNotContain(t, password)
	})
	t.Run("OAuth2 client credentials", func(t *testing.T) {
		t.Setenv("DELTASCOPE_CLIENT_SECRET", ccSecret)
		tokens := 0
		tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_secret") != ccSecret || r.Form.Get("client_id") != "app-1" || r.Form.Get("scope") != "https://api.businesscentral.dynamics.com/.default" {
				w.WriteHeader(401)
				fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
				return
			}
			tokens++
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			json.NewEncoder(w).Encode(map[string]any{"access_token": ccToken, "token_type": "Bearer", "expires_in": 3599})
		}))
		defer tokenSrv.Close()
		srv := guarded(t, func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer "+ccToken })
		o := runCapture(t, "watch", "--url", srv.URL+"/api/v2.0", "--entity", "customers", "--rounds", "2", "--interval", "1ms",
			"--client-id", "app-1", "--tenant", "contoso", "--token-url", tokenSrv.URL)
		if o.code != 0 {
			t.Fatalf("exit %d: %s", o.code, o.stderr)
		}
		if tokens != 1 {
			t.Errorf("the token endpoint was asked %d times; a token is cached until it expires", tokens)
		}
		o.mustNotContain(t, ccSecret, ccToken)
		t.Setenv("DELTASCOPE_CLIENT_SECRET", "bad-secret-0001")
		o = runCapture(t, "probe", "--url", srv.URL+"/api/v2.0", "--client-id", "app-1", "--tenant", "contoso", "--token-url", tokenSrv.URL)
		if o.code != 1 || !strings.Contains(o.stderr, "the token endpoint refused the client credentials (401): AADSTS7000215") {
			t.Errorf("bad secret: exit %d, %q", o.code, o.stderr)
		}
		o.mustNotContain(t, "bad-secret-0001")
	})
	t.Run("one mode at a time", func(t *testing.T) {
		o := runCapture(t, "watch", "--token", "x", "--token-command", "echo y")
		if o.code != 2 || !strings.Contains(o.stderr, "choose one way to authenticate") {
			t.Errorf("exit %d: %q", o.code, o.stderr)
		}
	})
}

func TestProbeAgainstTheDemo(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"probe"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if !strings.HasPrefix(lines[0], "ENTITY") || len(lines) != 5 {
		t.Fatalf("table:\n%s", stdout.String())
	}
	for _, want := range []string{"customers     yes", "vendors       yes", "items         yes", "balanceSheet  no      poll: full read  500: Entity does not support delta requests."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if code := run(context.Background(), []string{"probe", "--json", "--entity", "balanceSheet", "--entity", "items"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0]["entity"] != "balanceSheet" || rows[0]["supports"] != "no" || rows[0]["status"] != float64(500) || rows[1]["supports"] != "yes" ||
		rows[0]["method"] != "poll: full read" || rows[1]["method"] != "delta" {
		t.Errorf("json: %v", rows)
	}
}

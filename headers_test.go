package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 11 point 5: a --header is a secret when its name says so; an
// ordinary one (Accept-Language) is recorded as sent, not as [redacted].
func TestRecordRedactsSecretHeadersOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.har")
	var stdout, stderr bytes.Buffer
	args := []string{"watch", "--entity", "customers", "--rounds", "1", "--interval", "1ms", "--no-session", "--record", path,
		"--header", "Accept-Language: en-US", "--header", "Ocp-Apim-Subscription-Key: subkey-7f6e5d"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	har, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(har), `{"name":"Accept-Language","value":"en-US"}`) || !strings.Contains(string(har), `{"name":"Ocp-Apim-Subscription-Key","value":"[redacted]"}`) {
		t.Errorf("headers in the recording:\n%.3000s", har)
	}
	if strings.Contains(string(har)+stdout.String()+stderr.String(), "subkey-7f6e5d") {
		t.Errorf("the subscription key was written")
	}
}

// Package cap tests deltascope against SAP CAP, a real and widely used
// OData v4 server nobody here wrote (@sap/cds 9 with in-memory SQLite).
// The service lives beside this file; install.sh puts its node modules in
// a cache outside the clone.
package cap

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCAP starts one CAP service and runs the suite on it: probe and the
// TUI first (they read), then watch (it changes data between rounds).
// Without the node modules it skips, in one line that says how to run it.
func TestCAP(t *testing.T) {
	s := start(t)
	t.Run("probe", func(t *testing.T) { testProbe(t, s) })
	t.Run("tui", func(t *testing.T) { testTUI(t, s) })
	t.Run("watch", func(t *testing.T) { testWatch(t, s) })
}

// modules finds the suite's node_modules: beside this file, in the
// cache install.sh fills, or (with DELTASCOPE_INTEROP=1) installed now.
// Without them the tests skip, saying how to run them.
func modules(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("node_modules/@sap/cds"); err == nil {
		abs, _ := filepath.Abs("node_modules")
		return abs
	}
	lock, err := os.ReadFile("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(lock)
	cache := os.Getenv("DELTASCOPE_CAP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "deltascope", "cap-"+hex.EncodeToString(sum[:])[:16])
	}
	dir := filepath.Join(cache, "node_modules")
	if _, err := os.Stat(filepath.Join(dir, ".deltascope-complete")); err == nil {
		return dir
	}
	if os.Getenv("DELTASCOPE_INTEROP") != "1" {
		t.Skip("SAP CAP interop: node modules not installed; run interop/cap/install.sh (or .ci/run), or DELTASCOPE_INTEROP=1 go test ./interop/cap to install them (minutes)")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		t.Fatal("DELTASCOPE_INTEROP=1 needs node 20 and npm on PATH")
	}
	out, err := exec.Command("./install.sh").Output()
	if err != nil {
		t.Fatalf("install.sh: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// server is a running CAP service.
type server struct {
	Root string // the OData service root, http://127.0.0.1:PORT/odata/v4/interop
}

// start runs the CAP service on 127.0.0.1 and a free port, from a copy of
// the project with node_modules linked in, and stops it when the test ends.
func start(t *testing.T) *server {
	t.Helper()
	mods := modules(t)
	dir := t.TempDir()
	for _, f := range []string{"package.json", "server.js", "db/schema.cds", "srv/service.cds", "db/data/interop-Books.csv", "db/data/interop-Authors.csv", "db/data/interop-Stock.csv"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(mods, filepath.Join(dir, "node_modules")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "node", filepath.Join(mods, "@sap/cds/bin/serve.js"), "all", "--in-memory", "--port", "0")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NODE_ENV=development", "CDS_LOG_LEVELS_CDS=info")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
	})
	port := make(chan string, 1)
	var log bytes.Buffer
	go func() {
		re := regexp.MustCompile(`server listening on \{ url: 'http://localhost:(\d+)' \}`)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				port <- m[1]
			}
		}
		close(port)
	}()
	select {
	case p, ok := <-port:
		if !ok {
			t.Fatalf("CAP did not start:\n%s\n%s", log.String(), stderr.String())
		}
		return &server{Root: "http://127.0.0.1:" + p + "/odata/v4/interop"}
	case <-time.After(90 * time.Second):
		t.Fatalf("CAP did not start in 90s:\n%s", stderr.String())
	}
	return nil
}

// do sends one OData request to the service and fails the test unless it
// answers 2xx.
func (s *server) do(t *testing.T, method, path string, body any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.Root+"/"+path, r)
	req.Header.Set("Content-Type", "application/json")
	// Authors has an etag: CAP wants a precondition (428 without one).
	req.Header.Set("If-Match", "*")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

// count reads path/$count.
func (s *server) count(t *testing.T, set string) int {
	t.Helper()
	resp, err := http.Get(s.Root + "/" + set + "/$count")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n int
	fmt.Fscan(resp.Body, &n)
	return n
}

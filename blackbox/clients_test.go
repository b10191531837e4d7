//go:build linux

package blackbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// The peers run as child processes of the test binary, so each has its
// own peak RSS: BLACKBOX_CHILD names the client, BLACKBOX_URL the
// collection. Each prints the records it got.
func TestMain(m *testing.M) {
	switch os.Getenv("BLACKBOX_CHILD") {
	case "":
		code := m.Run()
		if binary != "" {
			os.RemoveAll(filepath.Dir(binary))
		}
		os.Exit(code)
	case "raw":
		n, err := rawDownload(os.Getenv("BLACKBOX_URL"))
		exit(n, err)
	case "serve":
		n, _ := strconv.Atoi(os.Getenv("BLACKBOX_RECORDS"))
		if err := serveWire(os.Getenv("BLACKBOX_SHAPE"), n); err != nil {
			exit(0, err)
		}
		os.Exit(0)
	case "stdjson":
		n, err := stdjsonClient(os.Getenv("BLACKBOX_URL"))
		exit(n, err)
	}
	fmt.Fprintln(os.Stderr, "unknown BLACKBOX_CHILD")
	os.Exit(2)
}

func exit(n int, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(n)
	os.Exit(0)
}

func get(u string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Prefer", "odata.track-changes")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", u, resp.Status)
	}
	return resp, nil
}

// rawDownload is the wire's speed: every page read into one reused buffer
// (gunzipped by Go's transport when it was compressed), the nextLink
// found in its tail, nothing decoded. It returns the bytes read.
func rawDownload(start string) (int, error) {
	var buf bytes.Buffer
	total := 0
	for u := start; u != ""; {
		resp, err := get(u)
		if err != nil {
			return 0, err
		}
		buf.Reset()
		_, err = io.Copy(&buf, resp.Body)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		total += buf.Len()
		u = ""
		tail := buf.Bytes()[max(0, buf.Len()-512):]
		const key = `"@odata.nextLink":"`
		if i := bytes.LastIndex(tail, []byte(key)); i >= 0 {
			rest := tail[i+len(key):]
			next, err := url.Parse(string(rest[:bytes.IndexByte(rest, '"')]))
			if err != nil {
				return 0, err
			}
			base, _ := url.Parse(start)
			u = base.ResolveReference(next).String()
		}
	}
	return total, nil
}

// stdjsonClient is what a plain client does: decode each page with
// encoding/json into maps and keep every record in a map by id.
func stdjsonClient(start string) (int, error) {
	records := map[string]map[string]any{}
	base, _ := url.Parse(start)
	for u := start; u != ""; {
		resp, err := get(u)
		if err != nil {
			return 0, err
		}
		var page struct {
			Value    []map[string]any `json:"value"`
			NextLink string           `json:"@odata.nextLink"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return 0, err
		}
		for _, r := range page.Value {
			id, _ := r["id"].(string)
			records[id] = r
		}
		u = ""
		if page.NextLink != "" {
			next, err := url.Parse(page.NextLink)
			if err != nil {
				return 0, err
			}
			u = base.ResolveReference(next).String()
		}
	}
	return len(records), nil
}

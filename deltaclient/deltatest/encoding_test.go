package deltatest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
)

// rawGet fetches url with the given Accept-Encoding and no transparent
// decompression, returning the response and its body as sent.
func rawGet(t *testing.T, url, acceptEncoding string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Prefer", "odata.track-changes")
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestPagesOnTheWire(t *testing.T) {
	t.Parallel()
	plain := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 30})
	defer plain.Close()
	chunked := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 30, Chunked: true})
	defer chunked.Close()
	gz := deltatest.NewServer(deltatest.Options{Seed: 3, Records: 30, Gzip: true})
	defer gz.Close()

	resp, want := rawGet(t, plain.CollectionURL("customers"), "gzip")
	if resp.ContentLength != int64(len(want)) || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("default: Content-Length %d for %d bytes, Content-Encoding %q", resp.ContentLength, len(want), resp.Header.Get("Content-Encoding"))
	}
	// Links name each server's port: compare the records.
	prefix := values(want)
	if len(prefix) < 30*400 {
		t.Fatalf("the plain page's value array is %d bytes", len(prefix))
	}

	resp, got := rawGet(t, chunked.CollectionURL("customers"), "")
	if resp.ContentLength != -1 || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Errorf("chunked: Content-Length %d, Transfer-Encoding %v", resp.ContentLength, resp.TransferEncoding)
	}
	if !bytes.Equal(values(got), prefix) {
		t.Errorf("chunked page differs from the plain one")
	}

	resp, got = rawGet(t, gz.CollectionURL("customers"), "deflate, gzip;q=0.8")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.ContentLength != -1 {
		t.Fatalf("gzip accepted: Content-Encoding %q, Content-Length %d", resp.Header.Get("Content-Encoding"), resp.ContentLength)
	}
	zr, err := gzip.NewReader(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(values(unzipped), prefix) || len(got) >= len(unzipped) {
		t.Errorf("gzip page: %d bytes compressed, %d unzipped, same as plain: %v", len(got), len(unzipped), bytes.Equal(values(unzipped), prefix))
	}

	for _, ae := range []string{"", "identity", "gzip;q=0", "br"} {
		resp, got = rawGet(t, gz.CollectionURL("customers"), ae)
		if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(values(got), prefix) {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, plain body %v", ae, resp.Header.Get("Content-Encoding"), bytes.Equal(values(got), prefix))
		}
	}
}

// values is a page's value array, as sent.
func values(page []byte) []byte {
	start := bytes.Index(page, []byte(`"value":[`))
	end := bytes.LastIndex(page, []byte(`],"@odata.`))
	if start < 0 || end < start {
		return nil
	}
	return page[start:end]
}

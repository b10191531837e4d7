package har

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deltascope/deltascope/reqlog"
)

func exchange(i int) *reqlog.Exchange {
	return &reqlog.Exchange{
		Start: time.Date(2026, 11, 25, 14, 3, i, 0, time.FixedZone("CET", 3600)), Method: "GET",
		URL:           fmt.Sprintf("http://127.0.0.1:9/api/customers?$skiptoken=%d&deltaToken=abc%%3D", i),
		RequestHeader: http.Header{"Prefer": {"odata.track-changes"}, "Authorization": {"Bearer [redacted]"}},
		Status:        200, StatusText: "OK", Proto: "HTTP/1.1",
		ResponseHeader: http.Header{"Content-Type": {"application/json"}, "Preference-Applied": {"odata.track-changes"}},
		Body:           []byte(fmt.Sprintf(`{"value":[{"id":%d,"name":"<Alpine & Co>"}]}`, i)), BodySize: 40, Complete: true,
		Timings: reqlog.Timings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1, Send: time.Millisecond, Wait: 2 * time.Millisecond, Receive: time.Millisecond},
	}
}

// TestWriterIsValidAfterEveryEntry: the file on disk is whole HAR after
// each exchange, which is what makes an interrupt or a kill safe.
func TestWriterIsValidAfterEveryEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.har")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWriter(f, Creator{Name: "deltascope", Version: "test"}, &Session{URL: "http://127.0.0.1:9/api"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		data, _ := os.ReadFile(path)
		validate(t, data)
		l, err := Read(bytes.NewReader(data))
		if err != nil || len(l.Entries) != i || l.Version != "1.2" || l.Session.URL != "http://127.0.0.1:9/api" {
			t.Fatalf("after %d entries: %v %+v", i, err, l)
		}
		e := FromExchange(exchange(i), 0)
		if err := w.Add(&e); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	validate(t, data)
	l, _ := Read(bytes.NewReader(data))
	e := l.Entries[3]
	if !strings.HasSuffix(e.StartedDateTime, "+01:00") || e.Request.QueryString[0] != (NameValue{"$skiptoken", "3"}) ||
		e.Request.QueryString[1] != (NameValue{"deltaToken", "abc="}) || e.Response.Content.Text != `{"value":[{"id":3,"name":"<Alpine & Co>"}]}` {
		t.Errorf("entry %+v", e)
	}
	if !bytes.Contains(data, []byte("<Alpine & Co>")) {
		t.Error("bodies must be written as they are, not HTML-escaped")
	}

	// A kill inside the write of an entry leaves a partial last line:
	// Read keeps the entries before it.
	torn := append(bytes.Clone(data[:len(data)-len(closing)]), []byte(",\n{\"startedDateTime\":\"2026-11-25T14:03:09Z\",\"time\":1,\"req")...)
	l, err = Read(bytes.NewReader(torn))
	if err != nil || len(l.Entries) != 4 {
		t.Fatalf("torn file: %v, %d entries", err, len(l.Entries))
	}
}

func TestFromExchangeMarksCutAndFailed(t *testing.T) {
	t.Parallel()
	x := exchange(1)
	x.Body = bytes.Repeat([]byte("a"), 100)
	x.BodySize = 100
	e := FromExchange(x, 10)
	if len(e.Response.Content.Text) != 10 || e.Response.Content.Size != 100 || !strings.Contains(e.Comment, "10 of 100") {
		t.Errorf("cut: %d %d %q", len(e.Response.Content.Text), e.Response.Content.Size, e.Comment)
	}
	x = exchange(2)
	x.Status, x.Err, x.Body, x.BodySize, x.Complete = 0, "connection reset by peer", nil, 0, false
	x.ResponseHeader = http.Header{}
	e = FromExchange(x, 0)
	if e.Error == "" || e.Response.Status != 0 || !strings.Contains(e.Comment, "reset") {
		t.Errorf("failed: %+v", e)
	}
	x = exchange(3)
	x.Body = []byte{0xff, 0xfe, 0}
	e = FromExchange(x, 0)
	if b, _ := e.Response.Content.Body(); e.Response.Content.Encoding != "base64" || !bytes.Equal(b, x.Body) {
		t.Errorf("binary body: %+v", e.Response.Content)
	}
}

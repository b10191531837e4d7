package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestStatusOf(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("baseline customers page 2: %w", err) }
	cases := []struct {
		name  string
		err   error
		kind  Kind
		http  int
		cause string
	}{
		{"nil", nil, KindOther, 0, "the request failed"},
		{"canceled", wrap(context.Canceled), KindCanceled, 0, "the request failed"},
		{"gone", wrap(&GoneError{Status: 410}), KindGone, 410, "the delta link expired (410)"},
		{"gone as 400", &GoneError{Status: 400, Code: "syncStateNotFound"}, KindGone, 400, "the delta link expired (400)"},
		{"unsupported", wrap(&UnsupportedError{Status: 500}), KindUnsupported, 500, "the service answered 500"},
		{"no deltaLink", &UnsupportedError{NoDeltaLink: true}, KindUnsupported, 0, "the request failed"},
		{"401", wrap(&HTTPError{Status: 401}), KindAuth, 401, "the service answered 401"},
		{"403", &HTTPError{Status: 403}, KindAuth, 403, "the service answered 403"},
		{"429", fmt.Errorf("gave up after 5 tries: %w", &HTTPError{Status: 429}), KindThrottled, 429, "throttled (429)"},
		{"503", &HTTPError{Status: 503}, KindHTTP, 503, "the service answered 503"},
		{"network", wrap(&NetworkError{Err: errors.New("connection reset")}), KindNetwork, 0, "the connection failed"},
		{"deadline", wrap(context.DeadlineExceeded), KindNetwork, 0, "the connection failed"},
		{"not JSON", wrap(ErrNotJSON), KindMalformed, 0, "the answer was not an OData page"},
		{"malformed", &MalformedError{Err: errors.New("value is not an array")}, KindMalformed, 0, "the answer was not an OData page"},
		{"other", errors.New("disk full"), KindOther, 0, "the request failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := StatusOf(tc.err)
			if st.Kind != tc.kind || st.HTTP != tc.http {
				t.Errorf("StatusOf = %+v, want kind %d status %d", st, tc.kind, tc.http)
			}
			if got := st.Cause(); got != tc.cause {
				t.Errorf("Cause = %q, want %q", got, tc.cause)
			}
		})
	}
}

// TestStatusOfRealAnswers classifies what a real exchange on loopback
// returns, so the table above matches what the client produces.
func TestStatusOfRealAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/auth":
			w.WriteHeader(http.StatusUnauthorized)
		case "/busy":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/html":
			w.Write([]byte("<html>sign in</html>"))
		}
	}))
	defer srv.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + l.Addr().String() + "/x"
	l.Close()
	c := &Client{Retry: RetryPolicy{Tries: 1}, RequestTimeout: 5 * time.Second}
	for path, want := range map[string]Kind{srv.URL + "/gone": KindGone, srv.URL + "/auth": KindAuth, srv.URL + "/busy": KindThrottled, srv.URL + "/html": KindMalformed, closed: KindNetwork} {
		_, err := c.BaselinePages(context.Background(), path, nil, func([]Entry) {})
		if got := StatusOf(err).Kind; got != want {
			t.Errorf("%s: kind %d, want %d (err %v)", path, got, want, err)
		}
	}
}

func TestRetrySentence(t *testing.T) {
	t.Parallel()
	r := &RetryInfo{Attempt: 2, Max: 5, Wait: 12 * time.Second, Err: &HTTPError{Status: 429}}
	if got, want := r.String(), "throttled (429), retrying in 12s (2/5)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

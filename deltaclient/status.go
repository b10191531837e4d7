package deltaclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Kind is what a failure means to whoever decides what to do next. Every
// front end (the TUI, watch, probe) asks StatusOf instead of unwrapping the
// typed errors itself, so one error is never read two ways.
type Kind uint8

const (
	KindOther       Kind = iota // none of the below: a bug, a local error
	KindGone                    // the delta link expired: take a new baseline
	KindUnsupported             // the entity set does not do deltas: retrying will not help
	KindAuth                    // 401 or 403: the credentials are missing, wrong or too weak
	KindThrottled               // 429: the service asks to slow down
	KindNetwork                 // the service could not be reached or the answer was cut
	KindHTTP                    // any other non-success answer
	KindMalformed               // an answer that is not an OData page (a sign-in page, broken JSON)
	KindCanceled                // the user stopped it: say nothing
)

// ErrorStatus classifies an error once.
type ErrorStatus struct {
	Kind Kind
	// HTTP is the status code of the answer behind the error, 0 when
	// there was none (network, local errors).
	HTTP int
}

// StatusOf classifies err; nil is KindOther with no status.
func StatusOf(err error) ErrorStatus {
	var (
		gone *GoneError
		uns  *UnsupportedError
		he   *HTTPError
		ne   *NetworkError
		me   *MalformedError
	)
	switch {
	case err == nil:
		return ErrorStatus{}
	case errors.Is(err, context.Canceled):
		return ErrorStatus{Kind: KindCanceled}
	case errors.As(err, &gone):
		return ErrorStatus{Kind: KindGone, HTTP: gone.Status}
	case errors.As(err, &uns):
		return ErrorStatus{Kind: KindUnsupported, HTTP: uns.Status}
	case errors.As(err, &he):
		switch he.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			return ErrorStatus{Kind: KindAuth, HTTP: he.Status}
		case http.StatusTooManyRequests:
			return ErrorStatus{Kind: KindThrottled, HTTP: he.Status}
		}
		return ErrorStatus{Kind: KindHTTP, HTTP: he.Status}
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return ErrorStatus{Kind: KindNetwork}
	case errors.As(err, &me), errors.Is(err, ErrNotJSON):
		return ErrorStatus{Kind: KindMalformed}
	}
	return ErrorStatus{Kind: KindOther}
}

// Cause says in a few words why a request failed, for sentences such as
// "customers: throttled (429), retrying in 4s (2/5)".
func (s ErrorStatus) Cause() string {
	switch s.Kind {
	case KindThrottled:
		return "throttled (429)"
	case KindNetwork:
		return "the connection failed"
	case KindGone:
		return fmt.Sprintf("the delta link expired (%d)", s.HTTP)
	case KindMalformed:
		return "the answer was not an OData page"
	}
	if s.HTTP != 0 {
		return fmt.Sprintf("the service answered %d", s.HTTP)
	}
	return "the request failed"
}

// String is the one sentence every front end shows for a page being tried
// again: "throttled (429), retrying in 12s (2/5)". Callers put the entity
// or page in front.
func (r *RetryInfo) String() string {
	return fmt.Sprintf("%s, retrying in %s (%d/%d)", StatusOf(r.Err).Cause(), r.Wait.Round(100*time.Millisecond), r.Attempt, r.Max)
}

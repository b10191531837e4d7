package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/model"
)

// operation is what failed: which kind of request, for which entity, and
// whether the entity already had a baseline (so r, not b, retries it).
type operation struct {
	kind      opKind
	entity    string
	baselined bool
}

// describe turns a failed operation into the entity's status and a banner
// in plain words with the key that fixes it. It is pure: the caller
// applies the result. A nil banner means say nothing (the user cancelled).
func describe(op operation, err error) (model.Status, *banner) {
	name := termtext.Sanitize(op.entity)
	st := deltaclient.StatusOf(err)
	switch st.Kind {
	case deltaclient.KindCanceled:
		return model.Failed, nil
	case deltaclient.KindGone:
		text := fmt.Sprintf("%s: the delta link expired (%d %s). Press b to take a new baseline; changes made meanwhile will be shown.", name, st.HTTP, http.StatusText(st.HTTP))
		if loc := goneLocation(err); loc != "" {
			text += "\nLocation: " + termtext.Sanitize(loc)
		}
		return model.Expired, &banner{level: levelWarn, text: text}
	case deltaclient.KindUnsupported:
		var text string
		if uns := unsupported(err); uns.NoDeltaLink {
			text = fmt.Sprintf("%s does not support delta requests: the server returned the whole collection without a deltaLink.", name)
		} else {
			text = fmt.Sprintf("%s does not support delta requests (%d): the server returned %q.", name, uns.Status, termtext.Sanitize(uns.Message))
		}
		return model.Unsupported, &banner{level: levelInfo, text: text}
	case deltaclient.KindAuth:
		he := httpError(err)
		what := "the service refused the credentials"
		switch {
		case he.Credentials == "no credentials":
			what = "the service wants credentials and none were sent"
		case he.Credentials != "" && he.Status == http.StatusForbidden:
			what = "the " + he.Credentials + " lacks permission"
		case he.Credentials != "":
			what = "the " + he.Credentials + " was rejected"
		}
		return model.Failed, &banner{level: levelErr, text: fmt.Sprintf("%s: %s (%d %s): %s. Check --token, DELTASCOPE_TOKEN or the other credentials, then press r.",
			name, what, he.Status, http.StatusText(he.Status), termtext.Clip(he.Message, 200))}
	case deltaclient.KindThrottled:
		return model.Failed, &banner{level: levelWarn, text: fmt.Sprintf("%s: throttled by the service (429) and still throttled after retrying. Press r to try again, or a to pause auto-refresh.", name)}
	case deltaclient.KindNetwork:
		return model.Failed, &banner{level: levelErr, text: fmt.Sprintf("%s: cannot reach the service: %s. Press %s to try again.", name, termtext.Sanitize(networkText(err)), retryKey(op))}
	}
	what := map[opKind]string{opBaseline: "baseline", opRound: "delta round", opRebaseline: "re-baseline"}[op.kind]
	text := fmt.Sprintf("%s: the %s failed: %s.", name, what, termtext.Sanitize(strings.TrimSuffix(err.Error(), ".")))
	if op.baselined {
		text += " The snapshot and delta link are unchanged; press r to try again."
	} else {
		text += " Press b to try again."
	}
	return model.Failed, &banner{level: levelErr, text: text}
}

// retryKey is the key that tries op again: r for a round, b before the
// first baseline.
func retryKey(op operation) string {
	if op.baselined {
		return "r"
	}
	return "b"
}

func goneLocation(err error) string {
	var gone *deltaclient.GoneError
	if errors.As(err, &gone) {
		return gone.Location
	}
	return ""
}

func unsupported(err error) *deltaclient.UnsupportedError {
	uns := &deltaclient.UnsupportedError{}
	errors.As(err, &uns)
	return uns
}

func httpError(err error) *deltaclient.HTTPError {
	he := &deltaclient.HTTPError{}
	errors.As(err, &he)
	return he
}

// networkText is the cause of a network failure without the "network:"
// prefix the banner already says in words.
func networkText(err error) string {
	var ne *deltaclient.NetworkError
	if errors.As(err, &ne) {
		return ne.Err.Error()
	}
	return err.Error()
}

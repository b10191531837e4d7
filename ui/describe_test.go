package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/model"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	round := operation{kind: opRound, entity: "customers", baselined: true}
	first := operation{kind: opBaseline, entity: "customers"}
	cases := []struct {
		name   string
		op     operation
		err    error
		status model.Status
		level  level
		want   string // a part of the banner; "" for no banner
	}{
		{"canceled", round, fmt.Errorf("round: %w", context.Canceled), model.Failed, 0, ""},
		{"gone", round, &deltaclient.GoneError{Status: 410, Location: "http://x/customers?$deltatoken=new"}, model.Expired, levelWarn,
			"customers: the delta link expired (410 Gone). Press b to take a new baseline; changes made meanwhile will be shown.\nLocation: http://x/customers?$deltatoken=new"},
		{"unsupported", first, &deltaclient.UnsupportedError{Status: 500, Message: "Entity does not support delta requests."}, model.Unsupported, levelInfo,
			`customers does not support delta requests (500): the server returned "Entity does not support delta requests."`},
		{"no deltaLink", first, &deltaclient.UnsupportedError{NoDeltaLink: true}, model.Unsupported, levelInfo, "without a deltaLink"},
		{"401", round, &deltaclient.HTTPError{Status: 401, Message: "expired", Credentials: "bearer token from --token"}, model.Failed, levelErr,
			"customers: the bearer token from --token was rejected (401 Unauthorized): expired. Check --token"},
		{"403", round, &deltaclient.HTTPError{Status: 403, Credentials: "basic auth for --user"}, model.Failed, levelErr, "the basic auth for --user lacks permission (403 Forbidden)"},
		{"429", round, &deltaclient.HTTPError{Status: 429}, model.Failed, levelWarn, "throttled by the service (429)"},
		{"network, baselined", round, &deltaclient.NetworkError{Err: errors.New("connection refused")}, model.Failed, levelErr,
			"customers: cannot reach the service: connection refused. Press r to try again."},
		{"network, first baseline", first, &deltaclient.NetworkError{Err: errors.New("connection refused")}, model.Failed, levelErr, "Press b to try again."},
		{"other, baselined", round, errors.New("page 2: malformed JSON."), model.Failed, levelErr,
			"customers: the delta round failed: page 2: malformed JSON. The snapshot and delta link are unchanged; press r"},
		{"other, first baseline", first, errors.New("boom"), model.Failed, levelErr, "customers: the baseline failed: boom. Press b to try again."},
		{"hostile name", operation{kind: opRound, entity: "cu\x1b[2Jst"}, errors.New("x\x07y"), model.Failed, levelErr, "cust: the delta round failed: xy."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, b := describe(tc.op, tc.err)
			if status != tc.status {
				t.Errorf("status %v, want %v", status, tc.status)
			}
			if tc.want == "" {
				if b != nil {
					t.Errorf("banner %q, want none", b.text)
				}
				return
			}
			if b == nil {
				t.Fatal("no banner")
			}
			if b.level != tc.level || !strings.Contains(b.text, tc.want) {
				t.Errorf("banner %d %q, want %d containing %q", b.level, b.text, tc.level, tc.want)
			}
		})
	}
}

package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/charmbracelet/x/vt"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/track"
)

func launchFor(c *deltaclient.Client, root string) Launch {
	return Launch{
		Config: Config{Service: root, NoAuto: true, NoMouse: true},
		Where:  root,
		Open: func(ctx context.Context, company string) (Opened, error) {
			trackers, d, err := track.Open(ctx, c, deltaclient.Target{URL: root, Company: company})
			if err != nil {
				return Opened{}, err
			}
			return Opened{Trackers: trackers, Company: d.Company}, nil
		},
		Companies: func(ctx context.Context) ([]deltaclient.Company, error) { return c.Companies(ctx, root) },
	}
}

// TestCompanies: a service with several companies asks which one, names it
// in the header, and C switches company without restarting.
func TestCompanies(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 5, Records: 20, Companies: 3})
	defer srv.Close()
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}
	a := newApp(context.Background(), launchFor(c, srv.ServiceRoot()))
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(100, 30))
	scr := &screenReader{em: vt.NewEmulator(100, 30)}
	scr.waitFor(t, tm, "This service has several companies. Which one?", "CRONUS International Ltd.")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	scr.waitFor(t, tm, "deltascope │ CRONUS USA, Inc. │", "customers", "paused")

	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("C")})
	scr.waitFor(t, tm, "Switch to which company?", "CRONUS USA, Inc. (open now)")
	tm.Send(tea.KeyMsg{Type: tea.KeyDown})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	scr.waitFor(t, tm, "deltascope │ CRONUS International Ltd. │", "paused")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if a.err != nil {
		t.Fatal(a.err)
	}
}

// TestConnectingScreen: a slow service shows what is being opened at once,
// and --timeout ends the wait with an error that names the service.
func TestConnectingScreen(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}
	l := launchFor(c, slow.URL+"/api/v2.0")
	l.Timeout = 2 * time.Second
	a := newApp(context.Background(), l)
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(100, 30))
	scr := &screenReader{em: vt.NewEmulator(100, 30)}
	scr.waitFor(t, tm, "Connecting to", slow.URL+"/api/v2.0", "so far · gives up after 2s (--timeout)")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if a.err == nil || !strings.Contains(a.err.Error(), slow.URL+"/api/v2.0 did not answer within --timeout 2s") {
		t.Fatalf("error %v", a.err)
	}
}

// TestOneCompanyOffersNoSwitch: with a single company, C is not offered.
func TestOneCompanyOffersNoSwitch(t *testing.T) {
	t.Parallel()
	srv := deltatest.NewServer(deltatest.Options{Seed: 5, Records: 20})
	defer srv.Close()
	c := &deltaclient.Client{Retry: deltaclient.RetryPolicy{Tries: 1}}
	a := newApp(context.Background(), launchFor(c, srv.ServiceRoot()))
	tm := teatest.NewTestModel(t, a, teatest.WithInitialTermSize(200, 30))
	scr := &screenReader{em: vt.NewEmulator(200, 30)}
	scr.waitFor(t, tm, "deltascope │ CRONUS USA, Inc. │", "paused")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("?")})
	scr.waitFor(t, tm, "company (not now)")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/store"
	"github.com/deltascope/deltascope/ui"
)

type tuiFlags struct {
	conn        conn
	session     sessionFlags
	interval    time.Duration
	noAuto      bool
	concurrency int
	onGone      string
	noMouse     bool
}

func (t *tuiFlags) register(fs *pflag.FlagSet) {
	fs.DurationVarP(&t.interval, "interval", "i", 10*time.Second, fmt.Sprintf("auto-refresh interval, %s to %s (Go duration: 5s, 1m)", human(ui.MinInterval), human(ui.MaxInterval)))
	t.session.register(fs)
	fs.BoolVar(&t.noAuto, "no-auto", false, "start with auto-refresh paused (r refreshes, a resumes)")
	fs.IntVar(&t.concurrency, "concurrency", 4, "baselines taken at once; the other entity sets wait, shown as queued")
	fs.StringVar(&t.onGone, "on-gone", "ask", "on an expired delta link (410): ask (a banner; b re-baselines) or rebaseline on its own")
	fs.BoolVar(&t.noMouse, "no-mouse", false, "leave the mouse to the terminal (its own text selection); by default the wheel scrolls and a click selects")
}

// check rejects TUI flag values no run could use, naming the flag.
func (t *tuiFlags) check() error {
	switch {
	case t.interval < ui.MinInterval || t.interval > ui.MaxInterval:
		return usageError(fmt.Sprintf("--interval %s: must be between %s and %s", human(t.interval), human(ui.MinInterval), human(ui.MaxInterval)))
	case t.concurrency < 1:
		return usageError(fmt.Sprintf("--concurrency %d: must be at least 1", t.concurrency))
	case t.onGone != "ask" && t.onGone != "rebaseline":
		return usageError(fmt.Sprintf("--on-gone %q: must be ask or rebaseline", t.onGone))
	}
	return nil
}

// runTUI is the root command: the TUI on the service the flags name, or on
// the embedded demo. The TUI connects itself, so the terminal shows a
// connecting screen at once and asks for a company when there are several.
func runTUI(ctx context.Context, t tuiFlags) (int, error) {
	if err := t.check(); err != nil {
		return exitUsage, err
	}
	s, err := t.conn.dial()
	if err != nil {
		return exitFailure, err
	}
	defer s.close()
	// Each company has its own stored session (store.NameFor names it by
	// root and company), so switching company re-uses that company's.
	var st *store.Session
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	service := s.service
	if s.demo {
		service = "demo " + service
	}
	l := ui.Launch{
		Config: ui.Config{Service: service, Interval: t.interval, NoAuto: t.noAuto, Log: s.log,
			Concurrency: t.concurrency, RebaselineOnGone: t.onGone == "rebaseline", NoMouse: t.noMouse},
		Where:   s.service,
		Timeout: t.conn.timeout,
		Open: func(ctx context.Context, company string) (ui.Opened, error) {
			if company == "" {
				company = t.conn.company
			}
			if err := s.open(ctx, company); err != nil {
				return ui.Opened{}, err
			}
			if st != nil {
				st.Close()
				st = nil
			}
			var err error
			if st, err = t.session.attach(s); err != nil {
				return ui.Opened{}, err
			}
			o := ui.Opened{Trackers: s.trackers, Company: s.discovery.Company}
			if st != nil {
				o.Session = st.Name
			}
			return o, nil
		},
		Companies: func(ctx context.Context) ([]deltaclient.Company, error) {
			return s.client.Companies(ctx, s.discovery.Root)
		},
	}
	if err := ui.Run(ctx, l, tea.WithOutput(redactedTerminal{File: os.Stdout, secrets: s.log.Secrets()})); err != nil {
		return exitFailure, err
	}
	return exitOK, nil
}

// redactedTerminal is the TUI's last boundary: every frame Bubble Tea
// writes (one Write a frame) has the session's known secrets replaced, so
// a token the server echoes inside a record is not shown either. It stays
// an *os.File for Bubble Tea's terminal handling (size, raw mode).
type redactedTerminal struct {
	*os.File
	secrets *reqlog.Secrets
}

func (t redactedTerminal) Write(b []byte) (int, error) {
	if _, err := t.File.Write(t.secrets.Bytes(b)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// human writes a duration without the zero units Go adds: 5m, not 5m0s.
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/ui"
)

type tuiFlags struct {
	conn     conn
	session  sessionFlags
	interval time.Duration
	noAuto   bool
}

func (t *tuiFlags) register(fs *pflag.FlagSet) {
	fs.DurationVarP(&t.interval, "interval", "i", 10*time.Second, "auto-refresh interval (Go duration: 5s, 1m)")
	t.session.register(fs)
	fs.BoolVar(&t.noAuto, "no-auto", false, "start with auto-refresh paused (r refreshes, a resumes)")
}

// runTUI is the root command: the TUI on the service the flags name, or on
// the embedded demo.
func runTUI(ctx context.Context, t tuiFlags) (int, error) {
	if t.interval <= 0 {
		return exitUsage, usageError(fmt.Sprintf("--interval %s: must be positive", t.interval))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := t.conn.connect(ctx)
	var choice *deltaclient.CompanyChoiceError
	if errors.As(err, &choice) && choice.Asked == "" {
		// Several companies and none named: ask, as a list.
		id, ok, perr := ui.PickCompany(ctx, choice.Companies)
		if perr != nil || !ok {
			return exitFailure, errors.Join(err, perr)
		}
		t.conn.company = id
		s, err = t.conn.connect(ctx)
	}
	if err != nil {
		return exitFailure, err
	}
	defer s.close()
	st, err := t.session.attach(s)
	if err != nil {
		return exitFailure, err
	}
	if st != nil {
		defer st.Close()
	}
	service := s.service
	if s.demo {
		service = "demo " + service
	}
	m := ui.New(ui.Config{Context: ctx, Service: service, Trackers: s.trackers, Interval: t.interval, NoAuto: t.noAuto, Log: s.log})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return exitFailure, err
	}
	return exitOK, nil
}

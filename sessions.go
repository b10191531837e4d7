package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/headless"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/store"
)

// sessionFlags choose where a TUI or watch run keeps its session.
type sessionFlags struct {
	stateDir  string
	name      string
	fresh     bool
	noSession bool
}

func (f *sessionFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.stateDir, "state-dir", "", "where sessions are stored (default $XDG_STATE_HOME/deltascope, else ~/.local/state/deltascope)")
	fs.StringVar(&f.name, "session", "", "session name (default: derived from the service root and company; the embedded demo only keeps one when named)")
	fs.BoolVar(&f.fresh, "fresh", false, "discard the stored session (its history too) and take new baselines")
	fs.BoolVar(&f.noSession, "no-session", false, "keep everything in memory; store nothing")
}

func (f *sessionFlags) dir() (string, error) {
	if f.stateDir != "" {
		return f.stateDir, nil
	}
	return store.DefaultDir()
}

// attach opens the run's session and hands it to every tracker. It returns
// nil without error when the run keeps no session.
func (f *sessionFlags) attach(s *session) (*store.Session, error) {
	if f.noSession {
		if f.name != "" || f.fresh {
			return nil, usageError("--no-session cannot be combined with --session or --fresh")
		}
		return nil, nil
	}
	name := f.name
	if name == "" {
		if s.demo || s.replay {
			return nil, nil
		}
		root := s.service
		company := ""
		if d := s.discovery; d != nil {
			if d.Root != "" {
				root = reqlog.Redact(d.Root)
			}
			if d.Company != nil {
				company = d.Company.ID
			}
		}
		name = store.NameFor(root, company)
	} else if err := store.CheckName(name); err != nil {
		return nil, usageError("--session: " + err.Error())
	}
	dir, err := f.dir()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(dir, name, s.service, f.fresh)
	if err != nil {
		return nil, err
	}
	for _, t := range s.trackers {
		t.UseSession(st)
	}
	return st, nil
}

// readFlags name a stored session to read.
type readFlags struct {
	stateDir, name string
}

func (f *readFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.stateDir, "state-dir", "", "where sessions are stored (default $XDG_STATE_HOME/deltascope, else ~/.local/state/deltascope)")
	fs.StringVar(&f.name, "session", "", "session to read (default: the only one stored)")
}

// open opens the session read-only; it works while a watch writes it.
func (f *readFlags) open() (*store.Session, error) {
	dir := f.stateDir
	if dir == "" {
		var err error
		if dir, err = store.DefaultDir(); err != nil {
			return nil, err
		}
	}
	name := f.name
	if name == "" {
		list, err := store.List(dir)
		if err != nil {
			return nil, err
		}
		switch len(list) {
		case 0:
			return nil, usageError(fmt.Sprintf("no stored sessions in %s; watch or the TUI store one (--state-dir names another directory)", dir))
		case 1:
			name = list[0].Name
		default:
			var names []string
			for _, s := range list {
				names = append(names, s.Name)
			}
			return nil, usageError(fmt.Sprintf("%d sessions in %s; pass --session with one of: %s", len(list), dir, strings.Join(names, ", ")))
		}
	}
	return store.OpenReadOnly(dir, name)
}

type historyFlags struct {
	read               readFlags
	entity, since, key string
	format             string
}

// parseSince reads --since: an RFC 3339 time, or a duration meaning that
// long ago.
func parseSince(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError(fmt.Sprintf("--since %q: give an RFC 3339 time (2026-11-25T16:00:00Z) or a duration ago (90m)", v))
}

func newStoreCmds(stdout io.Writer, wrap func(func(*cobra.Command) (int, error)) func(*cobra.Command, []string) error) []*cobra.Command {
	var h historyFlags
	history := &cobra.Command{
		Use:   "history [--session NAME] [--entity E] [--since T] [--key ID] [--format ndjson|csv]",
		Short: "print a stored session's changes, oldest first",
		Long: `history prints the changes a session stored, oldest first, as watch's added,
updated and deleted events plus their round and time. --since takes an RFC 3339 time
(every event after it) or a duration ago; --format csv writes a header row.
It reads while a watch or the TUI runs on the same session.`,
		Args: cobra.NoArgs,
	}
	h.read.register(history.Flags())
	history.Flags().StringVarP(&h.entity, "entity", "e", "", "only this entity set")
	history.Flags().StringVar(&h.since, "since", "", "only events after this RFC 3339 time, or this long ago (90m)")
	history.Flags().StringVar(&h.key, "key", "", "only the changes of the record with this id")
	history.Flags().StringVar(&h.format, "format", headless.FormatNDJSON, "ndjson or csv")
	history.RunE = wrap(func(cmd *cobra.Command) (int, error) {
		if h.format != headless.FormatNDJSON && h.format != headless.FormatCSV {
			return exitUsage, usageError(fmt.Sprintf("--format %q: must be ndjson or csv", h.format))
		}
		since, err := parseSince(h.since, time.Now())
		if err != nil {
			return exitUsage, err
		}
		s, err := h.read.open()
		if err != nil {
			return codeOf(err), usage(err)
		}
		defer s.Close()
		// A misspelt entity would otherwise print nothing, which reads as
		// "no changes"; say which sets the session holds instead.
		if h.entity != "" {
			names, err := s.Entities()
			if err != nil {
				return exitFailure, err
			}
			if !slices.Contains(names, h.entity) {
				return exitUsage, usageError(fmt.Sprintf("session %s holds no entity %q; it holds: %s", s.Name, h.entity, strings.Join(names, ", ")))
			}
		}
		if err := headless.History(s, store.Filter{Entity: h.entity, Since: since, Key: h.key}, h.format, stdout); err != nil {
			return exitFailure, err
		}
		return exitOK, nil
	})

	var sn struct {
		read   readFlags
		entity string
	}
	snapshot := &cobra.Command{
		Use:   "snapshot [--session NAME] --entity E",
		Short: "print a stored entity set's records, one JSON object a line, as they arrived",
		Args:  cobra.NoArgs,
	}
	sn.read.register(snapshot.Flags())
	snapshot.Flags().StringVarP(&sn.entity, "entity", "e", "", "the entity set to print (required)")
	snapshot.RunE = wrap(func(cmd *cobra.Command) (int, error) {
		s, err := sn.read.open()
		if err != nil {
			return codeOf(err), usage(err)
		}
		defer s.Close()
		if sn.entity == "" {
			names, _ := s.Entities()
			return exitUsage, usageError(fmt.Sprintf("--entity is required; session %s holds: %s", s.Name, strings.Join(names, ", ")))
		}
		if err := headless.Snapshot(s, sn.entity, stdout); err != nil {
			return codeOf(err), usage(err)
		}
		return exitOK, nil
	})

	var ss struct {
		stateDir string
		json     bool
	}
	dirOf := func() (string, error) {
		if ss.stateDir != "" {
			return ss.stateDir, nil
		}
		return store.DefaultDir()
	}
	sessions := &cobra.Command{
		Use:   "sessions [--state-dir D] [--json] | sessions rm NAME",
		Short: "list the stored sessions (service, entities, records, last round, size), or remove one",
		Args:  cobra.NoArgs,
	}
	sessions.PersistentFlags().StringVar(&ss.stateDir, "state-dir", "", "where sessions are stored (default $XDG_STATE_HOME/deltascope, else ~/.local/state/deltascope)")
	sessions.Flags().BoolVarP(&ss.json, "json", "j", false, "one JSON object a line instead of a table")
	sessions.RunE = wrap(func(cmd *cobra.Command) (int, error) {
		dir, err := dirOf()
		if err != nil {
			return exitFailure, err
		}
		list, err := store.List(dir)
		if err != nil {
			return exitFailure, err
		}
		return exitOK, headless.Sessions(list, ss.json, stdout)
	})
	rm := &cobra.Command{
		Use:   "rm NAME",
		Short: "remove a stored session (refused while it is in use)",
		Args:  cobra.ExactArgs(1),
	}
	rm.RunE = func(cmd *cobra.Command, args []string) error {
		return wrap(func(*cobra.Command) (int, error) {
			dir, err := dirOf()
			if err != nil {
				return exitFailure, err
			}
			if err := store.Remove(dir, args[0]); err != nil {
				return codeOf(err), usage(err)
			}
			return exitOK, nil
		})(cmd, args)
	}
	sessions.AddCommand(rm)
	return []*cobra.Command{history, snapshot, sessions}
}

// codeOf is the exit code of a store error: naming what is not there is
// bad usage; anything else a failure.
func codeOf(err error) int {
	var nf *store.NotFoundError
	var ue usageError
	if errors.As(err, &nf) || errors.As(err, &ue) {
		return exitUsage
	}
	return exitFailure
}

// usage makes a store's "not there" a usage error, so the exit code says
// the command line named it.
func usage(err error) error {
	var nf *store.NotFoundError
	if errors.As(err, &nf) {
		return usageError(nf.Error())
	}
	return err
}

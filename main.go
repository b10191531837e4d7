// Command deltascope inspects OData delta links: it takes a baseline of each
// entity set with change tracking and shows what every deltaLink fetch
// brings back. With no flags it runs against an embedded demo service.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/headless"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/track"
	"github.com/deltascope/deltascope/ui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `deltascope: a change inspector for OData delta links

  deltascope [connection flags]                  the TUI (no --url: the embedded demo)
  deltascope probe [connection flags] [--json]   which entities support deltas, as a table
  deltascope watch [connection flags] [--entity NAME] [--interval D] [--rounds N]
                                                 headless: baseline, then poll; NDJSON out
  deltascope demo [--addr 127.0.0.1:8080] [--records N] [--seed N]
                                                 serve the demo service for other clients
  deltascope version

Run 'deltascope <command> --help' for the flags of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "":
		if len(args) == 1 && (args[0] == "--version" || args[0] == "-version") {
			fmt.Fprintln(stdout, version())
			return 0
		}
		return runTUI(ctx, args, stdout, stderr)
	case "watch":
		return runWatch(ctx, args, stdout, stderr)
	case "probe":
		return runProbe(ctx, args, stdout, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, version())
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "deltascope: unknown command %q; run 'deltascope help' for the commands\n", cmd)
		return headless.ExitUsage
	}
}

func version() string {
	v, gov := "(devel)", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		gov = bi.GoVersion
	}
	return fmt.Sprintf("deltascope %s %s", v, gov)
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// parse parses flags; on error or --help it prints and returns false with
// the exit code.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (int, bool) {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		if fs.Name() == "deltascope" {
			fmt.Fprint(stdout, usage+"\nConnection and TUI flags:\n")
		} else {
			fmt.Fprintf(stdout, "Usage of deltascope %s:\n", fs.Name())
		}
		fs.PrintDefaults()
		return 0, false
	}
	name := "deltascope " + fs.Name()
	if fs.Name() == "deltascope" {
		name = "deltascope"
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v (run '%s --help' for the flags)\n", name, err, name)
		return headless.ExitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q (run '%s --help' for the flags)\n", name, fs.Arg(0), name)
		return headless.ExitUsage, false
	}
	return 0, true
}

// demoOptions are what the TUI, watch and probe run against with no --url.
var demoOptions = deltatest.Options{Seed: 1, Records: 1200, PageSize: 1000, ChangeEvery: time.Second}

type usageError string

func (e usageError) Error() string { return string(e) }

// failure prints a one-line reason and returns the exit code for err.
func failure(stderr io.Writer, cmd string, err error) int {
	if cmd != "" {
		cmd = " " + cmd
	}
	fmt.Fprintf(stderr, "deltascope%s: %s\n", cmd, termtext.Sanitize(err.Error()))
	var ue usageError
	var ce *track.CompanyChoiceError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return headless.ExitUsage
	}
	return headless.ExitFailure
}

func runWatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	var c conn
	c.register(fs)
	interval := fs.Duration("interval", 10*time.Second, "time between delta rounds (Go duration: 200ms, 10s, 1m)")
	rounds := fs.Int("rounds", 0, "stop after N rounds; 0: until interrupted")
	onGone := fs.String("on-gone", "rebaseline", "on an expired delta link (410): rebaseline, or exit (code 4)")
	progress := fs.Bool("progress", false, "write progress events (NDJSON) every second of a long baseline or round")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if *interval <= 0 || *rounds < 0 || (*onGone != "rebaseline" && *onGone != "exit") {
		fmt.Fprintln(stderr, "deltascope watch: --interval must be positive, --rounds 0 or more, --on-gone rebaseline or exit")
		return headless.ExitUsage
	}
	s, err := c.connect(ctx)
	if err != nil {
		return failure(stderr, "watch", err)
	}
	defer s.close()
	return headless.Watch(ctx, headless.WatchOptions{Trackers: s.trackers, Interval: *interval, Rounds: *rounds, ExitOnGone: *onGone == "exit", Progress: *progress}, stdout, stderr)
}

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	var c conn
	c.register(fs)
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	concurrency := fs.Int("concurrency", 4, "entities probed at once")
	pages := fs.Int("pages", 3, "pages of one record to follow looking for a deltaLink")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if *concurrency < 1 || *pages < 1 {
		return failure(stderr, "probe", usageError("--concurrency and --pages must be at least 1"))
	}
	s, err := c.connect(ctx)
	if err != nil {
		return failure(stderr, "probe", err)
	}
	defer s.close()
	bc := strings.Contains(c.url, "businesscentral.dynamics.com") || strings.Contains(c.url, "/api/v2.0")
	return headless.Probe(ctx, headless.ProbeOptions{Trackers: s.trackers, Concurrency: *concurrency, MaxPages: *pages, JSON: *asJSON, BusinessCentral: bc}, stdout, stderr)
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	records := fs.Int("records", 1200, "customers to create (vendors and items scale with it)")
	seed := fs.Uint64("seed", 1, "seed for the data and the changes")
	every := fs.Duration("change-every", time.Second, "pace of the change generator; 0 turns it off")
	pageSize := fs.Int("page-size", 20000, "server page size when the client asks for none")
	deletions := fs.String("deletions", "4.0", "deleted-entity encoding: 4.0 ($deletedEntity) or 4.01 (@removed)")
	partial := fs.Bool("partial", false, "send only the changed fields of an update, like Microsoft Graph")
	ttl := fs.Duration("token-ttl", 0, "expire delta links older than this (410 Gone); 0: never")
	companies := fs.Int("companies", 1, "number of companies")
	faults := fs.String("faults", "", "inject faults: 'rate=0.1,kinds=429,503,reset,truncate,slow,410,dup,hostile'")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	fl, err := deltatest.ParseFaults(*faults)
	if err != nil {
		return failure(stderr, "demo", usageError(err.Error()))
	}
	if *deletions != deltatest.Deletions40 && *deletions != deltatest.Deletions401 {
		return failure(stderr, "demo", usageError("--deletions must be 4.0 or 4.01"))
	}
	if *records < 1 || *pageSize < 1 || *companies < 1 {
		return failure(stderr, "demo", usageError("--records, --page-size and --companies must be at least 1"))
	}
	srv, err := deltatest.Listen(*addr, deltatest.Options{Seed: *seed, Records: *records, PageSize: *pageSize, ChangeEvery: *every,
		Deletions: *deletions, PartialUpdates: *partial, TokenTTL: *ttl, Faults: fl, Companies: *companies})
	if err != nil {
		return failure(stderr, "demo", fmt.Errorf("cannot listen on %s: %w (pick another --addr)", *addr, err))
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "deltascope demo: a Business Central-shaped API with change tracking\n")
	fmt.Fprintf(stdout, "  service root  %s\n", srv.ServiceRoot())
	fmt.Fprintf(stdout, "  company       %s (CRONUS USA, Inc.)\n", srv.CompanyID())
	fmt.Fprintf(stdout, "  customers     %s\n", srv.CollectionURL("customers"))
	fmt.Fprintf(stdout, "  entity sets   %s\n", strings.Join(srv.EntitySets(), ", "))
	fmt.Fprintf(stdout, "try: deltascope watch --url %s --entity customers\n", srv.ServiceRoot())
	<-ctx.Done()
	return 0
}

func runTUI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deltascope", flag.ContinueOnError)
	var c conn
	c.register(fs)
	interval := fs.Duration("interval", 10*time.Second, "auto-refresh interval (Go duration: 5s, 1m)")
	noAuto := fs.Bool("no-auto", false, "start with auto-refresh paused (r refreshes, a resumes)")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	if *interval <= 0 {
		return failure(stderr, "", usageError("--interval must be positive"))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := c.connect(ctx)
	var choice *track.CompanyChoiceError
	if errors.As(err, &choice) && choice.Asked == "" {
		// Several companies and none named: ask, as a list.
		id, ok, perr := ui.PickCompany(ctx, choice.Companies)
		if perr != nil || !ok {
			return failure(stderr, "", errors.Join(err, perr))
		}
		c.company = id
		s, err = c.connect(ctx)
	}
	if err != nil {
		return failure(stderr, "", err)
	}
	defer s.close()
	service := s.service
	if s.demo {
		service = "demo " + service
	}
	m := ui.New(ui.Config{Context: ctx, Service: service, Trackers: s.trackers, Interval: *interval, NoAuto: *noAuto, Log: s.log})
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return failure(stderr, "", err)
	}
	return 0
}

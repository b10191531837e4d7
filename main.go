// Command deltascope inspects OData delta links: it takes a baseline of each
// entity set with change tracking and shows what every deltaLink fetch
// brings back. With no flags it runs against an embedded demo service.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/headless"
	"github.com/deltascope/deltascope/internal/termtext"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes, the same for every command (README "Exit codes").
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnsupported = 3 // watch: no entity supports deltas
	exitGone        = 4 // watch --on-gone exit: a delta link expired
	exitProbeError  = 5 // probe: some entity set's verdict is error
)

// run executes one command line and returns its exit code. Commands report
// a code through exitCode (watch and probe decide theirs) or an error,
// which failure turns into one line on stderr and a code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	code := exitOK
	ranCommand := false
	root := newRootCmd(stdout, stderr, &code, &ranCommand)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return code
	}
	if !ranCommand {
		// Cobra's own errors: an unknown command or flag, a bad value, a
		// stray argument. Say how to see the flags.
		err = usageError(fmt.Sprintf("%v (run '%s --help' for the flags)", err, cmd.CommandPath()))
	}
	return failure(stderr, cmd.CommandPath(), err)
}

// newRootCmd builds the command tree. The root command is the TUI.
func newRootCmd(stdout, stderr io.Writer, code *int, ran *bool) *cobra.Command {
	// wrap marks that a command's own code ran, so its errors are not taken
	// for usage errors, and keeps the code it returns.
	wrap := func(fn func(cmd *cobra.Command) (int, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, _ []string) error {
			*ran = true
			c, err := fn(cmd)
			*code = c
			return err
		}
	}
	root := &cobra.Command{
		Use:   "deltascope",
		Short: "a change inspector for OData delta links",
		Long: `deltascope takes a baseline of each entity set with Prefer: odata.track-changes,
keeps the @odata.deltaLink, and shows live what every deltaLink fetch brings back:
records added, updated (field by field) and deleted. With no --url it runs against
an embedded demo service.`,
		Example: `  deltascope                                         the TUI on the embedded demo
  deltascope --url https://HOST/api/v2.0 --company CRONUS --token-command 'az account get-access-token --query accessToken -o tsv'
  deltascope probe --url https://HOST/api/v2.0       which entities support deltas
  deltascope watch --entity customers --rounds 3     NDJSON events for scripts
  deltascope --demo-delta off                        the demo without delta links: sets are polled
  deltascope demo --addr 127.0.0.1:8080              serve the demo for other clients`,
		Version:       version(),
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.CompletionOptions.HiddenDefaultCmd = false

	var tui tuiFlags
	root.Flags().AddFlagSet(tui.conn.flags())
	tui.register(root.Flags())
	root.RunE = wrap(func(cmd *cobra.Command) (int, error) { return runTUI(cmd.Context(), tui) })

	var w watchFlags
	watch := &cobra.Command{
		Use:   "watch [connection flags] [--entity NAME] [--interval D] [--rounds N]",
		Short: "headless: baseline, then follow changes; one JSON event a line on stdout",
		Long: `watch takes a baseline of each entity set (every set of the service unless
--entity names some), then fetches its delta link every --interval and prints one
JSON object a line: baseline, added, updated, deleted, round, gone, unsupported,
error. A set without delta links is polled instead (its events carry "via":"poll"
and the round event the "method"), unless --delta-only. Exit codes: 0 after
--rounds rounds or an interrupt, 1 on a failure, 2 on bad usage, 3 when no entity
supports deltas (--delta-only), 4 on a 410 with --on-gone exit.`,
		Args: cobra.NoArgs,
	}
	watch.Flags().AddFlagSet(w.conn.flags())
	w.register(watch.Flags())
	w.session.register(watch.Flags())
	watch.RunE = wrap(func(cmd *cobra.Command) (int, error) { return runWatch(cmd.Context(), w, stdout, stderr) })

	var p probeFlags
	probe := &cobra.Command{
		Use:   "probe [connection flags] [--json]",
		Short: "which entity sets support delta links, as a table or JSON",
		Long: `probe asks each entity set for a baseline with change tracking, reading at most
a few small pages, and says whether it answers with a delta link; for a set without
one it says how it would be polled (FOLLOWED BY, "method" in JSON), from $metadata
and at most two small requests. Exit codes: 0 when every set got a verdict (yes or
no), 1 when no set could be reached, 2 on bad usage, 5 when some set's verdict is error.`,
		Args: cobra.NoArgs,
	}
	probe.Flags().AddFlagSet(p.conn.flags())
	p.register(probe.Flags())
	probe.RunE = wrap(func(cmd *cobra.Command) (int, error) { return runProbe(cmd.Context(), p, stdout, stderr) })

	var d demoFlags
	demo := &cobra.Command{
		Use:   "demo [--addr 127.0.0.1:8080] [--records N] [--seed N]",
		Short: "serve the embedded Business Central-shaped demo service for other clients",
		Args:  cobra.NoArgs,
	}
	d.register(demo.Flags())
	demo.RunE = wrap(func(cmd *cobra.Command) (int, error) { return runDemo(cmd.Context(), d, stdout) })

	ver := &cobra.Command{
		Use:   "version",
		Short: "print the version, the VCS revision it was built from and the Go version",
		Args:  cobra.NoArgs,
		RunE: wrap(func(*cobra.Command) (int, error) {
			fmt.Fprintln(stdout, version())
			return exitOK, nil
		}),
	}
	var rf replayFlags
	replay := &cobra.Command{
		Use:   "replay FILE.har [--addr 127.0.0.1:PORT]",
		Short: "serve a recorded session (--record, or a browser's HAR export) as a service",
		Long: `replay serves the answers of a HAR recording: a request gets the answer recorded
for the same method, path and query, repeated requests get theirs in recorded order
(the last one repeats), a delta past the end of the recording gets an empty delta,
and the recorded origin is rewritten to the replay's own in bodies, links and
Location headers. The first line printed is the base URL. Anything not recorded is
a 404 that says so.`,
		Example: `  deltascope watch --record session.har --rounds 3
  deltascope replay session.har --addr 127.0.0.1:8090
  deltascope --replay session.har                    the TUI on the recording, in process`,
		Args: cobra.ExactArgs(1),
	}
	rf.register(replay.Flags())
	replay.RunE = func(cmd *cobra.Command, args []string) error {
		*ran = true
		c, err := runReplay(cmd.Context(), args[0], rf, stdout)
		*code = c
		return err
	}
	root.AddCommand(watch, probe, demo, replay, ver)
	root.AddCommand(newStoreCmds(stdout, wrap)...)
	return root
}

// version names the build: the module version, and the VCS revision and
// time when the binary was built from a checkout (go build, go install).
func version() string {
	v, gov := "(devel)", ""
	var rev, at, dirty string
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		gov = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = ", modified"
				}
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" {
		return fmt.Sprintf("deltascope %s (%s %s%s) %s", v, rev, at, dirty, gov)
	}
	return fmt.Sprintf("deltascope %s %s", v, gov)
}

// demoOptions are what the TUI, watch and probe run against with no --url.
var demoOptions = deltatest.Options{Seed: 1, Records: 1200, PageSize: 1000, ChangeEvery: time.Second}

type usageError string

func (e usageError) Error() string { return string(e) }

// failure prints a one-line reason and returns the exit code for err.
func failure(stderr io.Writer, cmdPath string, err error) int {
	if cmdPath == "" {
		cmdPath = "deltascope"
	}
	fmt.Fprintf(stderr, "%s: %s\n", cmdPath, termtext.Sanitize(err.Error()))
	var ue usageError
	var ce *deltaclient.CompanyChoiceError
	var unknown *deltaclient.UnknownEntityError
	var dup *deltaclient.DuplicateSetError
	if errors.As(err, &ue) || errors.As(err, &ce) || errors.As(err, &unknown) || errors.As(err, &dup) {
		return exitUsage
	}
	return exitFailure
}

type watchFlags struct {
	conn     conn
	session  sessionFlags
	interval time.Duration
	rounds   int
	onGone   string
	progress bool
}

func (w *watchFlags) register(fs *pflag.FlagSet) {
	fs.DurationVarP(&w.interval, "interval", "i", 10*time.Second, "time between delta rounds (Go duration: 200ms, 10s, 1m)")
	fs.IntVarP(&w.rounds, "rounds", "n", 0, "stop after N rounds; 0: until interrupted")
	fs.StringVar(&w.onGone, "on-gone", "rebaseline", "on an expired delta link (410): rebaseline, or exit (code 4)")
	fs.BoolVar(&w.progress, "progress", false, "write progress events (NDJSON) every second of a long baseline or round")
}

func runWatch(ctx context.Context, w watchFlags, stdout, stderr io.Writer) (int, error) {
	switch {
	case w.interval <= 0:
		return exitUsage, usageError(fmt.Sprintf("--interval %s: must be positive", w.interval))
	case w.rounds < 0:
		return exitUsage, usageError(fmt.Sprintf("--rounds %d: must be 0 (until interrupted) or more", w.rounds))
	case w.onGone != "rebaseline" && w.onGone != "exit":
		return exitUsage, usageError(fmt.Sprintf("--on-gone %q: must be rebaseline or exit", w.onGone))
	}
	s, err := w.conn.connect(ctx)
	if err != nil {
		return exitFailure, err
	}
	defer s.close()
	st, err := w.session.attach(s)
	if err != nil {
		return exitFailure, err
	}
	if st != nil {
		defer st.Close()
	}
	err = headless.Watch(ctx, headless.WatchOptions{Trackers: s.trackers, Secrets: s.log.Secrets(), Interval: w.interval, Rounds: w.rounds, ExitOnGone: w.onGone == "exit", Progress: w.progress}, stdout, stderr)
	// Watch has said why on stderr; only the code is left to decide.
	return watchExit(err), nil
}

// watchExit is watch's exit code for how it ended.
func watchExit(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, headless.ErrNoDeltas):
		return exitUnsupported
	case errors.Is(err, headless.ErrStoppedOnGone):
		return exitGone
	case errors.Is(err, headless.ErrNothingToWatch):
		return exitUsage
	}
	return exitFailure
}

type probeFlags struct {
	conn        conn
	json        bool
	concurrency int
	pages       int
}

func (p *probeFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&p.json, "json", "j", false, "print a JSON array instead of a table")
	fs.IntVar(&p.concurrency, "concurrency", 4, "entities probed at once")
	fs.IntVar(&p.pages, "pages", 2, "pages to read of each set looking for a deltaLink: 1 or 2, whatever size the server sends")
}

func runProbe(ctx context.Context, p probeFlags, stdout, stderr io.Writer) (int, error) {
	if p.concurrency < 1 {
		return exitUsage, usageError(fmt.Sprintf("--concurrency %d: must be at least 1", p.concurrency))
	}
	if p.pages < 1 || p.pages > deltaclient.ProbePages {
		return exitUsage, usageError(fmt.Sprintf("--pages %d: must be 1 or 2 (probe never reads more of a set)", p.pages))
	}
	s, err := p.conn.connect(ctx)
	if err != nil {
		return exitFailure, err
	}
	defer s.close()
	if err := headless.Probe(ctx, headless.ProbeOptions{Trackers: s.trackers, Secrets: s.log.Secrets(), Concurrency: p.concurrency, MaxPages: p.pages, JSON: p.json, BusinessCentral: s.discovery.BusinessCentral}, stdout, stderr); err != nil {
		// Probe has said why on stderr.
		if errors.Is(err, headless.ErrSomeUnprobed) {
			return exitProbeError, nil
		}
		return exitFailure, nil
	}
	return exitOK, nil
}

type demoFlags struct {
	addr              string
	records, pageSize int
	companies         int
	seed              uint64
	every, ttl        time.Duration
	deletions, faults string
	partial           bool
	chunked, gzip     bool
	delta             string
}

func (d *demoFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.IntVar(&d.records, "records", 1200, "customers to create (vendors and items scale with it)")
	fs.Uint64Var(&d.seed, "seed", 1, "seed for the data and the changes")
	fs.DurationVar(&d.every, "change-every", time.Second, "pace of the change generator; 0 turns it off")
	fs.IntVar(&d.pageSize, "page-size", 20000, "server page size when the client asks for none")
	fs.StringVar(&d.deletions, "deletions", "4.0", "deleted-entity encoding: 4.0 ($deletedEntity) or 4.01 (@removed)")
	fs.BoolVar(&d.partial, "partial", false, "send only the changed fields of an update, like Microsoft Graph")
	fs.DurationVar(&d.ttl, "token-ttl", 0, "expire delta links older than this (410 Gone); 0: never")
	fs.IntVar(&d.companies, "companies", 1, "number of companies")
	fs.StringVar(&d.delta, "delta", "on", "delta links: on, or off to ignore odata.track-changes and serve no deltaLink, as Business Central since 2024 wave 1")
	fs.StringVar(&d.faults, "faults", "", "inject faults: 'rate=0.1,kinds=429,503,reset,truncate,slow,410,dup,hostile'")
	fs.BoolVar(&d.chunked, "chunked", false, "send pages without a Content-Length (chunked), as many real services do")
	fs.BoolVar(&d.gzip, "gzip", false, "gzip pages for clients that send Accept-Encoding: gzip, as Business Central and Graph do")
}

func runDemo(ctx context.Context, d demoFlags, stdout io.Writer) (int, error) {
	fl, err := deltatest.ParseFaults(d.faults)
	if err != nil {
		return exitUsage, usageError("--faults: " + err.Error())
	}
	if d.delta != "on" && d.delta != "off" {
		return exitUsage, usageError(fmt.Sprintf("--delta %q: must be on or off", d.delta))
	}
	if d.deletions != deltatest.Deletions40 && d.deletions != deltatest.Deletions401 {
		return exitUsage, usageError(fmt.Sprintf("--deletions %q: must be 4.0 or 4.01", d.deletions))
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"--records", d.records}, {"--page-size", d.pageSize}, {"--companies", d.companies}} {
		if f.v < 1 {
			return exitUsage, usageError(fmt.Sprintf("%s %d: must be at least 1", f.name, f.v))
		}
	}
	srv, err := deltatest.Listen(d.addr, deltatest.Options{Seed: d.seed, Records: d.records, PageSize: d.pageSize, ChangeEvery: d.every,
		Deletions: d.deletions, PartialUpdates: d.partial, TokenTTL: d.ttl, Faults: fl, Companies: d.companies, NoDelta: d.delta == "off",
		Chunked: d.chunked, Gzip: d.gzip})
	if err != nil {
		return exitFailure, fmt.Errorf("cannot listen on %s: %w (pick another --addr)", d.addr, err)
	}
	defer srv.Close()
	if d.delta == "off" {
		fmt.Fprintf(stdout, "deltascope demo: a Business Central-shaped API without delta links (as since 2024 wave 1)\n")
	} else {
		fmt.Fprintf(stdout, "deltascope demo: a Business Central-shaped API with change tracking\n")
	}
	fmt.Fprintf(stdout, "  service root  %s\n", srv.ServiceRoot())
	cos := srv.Companies()
	for i, co := range cos {
		label := "company"
		switch {
		case i > 0:
			label = ""
		case len(cos) > 1:
			label = "companies"
		}
		fmt.Fprintf(stdout, "  %-12s  %s (%s)\n", label, co.ID, co.Name)
	}
	fmt.Fprintf(stdout, "  customers     %s\n", srv.CollectionURL("customers"))
	fmt.Fprintf(stdout, "  entity sets   %s\n", strings.Join(srv.EntitySets(), ", "))
	fmt.Fprintf(stdout, "try: deltascope watch --url %s --entity customers\n", srv.ServiceRoot())
	<-ctx.Done()
	return exitOK, nil
}

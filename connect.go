package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/deltaclient/deltatest"
	"github.com/deltascope/deltascope/reqlog"
	"github.com/deltascope/deltascope/track"
)

// conn holds the connection flags shared by the TUI, watch and probe.
type conn struct {
	url, company, token, tokenCommand, user string
	tenant, clientID, scope, tokenURL       string
	entities, entityURL, headers            []string
	sel, filter, logFile                    string
	key                                     string
	record, replay                          string
	recordMaxBody                           int64
	logSize                                 int
	maxPageSize, retries, maxPages          int
	maxBody                                 int64
	timeout                                 time.Duration
	allowCrossOrigin                        bool
	// Sets without delta links: refuse them, or poll them so.
	deltaOnly bool
	scanEvery int
	overlap   time.Duration
	demoDelta string // the embedded demo's delta links: on, or off as BC since 2024 wave 1
}

// flags is the one set of connection flags, shared by the TUI, watch and
// probe: where to connect, how to authenticate, and the client's limits.
func (c *conn) flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("connection", pflag.ContinueOnError)
	fs.StringVarP(&c.url, "url", "u", "", "service root (.../api/v2.0, .../api/data/v9.2) or Business Central company URL; none: the embedded demo")
	fs.StringVar(&c.company, "company", "", "company id or name, when --url is a root with several companies")
	fs.StringArrayVarP(&c.entities, "entity", "e", nil, "entity set to follow (repeatable); default: all")
	fs.StringArrayVar(&c.entityURL, "entity-url", nil, "full collection or delta function URL to follow, e.g. https://graph.microsoft.com/v1.0/users/delta (repeatable)")
	fs.StringVar(&c.sel, "select", "", "$select for the baselines (the delta links then carry it)")
	fs.StringVar(&c.filter, "filter", "", "$filter for the baselines (the delta links then carry it)")
	fs.StringVar(&c.key, "key", "", "key field(s) that identify a record, comma-separated, e.g. orderNo,lineNo (when $metadata is unavailable or wrong)")
	fs.IntVar(&c.maxPageSize, "maxpagesize", 0, "ask for pages of at most N records (Prefer: odata.maxpagesize)")
	fs.StringArrayVarP(&c.headers, "header", "H", nil, "extra request header 'Name: value' (repeatable)")
	fs.StringVar(&c.token, "token", "", "bearer token (default: $DELTASCOPE_TOKEN)")
	fs.StringVar(&c.tokenCommand, "token-command", "", "command that prints a bearer token; run again after a 401")
	fs.StringVar(&c.user, "user", "", "user for basic auth, with $DELTASCOPE_PASSWORD (BC on-premises web service access key)")
	fs.StringVar(&c.tenant, "tenant", "", "Microsoft Entra tenant for OAuth2 client credentials, with --client-id and $DELTASCOPE_CLIENT_SECRET")
	fs.StringVar(&c.clientID, "client-id", "", "application (client) id for OAuth2 client credentials")
	fs.StringVar(&c.scope, "scope", "https://api.businesscentral.dynamics.com/.default", "OAuth2 scope")
	fs.StringVar(&c.tokenURL, "token-url", "", "OAuth2 token endpoint (default: login.microsoftonline.com for --tenant)")
	fs.BoolVar(&c.allowCrossOrigin, "allow-cross-origin", false, "follow next/delta links to another host, without credentials")
	fs.DurationVar(&c.timeout, "timeout", 2*time.Minute, "time limit for one page")
	fs.IntVar(&c.retries, "retries", 5, "tries per page for throttling, 5xx and dropped connections")
	fs.Int64Var(&c.maxBody, "max-body", 256<<20, "largest response body accepted, in bytes")
	fs.IntVar(&c.maxPages, "max-pages", 100000, "most pages followed in one baseline or round")
	fs.StringVar(&c.logFile, "log", "", "write every HTTP request as NDJSON to this file")
	fs.IntVar(&c.logSize, "log-size", 1000, "requests the request log (l) keeps, newest first")
	fs.StringVar(&c.record, "record", "", "record every HTTP exchange, secrets redacted, to this HAR 1.2 file")
	fs.Int64Var(&c.recordMaxBody, "record-max-body", 0, "with --record: keep at most this many bytes of each body (0: whole)")
	fs.StringVar(&c.replay, "replay", "", "run on a recorded session (a HAR file) served in process, with no network")
	fs.BoolVar(&c.deltaOnly, "delta-only", false, "follow only sets with delta links; others are reported unsupported instead of polled")
	fs.IntVar(&c.scanEvery, "scan-every", 1, "polling by timestamp: look for deleted records (/$count, then a key scan when it disagrees) every N rounds")
	fs.DurationVar(&c.overlap, "overlap", track.DefaultOverlap, "polling by timestamp: read again this far before the newest change seen (clock skew, late commits)")
	fs.StringVar(&c.demoDelta, "demo-delta", "on", "the embedded demo (no --url): on, or off to serve no delta links, as Business Central since 2024 wave 1")
	return fs
}

// session is a connected client and the entity sets to follow.
type session struct {
	client   *deltaclient.Client
	trackers []*track.Tracker
	// discovery is what the service said of itself: company, Business
	// Central or not, the identity rule of each set.
	discovery *deltaclient.Discovery
	service   string // for display; never carries secrets
	target    deltaclient.Target
	log       *reqlog.Log
	demo      bool
	replay    bool // on a recording (--replay): a new address every run
	close     func()
	// poll configures the trackers of sets without delta links.
	deltaOnly bool
	scanEvery int
	overlap   time.Duration
}

// credentials picks the one authentication the flags and environment ask
// for. It returns the secrets too, so the log can refuse to write them.
func (c *conn) credentials(transport http.RoundTripper) (deltaclient.Credentials, []string, error) {
	var modes []string
	var creds deltaclient.Credentials
	var secrets []string
	token, source := c.token, "--token"
	if token == "" {
		token, source = os.Getenv("DELTASCOPE_TOKEN"), "DELTASCOPE_TOKEN"
	}
	if token != "" {
		modes = append(modes, source)
		creds, secrets = deltaclient.Bearer{Token: token, Source: source}, append(secrets, token)
	}
	if c.tokenCommand != "" {
		modes = append(modes, "--token-command")
		creds = &deltaclient.TokenCommand{Command: c.tokenCommand}
	}
	if c.user != "" {
		pw := os.Getenv("DELTASCOPE_PASSWORD")
		if pw == "" {
			return nil, nil, usageError("--user needs the password in DELTASCOPE_PASSWORD")
		}
		modes = append(modes, "--user")
		creds, secrets = deltaclient.Basic{User: c.user, Password: pw}, append(secrets, pw)
	}
	if c.clientID != "" || c.tenant != "" {
		secret := os.Getenv("DELTASCOPE_CLIENT_SECRET")
		switch {
		case c.clientID == "" || (c.tenant == "" && c.tokenURL == ""):
			return nil, nil, usageError("OAuth2 client credentials need --tenant (or --token-url) and --client-id")
		case secret == "":
			return nil, nil, usageError("--client-id needs the client secret in DELTASCOPE_CLIENT_SECRET")
		}
		modes = append(modes, "--client-id")
		creds = deltaclient.NewClientCredentials(c.tenant, c.clientID, secret, c.scope, c.tokenURL, &http.Client{Timeout: c.timeout, Transport: transport})
		secrets = append(secrets, secret)
	}
	if len(modes) > 1 {
		return nil, nil, usageError("choose one way to authenticate, not " + strings.Join(modes, " and "))
	}
	return creds, secrets, nil
}

// connect builds the client and the trackers. With no --url and no
// --entity-url it starts the embedded demo; close it with session.close.
func (c *conn) connect(ctx context.Context) (*session, error) {
	s, err := c.dial()
	if err != nil {
		return nil, err
	}
	// watch and probe show no request detail: bodies kept for it would
	// only take memory from the records (about 60 MB in a 1M-record
	// baseline). --record gets them all the same.
	s.log.DropBodies()
	if err := s.open(ctx, c.company); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// dial builds the client, the log and the service to talk to (the demo, a
// replay) without a request yet; open then discovers the entity sets.
func (c *conn) dial() (*session, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, kv := range c.headers {
		k, v, ok := strings.Cut(kv, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageError(fmt.Sprintf("--header %q must look like 'Name: value'", kv))
		}
		h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	var logOut io.Writer
	closeLog := func() {}
	if c.logFile != "" {
		f, err := os.Create(c.logFile)
		if err != nil {
			return nil, fmt.Errorf("--log: %w", err)
		}
		logOut, closeLog = f, func() { f.Close() }
	}
	// The log captures every exchange at the transport, token requests
	// included, and its redactor learns the secrets as they are known.
	log := reqlog.New(c.logSize, logOut)
	transport := log.Transport(nil)
	key, err := c.keyFields()
	if err != nil {
		closeLog()
		return nil, err
	}
	creds, secrets, err := c.credentials(transport)
	if err != nil {
		closeLog()
		return nil, err
	}
	for _, sec := range secrets {
		log.Secrets().Add(sec)
	}
	if b, ok := creds.(deltaclient.Basic); ok {
		log.Secrets().AddBasic(b.User, b.Password)
	}
	for k, vs := range h {
		if reqlog.SecretHeader(k) {
			for _, v := range vs {
				log.Secrets().Add(v) // API keys travel in headers
			}
		}
	}
	closers := []func(){closeLog}
	s := &session{log: log, close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	target := deltaclient.Target{URL: c.url, Company: c.company, Entities: c.entities, EntityURLs: c.entityURL, Select: c.sel, Filter: c.filter}
	switch {
	case c.replay != "":
		// A recording stands in for the service: nothing secret is sent
		// to it, and nothing leaves the machine.
		stop, err := startReplay(c.replay, &target)
		if err != nil {
			s.close()
			return nil, err
		}
		closers = append(closers, stop)
		creds, h, s.replay = nil, http.Header{}, true
	case c.url == "" && len(c.entityURL) == 0:
		opts := demoOptions
		opts.NoDelta = c.demoDelta == "off"
		srv := deltatest.NewServer(opts)
		closers = append(closers, srv.Close)
		target.URL, s.demo = srv.ServiceRoot(), true
	}
	if c.record != "" {
		stop, err := startRecord(c.record, c.recordMaxBody, log, target)
		if err != nil {
			s.close()
			return nil, err
		}
		closers = append(closers, stop)
	}
	s.client = &deltaclient.Client{
		HTTP: &http.Client{Transport: transport}, Header: h, Credentials: creds, MaxPageSize: c.maxPageSize, RequestTimeout: c.timeout,
		AllowCrossOrigin: c.allowCrossOrigin, MaxBody: c.maxBody, MaxPages: c.maxPages, Retry: deltaclient.RetryPolicy{Tries: c.retries},
		Secrets: log.Secrets(), Identity: key,
	}
	s.service = reqlog.Redact(target.URL)
	if s.service == "" && len(target.EntityURLs) > 0 {
		s.service = reqlog.Redact(target.EntityURLs[0])
	}
	if c.replay != "" {
		s.service = "replay " + s.service
	}
	s.target = target
	s.deltaOnly, s.scanEvery, s.overlap = c.deltaOnly, c.scanEvery, c.overlap
	return s, nil
}

// open discovers the entity sets of company ("" for a service without
// companies, or to be asked) and makes their trackers.
func (s *session) open(ctx context.Context, company string) error {
	t := s.target
	t.Company = company
	trackers, d, err := track.Open(ctx, s.client, t)
	if err != nil {
		return err
	}
	for _, src := range d.Sources {
		s.log.Note(src.IdentityNote)
	}
	for _, tr := range trackers {
		tr.DeltaOnly, tr.ScanEvery, tr.Overlap = s.deltaOnly, s.scanEvery, s.overlap
	}
	s.trackers, s.discovery = trackers, d
	return nil
}

// keyFields reads --key: property names separated by commas.
func (c *conn) keyFields() (deltaclient.Identity, error) {
	if strings.TrimSpace(c.key) == "" {
		return deltaclient.Identity{}, nil
	}
	var fields []string
	for _, f := range strings.Split(c.key, ",") {
		f = strings.TrimSpace(f)
		if f == "" || strings.ContainsAny(f, " \t\"'()=/") {
			return deltaclient.Identity{}, usageError(fmt.Sprintf("--key %q: name the key properties separated by commas, e.g. --key orderNo,lineNo", c.key))
		}
		fields = append(fields, f)
	}
	return deltaclient.Identity{KeyFields: fields, KeySource: "--key"}, nil
}

// check rejects flag values no run could use, naming the flag and value.
func (c *conn) check() error {
	for _, f := range []struct {
		name string
		v    int64
		min  int64
	}{{"--maxpagesize", int64(c.maxPageSize), 0}, {"--retries", int64(c.retries), 1}, {"--max-body", c.maxBody, 1}, {"--max-pages", int64(c.maxPages), 1}, {"--log-size", int64(c.logSize), 1}, {"--record-max-body", c.recordMaxBody, 0}} {
		if f.v < f.min {
			return usageError(fmt.Sprintf("%s %d: must be at least %d", f.name, f.v, f.min))
		}
	}
	if c.scanEvery < 1 {
		return usageError(fmt.Sprintf("--scan-every %d: must be at least 1", c.scanEvery))
	}
	if c.overlap < 0 {
		return usageError(fmt.Sprintf("--overlap %s: must not be negative", c.overlap))
	}
	if c.demoDelta != "on" && c.demoDelta != "off" {
		return usageError(fmt.Sprintf("--demo-delta %q: must be on or off", c.demoDelta))
	}
	if c.timeout <= 0 {
		return usageError(fmt.Sprintf("--timeout %s: must be positive", c.timeout))
	}
	if c.url != "" {
		if err := checkURL("--url", c.url); err != nil {
			return err
		}
	}
	for _, u := range c.entityURL {
		if err := checkURL("--entity-url", u); err != nil {
			return err
		}
	}
	return nil
}

// checkURL accepts an absolute http(s) URL with a host; a URL written
// without its scheme gets a suggestion.
func checkURL(flag, raw string) error {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	if !strings.Contains(raw, "://") {
		scheme := "https://"
		if h, _, _ := strings.Cut(raw, "/"); strings.HasPrefix(h, "localhost") || strings.HasPrefix(h, "127.") || strings.HasPrefix(h, "[::1]") {
			scheme = "http://" // a local service rarely has TLS
		}
		// The URL as typed may carry a token (?access_token=, sig=): the
		// message shows it redacted, like every URL deltascope prints.
		return usageError(fmt.Sprintf("%s %q is not a URL; did you mean %s?", flag, reqlog.Redact(raw), reqlog.Redact(scheme+raw)))
	}
	return usageError(fmt.Sprintf("%s %q is not an http(s) URL with a host", flag, reqlog.Redact(raw)))
}

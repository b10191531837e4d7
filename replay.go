package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/har"
	"github.com/deltascope/deltascope/internal/termtext"
	"github.com/deltascope/deltascope/reqlog"
)

type replayFlags struct {
	addr string
}

func (r *replayFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&r.addr, "addr", "127.0.0.1:0", "address to serve on (port 0: any free port)")
}

// runReplay serves a recorded session (deltascope's --record, or a HAR
// exported by a browser's devtools) until interrupted. Its first line is
// the base URL, for scripts.
func runReplay(ctx context.Context, path string, r replayFlags, stdout io.Writer) (int, error) {
	rp, err := loadReplay("", path)
	if err != nil {
		return exitFailure, err
	}
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		return exitFailure, fmt.Errorf("cannot listen on %s: %w (pick another --addr)", r.addr, err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	fmt.Fprintln(stdout, base)
	fmt.Fprintf(stdout, "deltascope replay: %d recorded exchanges from %s, standing in for %s\n", rp.Entries, termtext.Sanitize(path), strings.Join(rp.Origins(), ", "))
	if s := rp.Session; s != nil {
		switch {
		case s.URL != "":
			fmt.Fprintf(stdout, "try: deltascope watch --url %s%s\n", rp.Rewrite(s.URL, base), companyFlag(s.Company))
		case len(s.EntityURLs) > 0:
			fmt.Fprintf(stdout, "try: deltascope watch --entity-url '%s'\n", rp.Rewrite(s.EntityURLs[0], base))
		}
	}
	<-ctx.Done()
	return exitOK, nil
}

func companyFlag(c string) string {
	if c == "" {
		return ""
	}
	return " --company '" + c + "'"
}

// loadReplay reads a recording; errors start with what, the flag or
// nothing when the command names the file.
func loadReplay(what, path string) (*har.Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s%w", what, err)
	}
	defer f.Close()
	l, err := har.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", what, path, err)
	}
	rp, err := har.NewReplay(l)
	if err != nil {
		return nil, fmt.Errorf("%s%s: %w", what, path, err)
	}
	if rp.Entries == 0 {
		return nil, fmt.Errorf("%s%s: the recording has no exchanges", what, path)
	}
	return rp, nil
}

// startReplay serves the recording in process for --replay and points the
// target at it: at what the recording says it was pointed at, or at the
// --url / --entity-url given (as recorded, the recorded origin).
func startReplay(path string, target *deltaclient.Target) (closeFn func(), err error) {
	rp, err := loadReplay("--replay ", path)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("--replay: %w", err)
	}
	srv := &http.Server{Handler: rp}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	if target.URL == "" && len(target.EntityURLs) == 0 {
		s := rp.Session
		if s == nil || s.URL == "" && len(s.EntityURLs) == 0 {
			srv.Close()
			return nil, usageError(fmt.Sprintf("--replay %s: the recording does not say which service it followed; give --url or --entity-url as they were recorded", path))
		}
		target.URL, target.EntityURLs = s.URL, s.EntityURLs
		if target.Company == "" {
			target.Company = s.Company
		}
		if len(target.Entities) == 0 {
			target.Entities = s.Entities
		}
		if target.Select == "" && target.Filter == "" {
			target.Select, target.Filter = s.Select, s.Filter
		}
	}
	target.URL = rp.Rewrite(target.URL, base)
	for i, u := range target.EntityURLs {
		target.EntityURLs[i] = rp.Rewrite(u, base)
	}
	return func() { srv.Close() }, nil
}

// startRecord opens --record FILE and makes every exchange of the log go
// to it as a HAR entry, as it completes.
func startRecord(path string, maxBody int64, log *reqlog.Log, target deltaclient.Target) (closeFn func(), err error) {
	// The file appears already holding an empty HAR document (written
	// beside it, then renamed), so even a kill at once leaves valid HAR.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	w, err := har.NewWriter(f, har.Creator{Name: "deltascope", Version: version()},
		&har.Session{URL: log.Secrets().URL(target.URL), Company: target.Company, Entities: target.Entities,
			EntityURLs: redactAll(log, target.EntityURLs), Select: target.Select, Filter: target.Filter})
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("--record: %w", err)
	}
	noted := false
	log.OnExchange(maxBody, func(x *reqlog.Exchange) {
		e := har.FromExchange(x, maxBody)
		if err := w.Add(&e); err != nil && !noted {
			noted = true
			log.Note(fmt.Sprintf("--record stopped after %d exchanges: %v", w.Entries(), err))
		}
	})
	return func() {
		if err := errors.Join(f.Sync(), f.Close()); err != nil {
			fmt.Fprintf(os.Stderr, "deltascope: --record %s: %v\n", path, err)
		}
	}, nil
}

func redactAll(log *reqlog.Log, urls []string) []string {
	var out []string
	for _, u := range urls {
		out = append(out, log.Secrets().URL(u))
	}
	return out
}

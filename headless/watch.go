// Package headless runs deltascope without a screen, for scripts and CI:
// watch prints every change as one JSON object a line.
package headless

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/deltascope/deltascope/deltaclient"
	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/track"
)

// Why Watch stopped early. The one-line reason is on stderr already, so a
// caller maps these to its exit code and prints nothing more.
var (
	// ErrNoDeltas: no entity set to watch supports delta requests.
	ErrNoDeltas = errors.New("no entity set supports delta requests")
	// ErrStoppedOnGone: a delta link expired and ExitOnGone was set.
	ErrStoppedOnGone = errors.New("a delta link expired")
	// ErrNothingToWatch: there were no entity sets.
	ErrNothingToWatch = errors.New("nothing to watch")
)

// WatchOptions configure a watch run.
type WatchOptions struct {
	Trackers   []*track.Tracker
	Interval   time.Duration
	Rounds     int  // stop after this many rounds; 0 means until ctx ends
	ExitOnGone bool // exit 4 on a 410 instead of re-baselining
	// MaxFailures is how many rounds in a row may fail before watch gives
	// up; 0 means 5.
	MaxFailures int
	Now         func() time.Time
	// BeforeRound, when set, is called before each round; tests change the
	// service there.
	BeforeRound func(round int)
	// Progress writes a progress event every second of a long baseline or
	// round; without it a line goes to stderr instead.
	Progress bool
	// Secrets is the session's redactor: no secret it knows reaches
	// stdout or stderr. nil when there are none.
	Secrets Redactor
}

// Event is one line of watch output.
type Event struct {
	Time     string          `json:"time"`
	Entity   string          `json:"entity"`
	Event    string          `json:"event"`
	ID       string          `json:"id,omitempty"`
	Record   json.RawMessage `json:"record,omitempty"`
	Changes  []FieldJSON     `json:"changes,omitempty"`
	Reason   string          `json:"reason,omitempty"`
	Unknown  bool            `json:"unknown,omitempty"`
	Via      string          `json:"via,omitempty"`
	Method   string          `json:"method,omitempty"` // poll method of a set without delta links
	Records  *int            `json:"records,omitempty"`
	Pages    *int            `json:"pages,omitempty"`
	Round    *int            `json:"round,omitempty"`
	Added    *int            `json:"added,omitempty"`
	Updated  *int            `json:"updated,omitempty"`
	Deleted  *int            `json:"deleted,omitempty"`
	MS       *int64          `json:"ms,omitempty"`
	Location string          `json:"location,omitempty"`
	Status   int             `json:"status,omitempty"`
	Message  string          `json:"message,omitempty"`
	Retrying bool            `json:"retrying,omitempty"`
	Since    string          `json:"since,omitempty"`
	Bytes    *int64          `json:"bytes,omitempty"`
	Rate     *int64          `json:"recordsPerSecond,omitempty"`
	// Repaired: the record held invalid UTF-8, written as U+FFFD.
	Repaired bool `json:"repaired,omitempty"`
}

// FieldJSON is one changed field of an updated event.
type FieldJSON struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

type watcher struct {
	opts WatchOptions
	out  *output
}

// Watch takes a baseline of every tracker's entity set, then polls them
// every interval, writing events to stdout and one-line reasons to stderr.
// It returns nil after Rounds rounds or when ctx ends, and otherwise why it
// stopped (ErrNoDeltas, ErrStoppedOnGone, ErrNothingToWatch or the failure),
// whose reason it has already written to stderr.
func Watch(ctx context.Context, opts WatchOptions, stdout, stderr io.Writer) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	w := &watcher{opts: opts, out: &output{stdout: stdout, stderr: stderr, secrets: opts.Secrets}}
	var live []*track.Tracker
	var firstErr error
	unsupported := 0
	for _, t := range opts.Trackers {
		// A stored session resumes: no baseline, and the next round is a
		// delta from the stored link.
		res, err := t.Resume()
		if err != nil {
			w.out.say("%s: %s", t.Name, err)
			return err
		}
		if res != nil {
			// since keeps the round's nanoseconds, as history prints them, so
			// passed back as history --since it excludes that round.
			w.emit(Event{Entity: t.Name, Event: "resume", Records: ptr(res.Records), Since: res.Since.UTC().Format(time.RFC3339Nano)})
			live = append(live, t)
			continue
		}
		r, err := t.Baseline(ctx, w.retries(t.Name, true))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ue *deltaclient.UnsupportedError
			if errors.As(err, &ue) {
				unsupported++
				w.emit(Event{Entity: t.Name, Event: "unsupported", Status: ue.Status, Message: ue.Error()})
				w.out.say("%s %s", t.Name, ue)
				continue
			}
			w.emit(Event{Entity: t.Name, Event: "error", Status: deltaclient.StatusOf(err).HTTP, Message: err.Error()})
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: baseline: %w", t.Name, err)
			}
			continue
		}
		w.emit(Event{Entity: t.Name, Event: "baseline", Records: ptr(r.Records), Pages: ptr(r.Pages), MS: ptr(r.Duration.Milliseconds()), Via: r.Via, Method: t.Method()})
		live = append(live, t)
	}
	if len(live) == 0 {
		if firstErr != nil {
			w.out.say("%s", firstErr)
			return firstErr
		}
		if unsupported > 0 {
			return ErrNoDeltas
		}
		w.out.say("nothing to watch")
		return ErrNothingToWatch
	}
	failures := map[*track.Tracker]int{}
	for round := 1; opts.Rounds == 0 || round <= opts.Rounds; round++ {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(opts.Interval):
		}
		if opts.BeforeRound != nil {
			opts.BeforeRound(round)
		}
		for _, t := range live {
			stop, err := w.poll(ctx, t)
			if ctx.Err() != nil {
				return nil
			}
			if stop {
				return err
			}
			if err != nil {
				failures[t]++
				if failures[t] >= opts.MaxFailures {
					w.out.say("%s: %d rounds in a row failed, giving up: %s", t.Name, failures[t], err)
					return err
				}
				continue
			}
			failures[t] = 0
		}
	}
	return nil
}

// poll runs one round for t and writes its events. A failed round leaves
// the tracker as it was; the error is reported and returned.
func (w *watcher) poll(ctx context.Context, t *track.Tracker) (stop bool, err error) {
	r, err := t.Poll(ctx, w.retries(t.Name, false))
	var gone *deltaclient.GoneError
	if errors.As(err, &gone) {
		w.emit(Event{Entity: t.Name, Event: "gone", Status: gone.Status, Location: gone.Location, Message: gone.Message})
		if w.opts.ExitOnGone {
			w.out.say("%s: the delta link expired (%d); run again for a new baseline", t.Name, gone.Status)
			return true, fmt.Errorf("%s: %w: %w", t.Name, ErrStoppedOnGone, err)
		}
		r, err = t.Rebaseline(ctx, gone.Location, w.retries(t.Name, true))
	}
	if err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		var ue *deltaclient.UnsupportedError
		if errors.As(err, &ue) {
			w.emit(Event{Entity: t.Name, Event: "unsupported", Status: ue.Status, Message: ue.Error()})
			w.out.say("%s %s", t.Name, ue)
			return true, fmt.Errorf("%s: %w: %w", t.Name, ErrNoDeltas, err)
		}
		w.emit(Event{Entity: t.Name, Event: "error", Status: deltaclient.StatusOf(err).HTTP, Message: err.Error(), Retrying: true})
		return false, err
	}
	w.round(t.Name, r, t.Method())
	return false, nil
}

// retries reports each retried page as an error event that says watch is
// going on, and the progress of a baseline once a second.
func (w *watcher) retries(entity string, baseline bool) func(deltaclient.Progress) {
	start := w.opts.Now()
	last := start
	return func(p deltaclient.Progress) {
		if now := w.opts.Now(); baseline && p.Retry == nil && p.Records > 0 && now.Sub(last) >= time.Second {
			last = now
			rate := int64(float64(p.Records) / now.Sub(start).Seconds())
			if w.opts.Progress {
				w.emit(Event{Entity: entity, Event: "progress", Pages: ptr(p.Pages), Records: ptr(p.Records), Bytes: ptr(p.Bytes), Rate: ptr(rate)})
			} else {
				w.out.say("%s: %s, %s, %.1f MB so far, %d records/s", entity, plural(p.Pages, "page"), plural(p.Records, "record"), float64(p.Bytes)/1e6, rate)
			}
		}
		if r := p.Retry; r != nil {
			w.emit(Event{Entity: entity, Event: "error", Status: deltaclient.StatusOf(r.Err).HTTP, Retrying: true,
				Message: fmt.Sprintf("page %d: %s: %v", p.Pages+1, r, r.Err)})
		}
	}
}

func (w *watcher) round(entity string, r *model.Round, method string) {
	for i := range r.Changes {
		w.emit(changeEvent(entity, r.Via, &r.Changes[i]))
	}
	w.emit(Event{Entity: entity, Event: "round", Round: ptr(r.Seq), Added: ptr(r.Added), Updated: ptr(r.Updated), Deleted: ptr(r.Deleted),
		Pages: ptr(r.Pages), MS: ptr(r.Duration.Milliseconds()), Via: r.Via, Method: method, Records: ptr(r.Records)})
}

func (w *watcher) emit(ev Event) {
	ev.Time = w.opts.Now().UTC().Format(time.RFC3339)
	w.write(ev)
}

// write writes one event line through the output boundary.
func (w *watcher) write(ev Event) error { return w.out.event(ev) }

func orNull(b []byte) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

func ptr[T any](v T) *T { return &v }

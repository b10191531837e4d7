package track

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/deltascope/deltascope/model"
	"github.com/deltascope/deltascope/store"
)

// Resumed is what a tracker found in its session.
type Resumed struct {
	Records int
	// Since is the time of the last committed round, or of the baseline
	// when no round ran yet.
	Since time.Time
	Seq   int // the last committed round
}

// UseSession makes the tracker durable: every baseline and round is
// committed to s before it is returned, and Resume can pick up what an
// earlier run stored. Call it before the first Baseline.
func (t *Tracker) UseSession(s *store.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.session = s
}

// Session is the store the tracker commits to, or nil.
func (t *Tracker) Session() *store.Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.session
}

// Resume loads the stored snapshot, link and round count, so the next
// Poll is a delta from where the last run stopped and no baseline is
// taken. It returns nil when the session holds no complete baseline of
// this entity (none yet, or a run was killed during it): take a baseline.
//
// It runs as an operation (behind the gate); the snapshot is read from
// disk without the state lock, which is taken only to put it in place.
func (t *Tracker) Resume() (*Resumed, error) {
	release, err := t.acquire(context.Background())
	if err != nil {
		return nil, err
	}
	defer release()
	t.mu.Lock()
	session := t.session
	t.mu.Unlock()
	if session == nil {
		return nil, nil
	}
	st, err := session.State(t.Name)
	if err != nil || !st.Baselined() {
		return nil, err
	}
	snap, st, err := session.Load(t.Name)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.snap, t.deltaLink, t.seq, t.poll = snap, st.Link, st.Seq, nil
	var ps PollState
	switch {
	case len(st.Poll) > 0 && json.Unmarshal(st.Poll, &ps) == nil && ps.Method != "":
		// A set followed by polling: go on from the stored watermark.
		t.poll = &ps
	case st.Link == "" && !t.DeltaOnly:
		// A poll baseline with no round stored yet: the method and the
		// watermark follow from the snapshot again.
		t.poll = t.choose(snap)
	case origin(st.Link) != origin(t.URL):
		// The service moved (the embedded demo listens on a new port each
		// run): the stored link cannot be followed, and credentials must
		// not go to where it points. The first round reports it expired,
		// and the re-baseline shows what changed against the stored
		// snapshot.
		t.deltaLink = ""
	}
	return &Resumed{Records: snap.Len(), Since: st.Since, Seq: st.Seq}, nil
}

// origin is the scheme and host of a URL.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// startStoring begins storing a baseline when the tracker has a session.
func (t *Tracker) startStoring() (*store.BaselineWriter, error) {
	if t.session == nil {
		return nil, nil
	}
	return t.session.StartBaseline(t.Name)
}

// commitRound stores a round before anyone sees it. If the store refuses
// it, the snapshot (already changed in memory) is read back from the
// store, so memory and disk never disagree about what was applied.
// poll, when not nil, is the poll state the next round starts from.
func (t *Tracker) commitRound(r *model.Round, link string, poll *PollState) error {
	return t.commitEncodedRound(r, link, poll, nil)
}

// commitEncodedRound is commitRound with the history blocks enc
// compressed while the round was applied.
func (t *Tracker) commitEncodedRound(r *model.Round, link string, poll *PollState, enc *store.RoundEncoder) error {
	if t.session == nil {
		return nil
	}
	var pj json.RawMessage
	if poll != nil {
		var err error
		if pj, err = json.Marshal(poll); err != nil {
			if enc != nil {
				enc.Abort()
			}
			return err
		}
	}
	if _, err := t.session.CommitEncodedRound(t.Name, r, link, pj, enc); err != nil {
		if snap, st, lerr := t.session.Load(t.Name); lerr == nil {
			t.snap, t.deltaLink, t.seq = snap, st.Link, st.Seq
		}
		return fmt.Errorf("%s: round %d not stored: %w", t.Name, r.Seq, err)
	}
	return nil
}

// StoredRounds reads up to about maxChanges changes' worth of stored
// rounds, newest first, starting at round from and going back; rounds that
// brought nothing are skipped. It is how a view that keeps only recent
// rounds in memory shows older ones. Without a session it returns nil.
func (t *Tracker) StoredRounds(from, maxChanges int) ([]*model.Round, error) {
	s := t.Session()
	if s == nil {
		return nil, nil
	}
	var out []*model.Round
	n := 0
	for seq := from; seq > 0 && n < maxChanges; seq-- {
		r, err := s.Round(t.Name, seq)
		if err != nil {
			var nf *store.NotFoundError
			if errors.As(err, &nf) {
				continue // a round of an earlier --fresh run, or none
			}
			return out, err
		}
		if len(r.Changes) == 0 && r.Via == "" {
			continue
		}
		out = append(out, r)
		n += len(r.Changes)
	}
	return out, nil
}

// RecordChange is one stored change of a record, with its round.
type RecordChange struct {
	Round int
	Time  time.Time
	Via   string
	model.Change
}

// RecordHistory reads every stored change of record id, oldest first.
// Without a session it returns nil.
func (t *Tracker) RecordHistory(id string) ([]RecordChange, error) {
	s := t.Session()
	if s == nil {
		return nil, nil
	}
	var out []RecordChange
	err := s.History(store.Filter{Entity: t.Name, Key: id}, func(e *store.Event) error {
		out = append(out, RecordChange{Round: e.Round.Seq, Time: e.Round.Time, Via: e.Round.Via, Change: e.Change})
		return nil
	})
	return out, err
}

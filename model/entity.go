package model

// Status is where an entity set stands.
type Status uint8

const (
	Loading     Status = iota // baseline in progress
	Tracking                  // baseline done, delta rounds work
	Unsupported               // the server does not do deltas for it
	Expired                   // the delta link expired; a new baseline is needed
	Failed                    // the last request failed
)

func (s Status) String() string {
	switch s {
	case Loading:
		return "loading"
	case Tracking:
		return "tracking"
	case Unsupported:
		return "unsupported"
	case Expired:
		return "expired"
	}
	return "error"
}

// Entity is where one entity set stands as the user sees it: its status,
// its latest round and running totals. It holds no records (the snapshot
// does) and no list of rounds: a view keeps the rows it shows, and a
// session store keeps the history, so a long run does not grow it.
type Entity struct {
	Name    string
	Status  Status
	Records int
	// Baselined is true once a baseline completed, so rounds can be taken
	// even while Status shows a later failure.
	Baselined bool
	// Last is the latest baseline or round.
	Last *Round
	// Totals over every round since the first baseline.
	Added, Updated, Deleted int
}

// AddRound records a completed baseline or round and returns to tracking.
func (e *Entity) AddRound(r *Round) {
	e.Last = r
	e.Records = r.Records
	e.Added += r.Added
	e.Updated += r.Updated
	e.Deleted += r.Deleted
	e.Status = Tracking
	e.Baselined = true
}

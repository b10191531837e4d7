// Package deltatest is an in-process OData service shaped like Business
// Central's API v2.0, with change tracking: what net/http/httptest is to
// net/http, this is to deltascope. One call starts it on loopback with
// seeded, realistic data; tests and the demo change records through its
// API or a steady generator and watch the deltas come out.
package deltatest

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Deletion encodings.
const (
	Deletions40  = "4.0"  // {"@odata.context": ".../$deletedEntity", "id": "customers(..)", "reason": ..}
	Deletions401 = "4.01" // {"@removed": {"reason": ..}, "@id": "customers(..)"}
)

// Options shape the service. The zero value is a small BC company.
type Options struct {
	// Seed makes the data and the generator's changes repeatable.
	Seed uint64
	// Records is the number of customers (vendors get half, items 60%, up
	// to 25,000 and 30,000: a million-customer demo is about customers);
	// 0 means 40.
	Records int
	// PageSize is the server's page size when the client asks for none;
	// 0 means 20000, as Business Central online.
	PageSize int
	// Deletions is Deletions40 (default) or Deletions401.
	Deletions string
	// PartialUpdates sends only the changed fields of an update (and the
	// id), as Microsoft Graph does.
	PartialUpdates bool
	// NoDelta serves every set as Business Central does since 2024 release
	// wave 1: Prefer: odata.track-changes is ignored and no collection
	// carries a deltaLink (demo --delta off).
	NoDelta bool
	// TokenTTL expires delta links older than this; 0 means never.
	TokenTTL time.Duration
	// ChangeEvery runs the change generator at this pace; 0 means off.
	ChangeEvery time.Duration
	// Companies is the number of companies; 0 means 1.
	Companies int
	// Epoch is the time of version 0; lastModifiedDateTime counts from it.
	Epoch time.Time
	// Now is the clock for token ages; nil means time.Now.
	Now func() time.Time
	// Faults injects failures; see Faults.
	Faults Faults
	// Chunked sends pages without a Content-Length (chunked transfer
	// encoding), as many real services do.
	Chunked bool
	// Gzip compresses pages for clients whose Accept-Encoding allows gzip
	// (Content-Encoding: gzip, no Content-Length).
	Gzip bool
	// Sets limits the entity sets with records to these (of customers,
	// vendors, items); nil means all. Benchmarks serve only customers.
	Sets []string
}

// Server is a running demo service.
type Server struct {
	// URL is the base URL, http://127.0.0.1:port, with no trailing slash.
	URL string

	opts     Options
	listener net.Listener
	http     *http.Server

	mu        sync.Mutex
	rng       *rand.Rand
	pcg       *rand.PCG // rng's source, whose state initial records keep
	version   uint64
	companies []*company
	seq       map[string]int
	cursors   map[string]*cursor
	listings  map[string]string // baseline listing key -> cursor id
	cursorSeq int
	cursorLRU []string
	cached    int // bytes of encoded pages kept by cursors
	stats     Stats
	faultRng  *rand.Rand
	injected  []injected

	stop   chan struct{}
	done   sync.WaitGroup
	paused atomic.Bool
}

// PauseChanges stops the change generator (tests pause it to compare a
// client with a service that holds still).
func (s *Server) PauseChanges() { s.paused.Store(true) }

// ResumeChanges starts the change generator again after PauseChanges.
func (s *Server) ResumeChanges() { s.paused.Store(false) }

type company struct {
	id, name string
	sets     map[string]*entitySet
	setOrder []string
}

// Stats counts what the service did, for tests and the demo.
type Stats struct {
	Requests, Pages, Baselines, Deltas, Gone, Unsupported int
	Faults                                                map[string]int
}

// NewServer starts a service on a loopback port. It panics if it cannot
// listen, like httptest.NewServer. Close it when done.
func NewServer(opts Options) *Server {
	s, err := Listen("127.0.0.1:0", opts)
	if err != nil {
		panic(fmt.Sprintf("deltatest: %v", err))
	}
	return s
}

// Listen starts a service on addr.
func Listen(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := New(opts)
	s.listener = ln
	s.URL = "http://" + ln.Addr().String()
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		s.http.Serve(ln)
	}()
	if opts.ChangeEvery > 0 {
		s.done.Add(1)
		go s.generate(opts.ChangeEvery)
	}
	return s, nil
}

// New builds a service without listening, for use as an http.Handler;
// links it writes are relative to the request's host.
func New(opts Options) *Server {
	if opts.Records <= 0 {
		opts.Records = 40
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 20000
	}
	if opts.Deletions == "" {
		opts.Deletions = Deletions40
	}
	if opts.Companies <= 0 {
		opts.Companies = 1
	}
	if opts.Epoch.IsZero() {
		opts.Epoch = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	pcg := rand.NewPCG(opts.Seed, 0x5eed)
	s := &Server{
		opts:     opts,
		rng:      rand.New(pcg),
		pcg:      pcg,
		faultRng: rand.New(rand.NewPCG(opts.Seed, 0xfa17)),
		seq:      map[string]int{},
		cursors:  map[string]*cursor{},
		listings: map[string]string{},
		stop:     make(chan struct{}),
		stats:    Stats{Faults: map[string]int{}},
	}
	names := []string{"CRONUS USA, Inc.", "CRONUS International Ltd.", "My Company", "CRONUS Canada, Inc."}
	for i := 0; i < opts.Companies; i++ {
		name := fmt.Sprintf("Company %d", i+1)
		if i < len(names) {
			name = names[i]
		}
		c := &company{id: s.newID(), name: name, sets: map[string]*entitySet{}}
		s.companies = append(s.companies, c)
		for _, set := range []struct {
			name string
			n    int
			gen  func(*gen, string, *members)
			mut  func(*Server, *record) []field
		}{
			{"customers", opts.Records, genCustomer, mutateCustomer},
			{"vendors", min(max(1, opts.Records/2), 25_000), genVendor, mutateVendor},
			{"items", min(max(1, opts.Records*3/5), 30_000), genItem, mutateItem},
		} {
			if opts.Sets == nil || slices.Contains(opts.Sets, set.name) {
				s.addSet(c, set.name, set.n, set.gen, set.mut)
			}
		}
		c.sets["balanceSheet"] = &entitySet{name: "balanceSheet", noDelta: true, rowsOnly: balanceSheetRows()}
		c.setOrder = append(c.setOrder, "balanceSheet")
		if opts.Faults.hostile() {
			s.addSet(c, "contacts", 12, genHostile, mutateHostile)
		}
	}
	return s
}

func (s *Server) addSet(c *company, name string, n int, generate func(*gen, string, *members), mut func(*Server, *record) []field) {
	es := &entitySet{name: name, current: make(map[string]*record, n), history: map[string][]state{}, gen: generate, mutate: mut, order: make([]string, 0, n),
		head: []byte(`{"@odata.etag":"` + etag(0) + `",`), born: s.opts.Epoch}
	var (
		m    members
		slab []record
		ids  []byte
	)
	seq := s.seq[name]
	for start := 0; start < n; start += 4096 {
		end := min(start+4096, n)
		// Each record is generated once, to move the seeded stream past
		// it exactly as when records were kept, and then dropped: what is
		// kept is the stream's state before it, and its id. The ids of a
		// block share one string.
		slab = make([]record, 0, end-start)
		ids = ids[:0]
		for i := start; i < end; i++ {
			u, _ := uuid.NewRandomFromReader(rngReader{s.rng})
			ids = appendUUID(ids, u)
			seq++
			r := record{initial: initial{es: es, state: *s.pcg, n: int32(seq), i: int32(i)}}
			m.b = m.b[:0]
			generate(&gen{rng: s.rng, n: seq}, string(ids[len(ids)-36:]), &m)
			slab = append(slab, r)
		}
		block := string(ids)
		for k := range slab {
			r := &slab[k]
			r.id = block[k*36 : (k+1)*36]
			es.order = append(es.order, r.id)
			es.current[r.id] = r
		}
	}
	s.seq[name] = seq
	c.sets[name] = es
	c.setOrder = append(c.setOrder, name)
}

// appendUUID appends u in its canonical form, as uuid.UUID.String does.
func appendUUID(dst []byte, u uuid.UUID) []byte {
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return append(dst, buf[:]...)
}

// Close stops the service and its generator.
func (s *Server) Close() {
	select {
	case <-s.stop:
		return
	default:
		close(s.stop)
	}
	if s.http != nil {
		s.http.Close()
	}
	s.done.Wait()
}

// ServiceRoot is the API root, like https://api.businesscentral.dynamics.com/v2.0/<env>/api/v2.0.
func (s *Server) ServiceRoot() string { return s.URL + "/api/v2.0" }

// CompanyID is the id of the first company.
func (s *Server) CompanyID() string { return s.companies[0].id }

// Company is one company of the demo: its id and display name.
type Company struct{ ID, Name string }

// Companies lists the companies, in the order the service lists them.
func (s *Server) Companies() []Company {
	out := make([]Company, len(s.companies))
	for i, c := range s.companies {
		out[i] = Company{ID: c.id, Name: c.name}
	}
	return out
}

// CollectionURL is the URL of an entity set of the first company.
func (s *Server) CollectionURL(set string) string {
	return fmt.Sprintf("%s/companies(%s)/%s", s.ServiceRoot(), s.CompanyID(), set)
}

// EntitySets lists the entity sets of a company, in service order.
func (s *Server) EntitySets() []string {
	return append([]string(nil), s.companies[0].setOrder...)
}

func (s *Server) set(name string) (*entitySet, error) {
	es := s.companies[0].sets[name]
	if es == nil || es.noDelta {
		return nil, fmt.Errorf("deltatest: no entity set %q with records", name)
	}
	return es, nil
}

// Add creates a record in set with generated values, overridden by values,
// and returns its id.
func (s *Server) Add(set string, values map[string]any) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil {
		return "", err
	}
	id := s.newID()
	fields := s.newFields(es, id)
	for _, k := range sortedKeys(values) {
		b, err := jsonValue(values[k])
		if err != nil {
			return "", err
		}
		fields = setField(fields, k, b)
	}
	s.commit(es, id, fields)
	return id, nil
}

// Update sets fields of a record.
func (s *Server) Update(set, id string, values map[string]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil {
		return err
	}
	old := es.current[id]
	if old == nil {
		return fmt.Errorf("deltatest: %s has no record %s", set, id)
	}
	fields := old.fields()
	for _, k := range sortedKeys(values) {
		b, err := jsonValue(values[k])
		if err != nil {
			return err
		}
		fields = setField(fields, k, b)
	}
	s.commit(es, id, fields)
	return nil
}

// Delete removes a record.
func (s *Server) Delete(set, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil {
		return err
	}
	if es.current[id] == nil {
		return fmt.Errorf("deltatest: %s has no record %s", set, id)
	}
	s.commit(es, id, nil)
	return nil
}

// IDs lists the current records of set in creation order.
func (s *Server) IDs(set string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil {
		return nil
	}
	var ids []string
	for _, id := range es.order {
		if es.current[id] != nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// Records returns the current records of set as JSON, by id: the truth a
// client's snapshot should converge to.
func (s *Server) Records(set string) map[string]json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(es.current))
	for id, r := range es.current {
		out[id] = r.json()
	}
	return out
}

// Record returns one current record decoded.
func (s *Server) Record(set, id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	es, err := s.set(set)
	if err != nil || es.current[id] == nil {
		return nil, false
	}
	var m map[string]any
	json.Unmarshal(es.current[id].json(), &m)
	return m, true
}

// Expire makes every delta link of set issued so far answer 410 Gone.
func (s *Server) Expire(set string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.companies {
		if es := c.sets[set]; es != nil {
			es.epoch++
		}
	}
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Faults = make(map[string]int, len(s.stats.Faults))
	for k, v := range s.stats.Faults {
		st.Faults[k] = v
	}
	return st
}

// Step makes one change chosen by the seeded generator: about 60% updates
// of 1-3 fields, 25% adds, 15% deletes, half of them to customers. It
// returns a line saying what it did.
func (s *Server) Step() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[0]
	var sets []*entitySet
	for _, name := range c.setOrder {
		if es := c.sets[name]; !es.noDelta {
			sets = append(sets, es)
		}
	}
	// The first set (customers) gets half the changes, as a demo's
	// audience watches it most.
	es := sets[0]
	if len(sets) > 1 && s.rng.IntN(2) == 1 {
		es = sets[1+s.rng.IntN(len(sets)-1)]
	}
	ids := es.order // the live ids, in creation order
	roll := s.rng.IntN(100)
	switch {
	case roll < 25 || len(ids) < 3:
		id := s.newID()
		s.commit(es, id, s.newFields(es, id))
		return fmt.Sprintf("added %s %s", es.name, id)
	case roll < 40:
		id := ids[s.rng.IntN(len(ids))]
		s.commit(es, id, nil)
		return fmt.Sprintf("deleted %s %s", es.name, id)
	default:
		id := ids[s.rng.IntN(len(ids))]
		old := es.current[id]
		fields := old.fields()
		for _, nf := range es.mutate(s, old) {
			fields = setField(fields, nf.name, nf.value)
		}
		s.commit(es, id, fields)
		return fmt.Sprintf("updated %s %s", es.name, id)
	}
}

func (s *Server) generate(every time.Duration) {
	defer s.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if s.paused.Load() {
				continue
			}
			// Bursts of one to three changes look like people at work.
			s.mu.Lock()
			n := 1 + s.rng.IntN(3)
			s.mu.Unlock()
			for range n {
				s.Step()
			}
		}
	}
}

// newFields makes the fields of a new record of es.
func (s *Server) newFields(es *entitySet, id string) []field {
	var m members
	s.seq[es.name]++
	es.gen(&gen{rng: s.rng, n: s.seq[es.name]}, id, &m)
	return fieldsOf(&m)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

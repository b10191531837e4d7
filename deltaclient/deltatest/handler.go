package deltatest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ServeHTTP answers the BC-shaped API under /api/v2.0.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.mu.Unlock()
	w.Header().Set("OData-Version", s.odataVersion())
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "BadRequest_MethodNotAllowed", "The demo service is read-only over HTTP.")
		return
	}
	base := "http://" + r.Host + "/api/v2.0"
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v2.0")
	if !ok {
		writeError(w, http.StatusNotFound, "BadRequest_NotFound", "No API here; the service root is /api/v2.0/.")
		return
	}
	switch {
	case path == "" || path == "/":
		s.serveServiceDocument(w, base)
	case path == "/$metadata":
		s.serveMetadata(w)
	case path == "/companies":
		if k := systemOption(r); k != "" {
			writeError(w, http.StatusNotImplemented, "NotImplemented", "the query option "+k+" on companies is not implemented by the demo service")
			return
		}
		s.serveCompanies(w, base)
	case strings.HasPrefix(path, "/companies("):
		rest := path[len("/companies("):]
		end := strings.Index(rest, ")/")
		if end < 0 {
			writeError(w, http.StatusNotFound, "BadRequest_NotFound", "Expected /companies(<id>)/<entity set>.")
			return
		}
		cid, set := rest[:end], rest[end+2:]
		c := s.company(cid)
		if c == nil {
			writeError(w, http.StatusNotFound, "BadRequest_NotFound", fmt.Sprintf("The company %q does not exist.", cid))
			return
		}
		s.serveSet(w, r, base, c, set)
	default:
		// The service document lists each set at the root, as Business
		// Central does; there it is the first company's.
		name := strings.TrimPrefix(path, "/")
		if set, _ := strings.CutSuffix(name, "/$count"); !strings.Contains(set, "/") && s.companies[0].sets[setName(set)] != nil {
			s.serveSet(w, r, base, s.companies[0], name)
			return
		}
		writeError(w, http.StatusNotFound, "BadRequest_NotFound", "The request URI is not valid.")
	}
}

// serveSet answers a set of company c, or its /$count.
func (s *Server) serveSet(w http.ResponseWriter, r *http.Request, base string, c *company, set string) {
	if name, key, ok := keySegment(set); ok && c.sets[name] != nil {
		s.serveByKey(w, r, fmt.Sprintf("%s/companies(%s)", base, c.id), c.sets[name], key)
		return
	}
	set, count := strings.CutSuffix(set, "/$count")
	es := c.sets[set]
	if es == nil {
		writeError(w, http.StatusNotFound, "BadRequest_NotFound", fmt.Sprintf("Resource not found for the segment '%s'.", set))
		return
	}
	if count {
		s.serveCount(w, r, es)
		return
	}
	s.serveCollection(w, r, fmt.Sprintf("%s/companies(%s)", base, c.id), c, es)
}

func (s *Server) company(id string) *company {
	for _, c := range s.companies {
		if strings.EqualFold(c.id, id) {
			return c
		}
	}
	return nil
}

func (s *Server) serveServiceDocument(w http.ResponseWriter, base string) {
	type item struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
		URL  string `json:"url"`
	}
	doc := struct {
		Context string `json:"@odata.context"`
		Value   []item `json:"value"`
	}{Context: base + "/$metadata"}
	doc.Value = append(doc.Value, item{"companies", "EntitySet", "companies"})
	for _, name := range s.companies[0].setOrder {
		doc.Value = append(doc.Value, item{name, "EntitySet", name})
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) serveCompanies(w http.ResponseWriter, base string) {
	type co struct {
		ID                string `json:"id"`
		SystemVersion     string `json:"systemVersion"`
		Timestamp         int    `json:"timestamp"`
		Name              string `json:"name"`
		DisplayName       string `json:"displayName"`
		BusinessProfileID string `json:"businessProfileId"`
		SystemCreatedAt   string `json:"systemCreatedAt"`
	}
	out := struct {
		Context string `json:"@odata.context"`
		Value   []co   `json:"value"`
	}{Context: base + "/$metadata#companies"}
	for i, c := range s.companies {
		out.Value = append(out.Value, co{c.id, "27.0.38460.41021", 1000 + i, c.name, c.name, "", "2026-01-05T09:00:00Z"})
	}
	writeJSON(w, http.StatusOK, out)
}

// token is what a delta link carries, opaque to clients.
type token struct {
	Company int    `json:"c"`
	Set     string `json:"s"`
	From    uint64 `json:"v"`
	Epoch   int    `json:"e"`
	Issued  int64  `json:"t"`
	Filter  string `json:"f,omitempty"`
	Select  string `json:"l,omitempty"`
}

func (t token) encode() string {
	b, _ := json.Marshal(t)
	return base64.URLEncoding.EncodeToString(b)
}

func decodeToken(s string) (token, error) {
	var t token
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	return t, json.Unmarshal(b, &t)
}

// cursor is a listing taken at one version and served in pages, so that
// changes made while a client pages do not shift or tear it.
type cursor struct {
	items [][]byte
	// recs, when set, is the listing instead of items: records whose JSON
	// is made as their page is sent.
	recs     []*record
	context  string
	final    string // the deltaLink for the last page; "" for no tracking
	count    int    // @odata.count for the first page, when counted
	counted  bool
	pageSize int
	// pages caches each page's encoded body up to its value array, by
	// offset: the same listing is served again without re-encoding while
	// the set has not changed (benchmarks take the same baseline often).
	pages *pageCache
	// listing is the key this baseline listing is reused under, if any.
	listing string
}

// rawQuery splits a query string without treating '+' as a space: delta
// tokens are opaque and may contain it.
func rawQuery(q string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(q, "&") {
		k, v, _ := strings.Cut(part, "=")
		if uv, err := url.PathUnescape(v); err == nil {
			v = uv
		}
		if uk, err := url.PathUnescape(k); err == nil {
			k = uk
		}
		out[k] = v
	}
	return out
}

func parsePrefer(h []string) (track bool, maxPage int) {
	for _, line := range h {
		for _, p := range strings.Split(line, ",") {
			p = strings.TrimSpace(p)
			switch {
			case strings.EqualFold(p, "odata.track-changes"), strings.EqualFold(p, "track-changes"):
				track = true
			case strings.HasPrefix(strings.ToLower(p), "odata.maxpagesize="), strings.HasPrefix(strings.ToLower(p), "maxpagesize="):
				_, v, _ := strings.Cut(p, "=")
				maxPage, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	return track, maxPage
}

func (s *Server) serveCollection(w http.ResponseWriter, r *http.Request, companyURL string, c *company, es *entitySet) {
	q := rawQuery(r.URL.RawQuery)
	track, maxPage := parsePrefer(r.Header.Values("Prefer"))
	collURL := companyURL + "/" + es.name
	ctxBase := strings.Replace(companyURL, "/companies(", "/$metadata#companies(", 1) + "/" + es.name

	if st, ok := q["$skiptoken"]; ok {
		s.mu.Lock()
		id, off, _ := strings.Cut(st, "-")
		cur := s.cursors[id]
		s.mu.Unlock()
		offset, err := strconv.Atoi(off)
		if cur == nil || err != nil || offset < 0 || offset > cur.len() {
			writeError(w, http.StatusBadRequest, "BadRequest_InvalidToken", "The skip token is not valid or has expired; start the request again.")
			return
		}
		s.writePage(w, r, cur, id, offset, collURL, false, 0)
		return
	}

	if dt, ok := q["deltaToken"]; ok && !es.noDelta && !s.opts.NoDelta {
		s.serveDelta(w, r, dt, c, es, collURL, ctxBase, maxPage)
		return
	}
	qo, err := parseQuery(q)
	if err == nil {
		err = s.unknownProperty(es, qo.fields())
	}
	if err != nil {
		writeQueryError(w, err)
		return
	}
	if es.noDelta || s.opts.NoDelta {
		if track && es.noDelta {
			s.mu.Lock()
			s.stats.Unsupported++
			s.mu.Unlock()
			writeError(w, http.StatusInternalServerError, "Internal_ServerError", "Entity does not support delta requests.  CorrelationId:  "+s.correlationID()+".")
			return
		}
		// Since 2024 wave 1 Business Central ignores the preference: a
		// plain collection, no Preference-Applied, no deltaLink.
		track = false
	}
	if es.noDelta {
		recs := make([]*record, len(es.rowsOnly))
		for i, raw := range es.rowsOnly {
			recs[i] = &record{raw: raw}
		}
		recs, items, total := qo.list(recs)
		cur := &cursor{recs: recs, items: items, context: ctxBase, pageSize: s.pageSize(maxPage)}
		cur.count, cur.counted = total, qo.count
		s.writePage(w, r, cur, s.keepCursor(cur), 0, collURL, false, maxPage)
		return
	}

	s.mu.Lock()
	// An unchanged set gives the same listing: reuse it, pages and all.
	key := fmt.Sprintf("%s|%d|%d|%s|%d", ctxBase, es.lastVersion(), es.epoch, qo.key(), s.pageSize(maxPage))
	var cur *cursor
	id, reused := s.listings[key]
	if old := s.cursors[id]; reused && old != nil {
		c := *old
		cur = &c
	} else {
		recs := make([]*record, 0, len(es.current))
		for _, id := range es.order {
			if rec := es.current[id]; rec != nil {
				recs = append(recs, rec)
			}
		}
		recs, items, total := qo.list(recs)
		cur = &cursor{recs: recs, items: items, context: ctxBase, pageSize: s.pageSize(maxPage), pages: &pageCache{pages: map[int][]byte{}}}
		cur.count, cur.counted = total, qo.count
		reused = false
	}
	cur.final = ""
	if track {
		t := token{Company: s.companyIndex(c), Set: es.name, From: s.version, Epoch: es.epoch, Issued: s.opts.Now().UnixNano()}
		if qo.filter != nil {
			t.Filter = qo.filter.text
		}
		if qo.sel != nil {
			t.Select = strings.Join(qo.sel, ",")
		}
		cur.final = collURL + "?deltaToken=" + t.encode()
		s.stats.Baselines++
	}
	es.compactOrder()
	if reused {
		s.cursors[id] = cur
	} else {
		cur.listing = key
		id = s.keepCursorLocked(cur)
		s.listings[key] = id
	}
	s.mu.Unlock()
	s.writePage(w, r, cur, id, 0, collURL, track, maxPage)
}

// serveCount answers /$count: the number of records matching $filter, as
// text.
func (s *Server) serveCount(w http.ResponseWriter, r *http.Request, es *entitySet) {
	q := rawQuery(r.URL.RawQuery)
	for k := range q {
		if strings.HasPrefix(k, "$") && !strings.EqualFold(k, "$filter") {
			writeError(w, http.StatusNotImplemented, "NotImplemented", "/$count takes $filter only, not "+k+".")
			return
		}
	}
	flt, err := parseFilter(q["$filter"])
	if err == nil {
		err = s.unknownProperty(es, flt.fields())
	}
	if err != nil {
		writeQueryError(w, err)
		return
	}
	n := 0
	if es.noDelta {
		for _, raw := range es.rowsOnly {
			if flt.matches(&record{raw: raw}) {
				n++
			}
		}
	} else {
		s.mu.Lock()
		for _, rec := range es.current {
			if flt.matches(rec) {
				n++
			}
		}
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(strconv.Itoa(n)))
}

func writeQueryError(w http.ResponseWriter, err error) {
	status, code := http.StatusBadRequest, "BadRequest"
	var qe *queryError
	if errors.As(err, &qe) && qe.status == http.StatusNotImplemented {
		status, code = http.StatusNotImplemented, "NotImplemented"
	}
	writeError(w, status, code, err.Error())
}

// odataVersion is the protocol version the service answers with: 4.01
// when it encodes removals the 4.01 way.
func (s *Server) odataVersion() string {
	if s.opts.Deletions == Deletions401 {
		return "4.01"
	}
	return "4.0"
}

func (s *Server) serveDelta(w http.ResponseWriter, r *http.Request, raw string, c *company, es *entitySet, collURL, ctxBase string, maxPage int) {
	t, err := decodeToken(raw)
	if err != nil || t.Set != es.name {
		writeError(w, http.StatusBadRequest, "BadRequest_InvalidToken", "The delta token is malformed.")
		return
	}
	s.mu.Lock()
	expired := t.Epoch != es.epoch || (s.opts.TokenTTL > 0 && s.opts.Now().Sub(time.Unix(0, t.Issued)) > s.opts.TokenTTL)
	if expired {
		s.stats.Gone++
		s.mu.Unlock()
		s.writeGone(w, collURL, t.Filter)
		return
	}
	s.mu.Unlock()
	if s.roll("410") {
		s.writeGone(w, collURL, t.Filter)
		return
	}
	flt, _ := parseFilter(t.Filter)
	var proj *query
	if t.Select != "" {
		proj = &query{sel: strings.Split(t.Select, ",")}
	}
	s.mu.Lock()
	to := s.version
	var items [][]byte
	for _, id := range es.changedSince(t.From, to) {
		before, after := es.at(id, t.From), es.at(id, to)
		was, is := flt.matches(before), flt.matches(after)
		switch {
		case is && was && s.opts.PartialUpdates:
			items = append(items, proj.project(partial(before, after)))
		case is:
			items = append(items, proj.project(after.json()))
		case was:
			reason := "deleted"
			if after != nil {
				reason = "changed"
			}
			items = append(items, s.removal(ctxBase, collURL, es.name, id, reason))
		}
	}
	items = s.duplicate(items)
	next := t
	next.From, next.Issued = to, s.opts.Now().UnixNano()
	cur := &cursor{items: items, context: ctxBase + "/$delta", final: collURL + "?deltaToken=" + next.encode(), pageSize: s.pageSize(maxPage)}
	id := s.keepCursorLocked(cur)
	s.stats.Deltas++
	s.mu.Unlock()
	s.writePage(w, r, cur, id, 0, collURL, false, maxPage)
}

func (s *Server) writeGone(w http.ResponseWriter, collURL, filter string) {
	loc := collURL
	if filter != "" {
		loc += "?$filter=" + url.PathEscape(filter)
	}
	w.Header().Set("Location", loc)
	writeError(w, http.StatusGone, "Gone", "The delta token has expired or is no longer valid. Request a new baseline.")
}

// removal encodes a deleted-entity entry in the configured OData version.
func (s *Server) removal(ctxBase, collURL, es, id, reason string) []byte {
	if s.opts.Deletions == Deletions401 {
		return fmt.Appendf(nil, `{"@removed":{"reason":%q},"@id":%q}`, reason, collURL+"("+id+")")
	}
	// 4.0 JSON format: id is the entity-id, which may be relative.
	return fmt.Appendf(nil, `{"@odata.context":%q,"id":%q,"reason":%q}`, ctxBase+"/$deletedEntity", es+"("+id+")", reason)
}

// partial encodes only what changed between two versions, plus the id and
// etag, as Microsoft Graph sends updates.
func partial(before, after *record) []byte {
	var b bytes.Buffer
	bf, af := before.fields(), after.fields()
	b.WriteString(`{"@odata.etag":"` + etag(after.version) + `","id":`)
	b.Write(getField(af, "id"))
	for _, f := range af {
		if f.name != "id" && !bytes.Equal(getField(bf, f.name), f.value) {
			b.WriteString(`,"` + f.name + `":`)
			b.Write(f.value)
		}
	}
	b.WriteByte('}')
	return b.Bytes()
}

func (s *Server) pageSize(requested int) int {
	if requested > 0 && requested < s.opts.PageSize {
		return requested
	}
	return s.opts.PageSize
}

func (s *Server) companyIndex(c *company) int {
	for i, x := range s.companies {
		if x == c {
			return i
		}
	}
	return 0
}

func (s *Server) correlationID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newID()
}

func (s *Server) keepCursor(c *cursor) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keepCursorLocked(c)
}

const maxCursors = 64

func (s *Server) keepCursorLocked(c *cursor) string {
	s.cursorSeq++
	id := "c" + strconv.Itoa(s.cursorSeq)
	s.cursors[id] = c
	s.cursorLRU = append(s.cursorLRU, id)
	if len(s.cursorLRU) > maxCursors {
		old := s.cursorLRU[0]
		if l := s.cursors[old].listing; l != "" && s.listings[l] == old {
			delete(s.listings, l)
		}
		s.dropPages(s.cursors[old])
		delete(s.cursors, old)
		s.cursorLRU = s.cursorLRU[1:]
	}
	return id
}

// lastVersion is the version of the set's latest change, 0 for none.
func (es *entitySet) lastVersion() uint64 {
	if len(es.log) == 0 {
		return 0
	}
	return es.log[len(es.log)-1].version
}

// compactOrder drops deleted ids from the set's order once they dominate.
func (es *entitySet) compactOrder() {
	if len(es.order) <= 2*len(es.current)+1024 {
		return
	}
	out := es.order[:0]
	for _, id := range es.order {
		if es.current[id] != nil {
			out = append(out, id)
		}
	}
	es.order = out
}

func (s *Server) writePage(w http.ResponseWriter, r *http.Request, cur *cursor, id string, offset int, collURL string, applied bool, maxPage int) {
	end := min(offset+cur.pageSize, cur.len())
	body := s.cachedPage(cur, offset)
	if body == nil {
		buf := pageBuffers.Get().(*[]byte)
		body = cur.appendPage((*buf)[:0], offset, end)
		if s.cachePage(cur, offset, end-offset, body) {
			*buf = nil // kept by the cache
		} else {
			*buf = body
		}
		defer pageBuffers.Put(buf)
	}
	var link []byte
	switch {
	case end < cur.len():
		link = []byte(`,"@odata.nextLink":"` + collURL + "?$skiptoken=" + id + "-" + strconv.Itoa(end) + `"`)
	case cur.final != "":
		link = []byte(`,"@odata.deltaLink":"` + cur.final + `"`)
	}
	link = append(link, '}')
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal; odata.streaming=true")
	var pa []string
	if applied {
		pa = append(pa, "odata.track-changes")
	}
	if maxPage > 0 {
		pa = append(pa, "odata.maxpagesize="+strconv.Itoa(cur.pageSize))
	}
	if len(pa) > 0 {
		h.Set("Preference-Applied", strings.Join(pa, ", "))
	}
	h.Set("request-id", requestID(offset, id))
	s.mu.Lock()
	n := s.stats.Pages
	s.stats.Pages++
	s.mu.Unlock()
	s.writeBody(w, r, n, body, link)
}

func requestID(offset int, cursor string) string {
	return fmt.Sprintf("%s-%08x", cursor, offset)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
	if w.Header().Get("OData-Version") == "" {
		w.Header().Set("OData-Version", "4.0")
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// writeError answers in Business Central's error shape.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

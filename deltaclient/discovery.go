package deltaclient

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Target is what the user asked to connect to (the connection flags).
type Target struct {
	URL        string   // service root or Business Central company URL
	Company    string   // company id or name, when URL is a root with companies
	Entities   []string // restrict to these entity sets; empty means all
	EntityURLs []string // full collection or delta function URLs
	Select     string   // $select for baselines
	Filter     string   // $filter for baselines
}

// Source is one entity set to follow: its name, the URL its baseline
// starts from and how its records are identified.
type Source struct {
	Name     string
	URL      string
	Identity Identity
	// IdentityNote says, in words for the request log, which identity rule
	// the set's records get and why.
	IdentityNote string
	// Schema is what $metadata says of the set (properties, timestamp,
	// etag), for polling it when it has no delta links; zero when unknown.
	Schema EntitySchema
}

// Discovery is what a service said about itself: the entity sets to
// follow, the company picked and whether it is Business Central.
type Discovery struct {
	Root    string   // service root, without a company; "" for --entity-url only
	Company *Company // the company the sets belong to, when the service has companies
	// BusinessCentral is true when the service lists a companies set (the
	// shape of Business Central's APIs) or is hosted by Business Central.
	BusinessCentral bool
	Sources         []Source
}

// Discover turns a target into the entity sets to follow, reading the
// service document, the companies list and $metadata when it needs them.
// A service with several companies and none named is a *CompanyChoiceError.
func (c *Client) Discover(ctx context.Context, t Target) (*Discovery, error) {
	d := &Discovery{}
	for _, u := range t.EntityURLs {
		if _, err := url.ParseRequestURI(u); err != nil || !strings.HasPrefix(u, "http") {
			return nil, fmt.Errorf("--entity-url %q is not an http(s) URL", u)
		}
		d.Sources = append(d.Sources, Source{Name: NameOf(u), URL: u})
	}
	if t.URL != "" {
		if err := c.discoverRoot(ctx, t, d); err != nil {
			return nil, err
		}
	}
	if isBusinessCentralHost(t.URL) {
		d.BusinessCentral = true
	}
	seen := map[string]string{}
	for i := range d.Sources {
		src := &d.Sources[i]
		if u, dup := seen[src.Name]; dup {
			// One name, one follower: a session stores its sets by name.
			return nil, &DuplicateSetError{Name: src.Name, URLs: [2]string{u, src.URL}}
		}
		seen[src.Name] = src.URL
		src.URL = withQuery(src.URL, t.Select, t.Filter)
	}
	c.identify(ctx, d)
	return d, nil
}

func (c *Client) discoverRoot(ctx context.Context, t Target, d *Discovery) error {
	// A root may carry a query every request needs (".../ODataV4?company=
	// CRONUS", a tenant parameter): it stays on the root, and under puts
	// each path below the root before it.
	path, query, _ := strings.Cut(t.URL, "?")
	root, companyPath := SplitCompany(strings.TrimRight(path, "/"))
	d.Root = withRawQuery(root, query)
	base := withRawQuery(root+companyPath, query)
	if companyPath != "" {
		// A company URL: Business Central's shape, and the sets are named
		// by the user (or all of the root's service document).
		d.BusinessCentral = true
	}
	var doc []EntitySetInfo
	if companyPath == "" || len(t.Entities) == 0 {
		var err error
		if doc, err = c.ServiceDocument(ctx, d.Root); err != nil {
			return err
		}
	}
	if companyPath == "" {
		for _, s := range doc {
			if s.Name == "companies" {
				d.BusinessCentral = true
			}
		}
		if d.BusinessCentral {
			co, err := c.pickCompany(ctx, d.Root, t.Company)
			if err != nil {
				return err
			}
			d.Company = &co
			base = under(d.Root, "/companies("+co.ID+")")
		}
	}
	if len(t.Entities) == 0 {
		if len(t.EntityURLs) > 0 {
			// --url with --entity-url: the URLs name the sets to follow;
			// the root gives the company and $metadata, not more sets.
			return nil
		}
		for _, s := range doc {
			if s.Kind == "EntitySet" && s.Name != "companies" {
				d.Sources = append(d.Sources, Source{Name: s.Name, URL: setURL(base, s.URL)})
			}
		}
		return nil
	}
	if doc == nil {
		// A company URL: the root's service document is only needed to
		// check the names, so a root that will not serve it is no error.
		doc, _ = c.ServiceDocument(ctx, d.Root)
	}
	if len(doc) > 0 {
		// Check the names first: a typo gets the nearest names, not a 404
		// on its baseline.
		if err := checkEntities(t.Entities, doc); err != nil {
			return err
		}
	}
	for _, e := range t.Entities {
		d.Sources = append(d.Sources, Source{Name: e, URL: setURL(base, docURL(doc, e))})
	}
	return nil
}

// docURL is the URL the service document gives the set named (or
// addressed) e: a set's url may differ from its name. Without a service
// document it is the name.
func docURL(doc []EntitySetInfo, e string) string {
	for _, s := range doc {
		if s.Name == e || s.URL == e {
			return s.URL
		}
	}
	return e
}

// setURL resolves a set's url from the service document against the
// URL its sets live under; an absolute url is taken as it is.
func setURL(base, u string) string {
	if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") {
		return u
	}
	return under(base, "/"+strings.TrimLeft(u, "/"))
}

// under returns the URL of path below base, keeping base's query after
// the new path: "h/root?company=C" and "/customers" give
// "h/root/customers?company=C".
func under(base, path string) string {
	b, query, _ := strings.Cut(base, "?")
	return withRawQuery(strings.TrimRight(b, "/")+path, query)
}

func withRawQuery(u, query string) string {
	if query == "" {
		return u
	}
	return u + "?" + query
}

// identify gives each source its identity rule: the key properties from
// the service's $metadata when it names them (Dataverse's accountid, a
// composite key), else SPEC's rules.
func (c *Client) identify(ctx context.Context, d *Discovery) {
	var schemas Schemas
	why := "no --url to read $metadata from"
	if d.Root != "" {
		var err error
		if schemas, err = c.Schemas(ctx, d.Root); err != nil {
			why = err.Error()
		} else {
			why = ""
		}
	}
	for i := range d.Sources {
		s := &d.Sources[i]
		s.Schema = schemas[s.Name]
		if k := c.Identity.KeyFields; len(k) > 0 {
			// Named by hand (--key): it wins over $metadata.
			s.Identity = c.Identity
			s.IdentityNote = fmt.Sprintf("%s: records are identified by their key %s (from %s)", s.Name, strings.Join(k, ", "), cmp.Or(c.Identity.KeySource, "--key"))
			continue
		}
		if k := s.Schema.Key; len(k) > 0 {
			s.Identity = Identity{KeyFields: k, KeySource: "$metadata"}
			s.IdentityNote = fmt.Sprintf("%s: records are identified by their key %s (from $metadata)", s.Name, strings.Join(k, ", "))
			continue
		}
		s.Identity = c.Identity
		reason := why
		if reason == "" {
			reason = "$metadata names no key for it"
		}
		s.IdentityNote = fmt.Sprintf("%s: records are identified by id, else @odata.id, else the first property named ...id (%s)", s.Name, reason)
	}
}

// DuplicateSetError is two entity sets of one target with the same name
// (--entity and --entity-url, or two --entity-url of one set): their
// rounds would be mixed up under that name.
type DuplicateSetError struct {
	Name string
	URLs [2]string
}

func (e *DuplicateSetError) Error() string {
	return fmt.Sprintf("the entity set %s is asked for twice (%s and %s); name it once, with --entity or with --entity-url", e.Name, e.URLs[0], e.URLs[1])
}

// SplitCompany splits a Business Central company URL
// (".../api/v2.0/companies(id)") into the service root and the company
// path ("/companies(id)"); a URL without a company comes back whole.
func SplitCompany(u string) (root, companyPath string) {
	i := strings.Index(u, "/companies(")
	if i < 0 {
		return u, ""
	}
	return u[:i], u[i:]
}

func isBusinessCentralHost(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return h == "api.businesscentral.dynamics.com" || strings.HasSuffix(h, ".businesscentral.dynamics.com")
}

// CompanyChoiceError is returned when a service has several companies and
// none (or an unknown one) was named.
type CompanyChoiceError struct {
	Companies []Company
	Asked     string
}

func (e *CompanyChoiceError) Error() string {
	var names []string
	for _, c := range e.Companies {
		names = append(names, fmt.Sprintf("%q (%s)", c.Name, c.ID))
	}
	if e.Asked != "" {
		return fmt.Sprintf("no company %q; pick one with --company: %s", e.Asked, strings.Join(names, ", "))
	}
	return "the service has several companies; pick one with --company: " + strings.Join(names, ", ")
}

func (c *Client) pickCompany(ctx context.Context, root, want string) (Company, error) {
	cos, err := c.Companies(ctx, root)
	if err != nil {
		return Company{}, err
	}
	if want == "" {
		if len(cos) == 1 {
			return cos[0], nil
		}
		return Company{}, &CompanyChoiceError{Companies: cos}
	}
	for _, co := range cos {
		if strings.EqualFold(co.ID, want) || strings.EqualFold(co.Name, want) || strings.EqualFold(co.DisplayName, want) {
			return co, nil
		}
	}
	return Company{}, &CompanyChoiceError{Companies: cos, Asked: want}
}

// NameOf names an entity set from its URL: the last path segment, without
// a key, or the one before a delta function (".../users/delta" is users).
func NameOf(raw string) string {
	u, err := url.Parse(raw)
	path := raw
	if err == nil {
		path = u.Path
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		s := segs[i]
		if j := strings.IndexByte(s, '('); j >= 0 {
			s = s[:j]
		}
		switch strings.ToLower(s) {
		case "delta", "microsoft.graph.delta", "":
			continue
		}
		return s
	}
	return raw
}

// withQuery adds $select and $filter to a baseline URL. Never used on a
// delta link: those carry the query they were made for.
func withQuery(raw, sel, filter string) string {
	if sel == "" && filter == "" {
		return raw
	}
	// Spaces become %20 (OData's form, not '+'); commas and quotes stay
	// readable in the request log.
	esc := strings.NewReplacer("%2C", ",", "%27", "'").Replace
	var add []string
	if sel != "" {
		add = append(add, "$select="+esc(url.PathEscape(sel)))
	}
	if filter != "" {
		add = append(add, "$filter="+esc(url.PathEscape(filter)))
	}
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + strings.Join(add, "&")
}

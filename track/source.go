package track

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/deltascope/deltascope/deltaclient"
)

// Source is one entity set to follow: its name and collection URL.
type Source struct {
	Name string
	URL  string
}

// Target is what the user asked to connect to (the connection flags).
type Target struct {
	URL        string   // service root or Business Central company URL
	Company    string   // company id or name, when URL is a root with companies
	Entities   []string // restrict to these entity sets; empty means all
	EntityURLs []string // full collection or delta function URLs
	Select     string   // $select for baselines
	Filter     string   // $filter for baselines
}

// Resolve turns a target into sources, reading the service document and
// the companies list when it needs them.
func Resolve(ctx context.Context, c *deltaclient.Client, t Target) ([]Source, error) {
	var out []Source
	for _, u := range t.EntityURLs {
		if _, err := url.ParseRequestURI(u); err != nil || !strings.HasPrefix(u, "http") {
			return nil, fmt.Errorf("--entity-url %q is not an http(s) URL", u)
		}
		out = append(out, Source{Name: NameOf(u), URL: u})
	}
	if t.URL == "" {
		return out, nil
	}
	root := strings.TrimRight(t.URL, "/")
	base := root
	if !strings.Contains(root, "/companies(") {
		doc, err := c.ServiceDocument(ctx, root)
		if err != nil {
			return nil, err
		}
		hasCompanies := false
		for _, s := range doc {
			if s.Name == "companies" {
				hasCompanies = true
			}
		}
		if hasCompanies {
			co, err := pickCompany(ctx, c, root, t.Company)
			if err != nil {
				return nil, err
			}
			base = root + "/companies(" + co.ID + ")"
		}
		if len(t.Entities) == 0 {
			for _, s := range doc {
				if s.Kind == "EntitySet" && s.Name != "companies" {
					out = append(out, Source{Name: s.Name, URL: base + "/" + s.URL})
				}
			}
			return out, nil
		}
	}
	for _, e := range t.Entities {
		out = append(out, Source{Name: e, URL: base + "/" + e})
	}
	return out, nil
}

// CompanyChoiceError is returned when a service has several companies and
// none was named.
type CompanyChoiceError struct {
	Companies []deltaclient.Company
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

func pickCompany(ctx context.Context, c *deltaclient.Client, root, want string) (deltaclient.Company, error) {
	cos, err := c.Companies(ctx, root)
	if err != nil {
		return deltaclient.Company{}, err
	}
	if want == "" {
		if len(cos) == 1 {
			return cos[0], nil
		}
		return deltaclient.Company{}, &CompanyChoiceError{Companies: cos}
	}
	for _, co := range cos {
		if strings.EqualFold(co.ID, want) || strings.EqualFold(co.Name, want) || strings.EqualFold(co.DisplayName, want) {
			return co, nil
		}
	}
	return deltaclient.Company{}, &CompanyChoiceError{Companies: cos, Asked: want}
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

package deltatest

import (
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// serveMetadata answers a CSDL document that agrees with the URLs that
// work: every entity type declares its properties, with their types read
// from the data; companies is an entity set whose type contains each set
// (companies(id)/customers), and each set is also an entity set of its
// own, served for the first company as the service document lists it.
func (s *Server) serveMetadata(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/xml")
	c := s.companies[0]
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices><Schema Namespace="Microsoft.NAV" xmlns="http://docs.oasis-open.org/odata/ns/edm">`)
	b.WriteString(`<EntityType Name="company"><Key><PropertyRef Name="id"/></Key>` +
		`<Property Name="id" Type="Edm.Guid" Nullable="false"/><Property Name="systemVersion" Type="Edm.String"/>` +
		`<Property Name="timestamp" Type="Edm.Int64"/><Property Name="name" Type="Edm.String"/>` +
		`<Property Name="displayName" Type="Edm.String"/><Property Name="businessProfileId" Type="Edm.String"/>` +
		`<Property Name="systemCreatedAt" Type="Edm.DateTimeOffset"/>`)
	for _, name := range c.setOrder {
		fmt.Fprintf(&b, `<NavigationProperty Name="%s" Type="Collection(Microsoft.NAV.%s)" ContainsTarget="true"/>`, name, name)
	}
	b.WriteString(`</EntityType>`)
	s.mu.Lock()
	for _, name := range c.setOrder {
		es := c.sets[name]
		var sample []byte
		key := "id"
		if es.noDelta {
			key = "lineNumber"
			sample = es.rowsOnly[0]
		} else {
			for _, id := range es.order {
				if r := es.current[id]; r != nil {
					sample = r.json()
					break
				}
			}
		}
		open := ""
		if sample == nil {
			// An empty set shows no properties to type: it is open.
			open = ` OpenType="true"`
		}
		fmt.Fprintf(&b, `<EntityType Name="%s"%s><Key><PropertyRef Name="%s"/></Key>`, name, open, key)
		rawjson.Members(sample, func(n, v []byte) bool {
			if n[0] == '@' {
				return true
			}
			t := edmType(string(n), v)
			nullable := ""
			if string(n) == key {
				nullable = ` Nullable="false"`
				if t == "Edm.Decimal" {
					t = "Edm.Int32"
				}
			}
			fmt.Fprintf(&b, `<Property Name="%s" Type="%s"%s/>`, html.EscapeString(string(n)), t, nullable)
			return true
		})
		b.WriteString(`</EntityType>`)
	}
	s.mu.Unlock()
	b.WriteString(`<EntityContainer Name="NAV"><EntitySet Name="companies" EntityType="Microsoft.NAV.company"/>`)
	for _, name := range c.setOrder {
		fmt.Fprintf(&b, `<EntitySet Name="%s" EntityType="Microsoft.NAV.%s"/>`, name, name)
	}
	b.WriteString(`</EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`)
	w.Write([]byte(b.String()))
}

// edmType names the type of a property from its name and a value.
func edmType(name string, v []byte) string {
	switch {
	case name == "id", strings.HasSuffix(name, "Id") && isGUID(rawjson.Unquote(v)):
		return "Edm.Guid"
	case len(v) > 0 && v[0] == '"':
		str := rawjson.Unquote(v)
		if strings.HasSuffix(name, "DateTime") || strings.HasSuffix(name, "At") {
			return "Edm.DateTimeOffset"
		}
		if len(str) == 10 && str[4] == '-' && str[7] == '-' {
			return "Edm.Date"
		}
		return "Edm.String"
	case string(v) == "true" || string(v) == "false":
		return "Edm.Boolean"
	}
	return "Edm.Decimal"
}

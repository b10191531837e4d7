package deltaclient

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Keys maps each entity set of a service to its key properties, read from
// the service's $metadata (CSDL XML): EntitySet -> EntityType -> Key,
// following BaseType when a type inherits its key.
type Keys map[string][]string

type csdl struct {
	XMLName xml.Name
	Schemas []struct {
		Namespace string `xml:"Namespace,attr"`
		Alias     string `xml:"Alias,attr"`
		Types     []struct {
			Name     string `xml:"Name,attr"`
			BaseType string `xml:"BaseType,attr"`
			Key      []struct {
				Refs []struct {
					Name string `xml:"Name,attr"`
				} `xml:"PropertyRef"`
			} `xml:"Key"`
		} `xml:"EntityType"`
		Containers []struct {
			Sets []struct {
				Name       string `xml:"Name,attr"`
				EntityType string `xml:"EntityType,attr"`
			} `xml:"EntitySet"`
		} `xml:"EntityContainer"`
	} `xml:"DataServices>Schema"`
}

// ParseKeys reads the keys of every entity set from a CSDL document.
func ParseKeys(r io.Reader) (Keys, error) {
	var doc csdl
	dec := xml.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("$metadata is not CSDL XML: %v", err)
	}
	if doc.XMLName.Local != "Edmx" {
		return nil, fmt.Errorf("$metadata is not CSDL XML: the document is <%s>, not <edmx:Edmx>", doc.XMLName.Local)
	}
	type entityType struct {
		base string
		key  []string
	}
	types := map[string]entityType{}
	for _, s := range doc.Schemas {
		for _, t := range s.Types {
			et := entityType{base: t.BaseType}
			for _, k := range t.Key {
				for _, ref := range k.Refs {
					et.key = append(et.key, ref.Name)
				}
			}
			types[s.Namespace+"."+t.Name] = et
			if s.Alias != "" {
				types[s.Alias+"."+t.Name] = et
			}
		}
	}
	keyOf := func(name string) []string {
		for hops := 0; hops < 32; hops++ {
			t, ok := types[name]
			if !ok {
				return nil
			}
			if len(t.key) > 0 {
				return t.key
			}
			name = t.base
		}
		return nil
	}
	keys := Keys{}
	for _, s := range doc.Schemas {
		for _, c := range s.Containers {
			for _, set := range c.Sets {
				if k := keyOf(set.EntityType); len(k) > 0 {
					keys[set.Name] = k
				}
			}
		}
	}
	return keys, nil
}

// Metadata fetches and parses root/$metadata.
func (c *Client) Metadata(ctx context.Context, root string) (Keys, error) {
	origin, err := originOf(root)
	if err != nil {
		return nil, err
	}
	var keys Keys
	_, err = c.do(ctx, strings.TrimRight(root, "/")+"/$metadata", origin, nil, func(resp *http.Response, r io.Reader) error {
		var perr error
		keys, perr = ParseKeys(r)
		return perr
	})
	if err != nil {
		return nil, fmt.Errorf("$metadata: %w", err)
	}
	return keys, nil
}

package deltaclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// EntitySchema is what $metadata says about one entity set beyond its
// key, for following it without delta links: its properties, a
// last-modified timestamp, whether it has etags.
type EntitySchema struct {
	Key        []string
	Properties map[string]string // Edm type by property name
	// Timestamp is a last-modified Edm.DateTimeOffset property known by
	// name: lastModifiedDateTime (Business Central, Graph),
	// systemModifiedAt, modifiedon (Dataverse), modifiedAt (SAP CAP's
	// managed), LastModified…; "" when there is none.
	Timestamp string
	// ETag is set when the set declares Core.OptimisticConcurrency;
	// ETagFields are the properties named there.
	ETag       bool
	ETagFields []string
}

// Schemas maps entity set names to their schema.
type Schemas map[string]EntitySchema

// timestampNames are the last-modified properties known, best first.
var timestampNames = []string{"lastModifiedDateTime", "systemModifiedAt", "modifiedon", "modifiedAt", "modifiedDateTime", "lastModified"}

// TimestampOf picks the last-modified property among props (name to Edm
// type): a DateTimeOffset named as one of the known ones (any case), else
// one whose name starts with "LastModified".
func TimestampOf(props map[string]string) string {
	for _, want := range timestampNames {
		for name, typ := range props {
			if strings.EqualFold(name, want) && typ == "Edm.DateTimeOffset" {
				return name
			}
		}
	}
	best := ""
	for name, typ := range props {
		if typ == "Edm.DateTimeOffset" && len(name) > len("lastmodified") && strings.EqualFold(name[:len("lastmodified")], "lastmodified") && (best == "" || name < best) {
			best = name
		}
	}
	return best
}

// schemas resolves every set's key and properties, following BaseType.
func (m *schemaModel) schemas() Schemas {
	keys := m.keys()
	out := Schemas{}
	for _, s := range m.sets {
		sc := EntitySchema{Key: keys[s.name], Properties: map[string]string{}, ETag: s.etag, ETagFields: s.concurrency}
		name := s.typ
		for hops := 0; hops < 32; hops++ {
			t, ok := m.types[name]
			if !ok {
				break
			}
			for _, p := range t.props {
				if _, seen := sc.Properties[p.name]; !seen {
					sc.Properties[p.name] = p.typ
				}
			}
			name = t.base
		}
		sc.Timestamp = TimestampOf(sc.Properties)
		out[s.name] = sc
	}
	return out
}

// ParseSchemas reads the schema of every entity set from a $metadata body,
// CSDL XML or JSON.
func ParseSchemas(body []byte, contentType string) (Schemas, error) {
	m, err := parseSchema(body, contentType)
	if err != nil {
		return nil, err
	}
	return m.schemas(), nil
}

// Schemas fetches root/$metadata and reads every set's schema.
func (c *Client) Schemas(ctx context.Context, root string) (Schemas, error) {
	origin, err := c.home(root)
	if err != nil {
		return nil, err
	}
	var out Schemas
	_, err = c.do(ctx, get{url: under(root, "/$metadata"), origin: origin, accept: MetadataAccept}, func(resp *http.Response, r io.Reader) error {
		body, err := io.ReadAll(io.LimitReader(r, maxMetadata))
		if err != nil {
			return err
		}
		out, err = ParseSchemas(body, resp.Header.Get("Content-Type"))
		if err != nil && c.Header.Get("Accept") != "" {
			err = fmt.Errorf("%w; it was asked for with Accept: %s from --header", err, c.Header.Get("Accept"))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("$metadata: %w", err)
	}
	return out, nil
}

func isConcurrency(term string) bool {
	return term == "Core.OptimisticConcurrency" || term == "Org.OData.Core.V1.OptimisticConcurrency" || strings.HasSuffix(term, ".OptimisticConcurrency")
}

// jsonProperties reads the structural properties of a CSDL JSON entity
// type: members without "$" or "@" whose $Kind is absent or "Property";
// $Type defaults to Edm.String.
func jsonProperties(raw json.RawMessage) []property {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return nil
	}
	var out []property
	for name, v := range members {
		if strings.HasPrefix(name, "$") || strings.Contains(name, "@") {
			continue
		}
		var p struct {
			Kind string `json:"$Kind"`
			Type string `json:"$Type"`
		}
		if json.Unmarshal(v, &p) != nil || p.Kind != "" && p.Kind != "Property" {
			continue
		}
		if p.Type == "" {
			p.Type = "Edm.String"
		}
		out = append(out, property{name: name, typ: p.Type})
	}
	return out
}

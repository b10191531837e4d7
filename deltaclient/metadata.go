package deltaclient

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Keys maps each entity set of a service to its key properties, read from
// the service's $metadata (CSDL XML or CSDL JSON): EntitySet -> EntityType
// -> Key, following BaseType when a type inherits its key.
type Keys map[string][]string

// MetadataAccept is what $metadata is asked for. CSDL XML is what every
// OData 4 service can answer; CSDL JSON (what SAP CAP answers to
// Accept: application/json) is parsed too, in case a server or a
// --header Accept sends it anyway.
const MetadataAccept = "application/xml"

// maxMetadata bounds a $metadata document (Dataverse's is about 40 MB).
const maxMetadata = 64 << 20

// schemaModel is what deltascope reads from either CSDL form: entity types
// by qualified name (and by alias-qualified name), and entity sets to their
// type. It is the one place a later reader (properties, annotations) adds to.
type schemaModel struct {
	types map[string]entityType
	sets  []entitySet
}

type entityType struct {
	base  string
	key   []string
	props []property
}

type property struct {
	name, typ string
}

type entitySet struct {
	name, typ string
	// concurrency lists the properties of Core.OptimisticConcurrency on
	// the set: the set has etags.
	concurrency []string
	etag        bool
}

// keys resolves every set's key, following BaseType (a bounded number of
// hops, so a cycle in a hostile document ends).
func (m *schemaModel) keys() Keys {
	keyOf := func(name string) []string {
		for hops := 0; hops < 32; hops++ {
			t, ok := m.types[name]
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
	for _, s := range m.sets {
		if k := keyOf(s.typ); len(k) > 0 {
			keys[s.name] = k
		}
	}
	return keys
}

// ParseKeys reads the keys of every entity set from a CSDL document, XML
// or JSON (told apart by the first byte).
func ParseKeys(r io.Reader) (Keys, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxMetadata))
	if err != nil {
		return nil, err
	}
	return ParseMetadata(body, "")
}

// ParseMetadata reads the keys of every entity set from a $metadata body.
// contentType is the answer's Content-Type, named in the error when the
// body is neither CSDL XML nor CSDL JSON.
func ParseMetadata(body []byte, contentType string) (Keys, error) {
	m, err := parseSchema(body, contentType)
	if err != nil {
		return nil, err
	}
	return m.keys(), nil
}

func parseSchema(body []byte, contentType string) (*schemaModel, error) {
	trimmed := body[skipBOM(body):]
	var xmlErr, jsonErr error
	if len(trimmed) > 0 && trimmed[0] == '{' {
		m, err := parseCSDLJSON(trimmed)
		if err == nil {
			return m, nil
		}
		jsonErr = err
	} else {
		m, err := parseCSDLXML(trimmed)
		if err == nil {
			return m, nil
		}
		xmlErr = err
	}
	what := "no Content-Type"
	if contentType != "" {
		what = "Content-Type " + contentType
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("the answer (%s) is JSON but not CSDL JSON: %v", what, jsonErr)
	}
	start := excerpt(trimmed[:min(len(trimmed), 64)], 40)
	return nil, fmt.Errorf("the answer (%s) is neither CSDL XML (%v) nor CSDL JSON (it starts %q)", what, xmlErr, start)
}

type csdlXML struct {
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
			Props []struct {
				Name string `xml:"Name,attr"`
				Type string `xml:"Type,attr"`
			} `xml:"Property"`
		} `xml:"EntityType"`
		Containers []struct {
			Name string `xml:"Name,attr"`
			Sets []struct {
				Name        string          `xml:"Name,attr"`
				EntityType  string          `xml:"EntityType,attr"`
				Annotations []xmlAnnotation `xml:"Annotation"`
			} `xml:"EntitySet"`
		} `xml:"EntityContainer"`
		Annotations []struct {
			Target      string          `xml:"Target,attr"`
			Annotations []xmlAnnotation `xml:"Annotation"`
		} `xml:"Annotations"`
	} `xml:"DataServices>Schema"`
}

// xmlAnnotation is read for Core.OptimisticConcurrency: its term and the
// property paths of its collection.
type xmlAnnotation struct {
	Term  string   `xml:"Term,attr"`
	Paths []string `xml:"Collection>PropertyPath"`
}

func parseCSDLXML(body []byte) (*schemaModel, error) {
	var doc csdlXML
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&doc); err != nil {
		if err == io.EOF {
			return nil, errors.New("the body is empty")
		}
		return nil, err
	}
	if doc.XMLName.Local != "Edmx" {
		return nil, fmt.Errorf("the document is <%s>, not <edmx:Edmx>", doc.XMLName.Local)
	}
	m := &schemaModel{types: map[string]entityType{}}
	for _, s := range doc.Schemas {
		for _, t := range s.Types {
			et := entityType{base: t.BaseType}
			for _, k := range t.Key {
				for _, ref := range k.Refs {
					et.key = append(et.key, ref.Name)
				}
			}
			for _, p := range t.Props {
				et.props = append(et.props, property{name: p.Name, typ: p.Type})
			}
			m.addType(s.Namespace, s.Alias, t.Name, et)
		}
		// Out-of-line annotations name a set as Container/Set, qualified
		// or not.
		concurrency := map[string][]string{}
		etag := map[string]bool{}
		for _, a := range s.Annotations {
			for _, an := range a.Annotations {
				if isConcurrency(an.Term) {
					target := a.Target[strings.LastIndexByte(a.Target, '/')+1:]
					concurrency[target] = append(concurrency[target], an.Paths...)
					etag[target] = true
				}
			}
		}
		for _, c := range s.Containers {
			for _, set := range c.Sets {
				es := entitySet{name: set.Name, typ: set.EntityType, concurrency: concurrency[set.Name], etag: etag[set.Name]}
				for _, an := range set.Annotations {
					if isConcurrency(an.Term) {
						es.etag = true
						es.concurrency = append(es.concurrency, an.Paths...)
					}
				}
				m.sets = append(m.sets, es)
			}
		}
	}
	return m, nil
}

func (m *schemaModel) addType(namespace, alias, name string, t entityType) {
	m.types[namespace+"."+name] = t
	if alias != "" {
		m.types[alias+"."+name] = t
	}
}

// parseCSDLJSON reads CSDL JSON (OData CSDL JSON 4.01, section 5ff): the
// document's members other than $-prefixed ones are schemas; a schema's
// members with "$Kind":"EntityType" are types with "$Key" and "$BaseType";
// the one with "$Kind":"EntityContainer" holds sets as members with
// "$Collection":true and "$Type".
func parseCSDLJSON(body []byte) (*schemaModel, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	if _, ok := doc["$Version"]; !ok {
		return nil, errors.New(`the document has no "$Version"`)
	}
	m := &schemaModel{types: map[string]entityType{}}
	for ns, raw := range doc {
		if strings.HasPrefix(ns, "$") {
			continue
		}
		var schema map[string]json.RawMessage
		if json.Unmarshal(raw, &schema) != nil {
			continue
		}
		var alias string
		if a, ok := schema["$Alias"]; ok {
			json.Unmarshal(a, &alias)
		}
		for name, raw := range schema {
			if strings.HasPrefix(name, "$") {
				continue
			}
			var el struct {
				Kind     string            `json:"$Kind"`
				BaseType string            `json:"$BaseType"`
				Key      []json.RawMessage `json:"$Key"`
			}
			if json.Unmarshal(raw, &el) != nil {
				continue
			}
			switch el.Kind {
			case "EntityType":
				et := entityType{base: el.BaseType}
				for _, k := range el.Key {
					if name, ok := jsonKeyRef(k); ok {
						et.key = append(et.key, name)
					}
				}
				et.props = jsonProperties(raw)
				m.addType(ns, alias, name, et)
			case "EntityContainer":
				var members map[string]json.RawMessage
				json.Unmarshal(raw, &members)
				for setName, raw := range members {
					var set struct {
						Collection bool   `json:"$Collection"`
						Type       string `json:"$Type"`
					}
					if strings.HasPrefix(setName, "$") || json.Unmarshal(raw, &set) != nil || !set.Collection {
						continue
					}
					m.sets = append(m.sets, entitySet{name: setName, typ: set.Type})
				}
			}
		}
	}
	return m, nil
}

// jsonKeyRef reads one $Key item: a property name, or an object mapping an
// alias to a property path ({"EntityInfoID": "Info/ID"}), whose alias is
// the name the key goes by.
func jsonKeyRef(raw json.RawMessage) (string, bool) {
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return name, name != ""
	}
	var aliased map[string]string
	if json.Unmarshal(raw, &aliased) == nil && len(aliased) == 1 {
		for alias := range aliased {
			return alias, true
		}
	}
	return "", false
}

// Metadata fetches root/$metadata and reads the keys of every entity set,
// asking for MetadataAccept unless --header names an Accept of its own
// (which is then sent as given, and named in the error if the answer
// cannot be read).
func (c *Client) Metadata(ctx context.Context, root string) (Keys, error) {
	schemas, err := c.Schemas(ctx, root)
	if err != nil {
		return nil, err
	}
	keys := Keys{}
	for name, s := range schemas {
		if len(s.Key) > 0 {
			keys[name] = s.Key
		}
	}
	return keys, nil
}

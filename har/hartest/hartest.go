// Package hartest checks HAR files the way other tools will read them:
// against the HAR 1.2 JSON schema of the npm package har-schema 2.0.0
// (ISC, Ahmad Nassri; the schema har-validator and many HAR tools use),
// embedded unchanged in schema/. It is for tests, as httptest is.
package hartest

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed schema/*.json
var schemaFiles embed.FS

var (
	once   sync.Once
	schema *jsonschema.Schema
	err    error
)

func compile() (*jsonschema.Schema, error) {
	once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		names, _ := fs.Glob(schemaFiles, "schema/*.json")
		for _, n := range names {
			b, _ := schemaFiles.ReadFile(n)
			doc, e := jsonschema.UnmarshalJSON(bytes.NewReader(b))
			if e != nil {
				err = fmt.Errorf("%s: %w", n, e)
				return
			}
			if e := c.AddResource("file:///har-schema/"+path.Base(n), doc); e != nil {
				err = e
				return
			}
		}
		schema, err = c.Compile("file:///har-schema/har.json")
	})
	return schema, err
}

// Validate says whether data is a valid HAR 1.2 document.
func Validate(data []byte) error {
	sch, err := compile()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(inst)
}

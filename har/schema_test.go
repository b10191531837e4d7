package har

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// validate checks data against the HAR 1.2 JSON schema of the npm package
// har-schema (testdata/har-schema, the schema har-validator and many HAR
// tools use): a consumer we did not write.
func validate(t testing.TB, data []byte) {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := filepath.Glob(filepath.Join(testdataDir(), "har-schema", "*.json"))
	if err != nil || len(files) < 10 {
		t.Fatalf("schema files: %v %d", err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddResource("file:///har-schema/"+filepath.Base(f), doc); err != nil {
			t.Fatal(err)
		}
	}
	sch, err := c.Compile("file:///har-schema/har.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not JSON: %v\n%s", err, excerpt(data))
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("not valid HAR 1.2: %v\n%s", err, excerpt(data))
	}
}

func excerpt(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[:1000] + " … " + s[len(s)-1000:]
	}
	return strings.TrimSpace(s)
}

// testdataDir finds testdata from this package or one that imports its
// helpers by path.
func testdataDir() string {
	if _, err := os.Stat("testdata/har-schema"); err == nil {
		return "testdata"
	}
	return filepath.Join("..", "har", "testdata")
}

func TestSchemaRejectsBrokenHAR(t *testing.T) {
	t.Parallel()
	// The validator must be able to fail: an entry without a time zone and
	// without timings is not HAR.
	bad := []byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"2026-11-25 14:03","time":1,"request":{},"response":{},"cache":{}}]}}`)
	c := jsonschema.NewCompiler()
	files, _ := filepath.Glob("testdata/har-schema/*.json")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		c.AddResource("file:///har-schema/"+filepath.Base(f), doc)
	}
	sch, err := c.Compile("file:///har-schema/har.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if sch.Validate(inst) == nil {
		t.Fatal("the schema accepted an entry with no request, response or timings")
	}
}

package deltaclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
)

func ids(t *testing.T, page string, idn Identity) []string {
	t.Helper()
	p, err := decodePage([]byte(page), idn)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.entries {
		out = append(out, e.ID)
	}
	return out
}

// 5 and "5" are two records, and so are the string "a=1,b=2" and a
// composite key; the removal Products(5) names the number, Products('5')
// the string.
func TestIdentityIsTyped(t *testing.T) {
	t.Parallel()
	got := ids(t, `{"value":[{"id":5},{"id":"5"},{"id":true},{"id":"true"},{"id":"abc"},{"@removed":{},"@id":"Products(5)"},{"@removed":{},"@id":"Products('5')"}]}`, Identity{})
	want := []string{"5", `"5"`, "true", `"true"`, "abc", "5", `"5"`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ids %q, want %q", got, want)
	}
	key := Identity{KeyFields: []string{"a", "b"}}
	got = ids(t, `{"value":[{"a":"1,b=2","b":"3"},{"a":"1","b":"2,b=3"},{"a":1,"b":"x"},{"a":"1","b":"x"}]}`, key)
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("two different keys share the id %q: %q", id, got)
		}
		seen[id] = true
	}
	if got := KeyOf("Lines(b='x',a=1)"); got != ids(t, `{"value":[{"a":1,"b":"x"}]}`, key)[0] {
		t.Errorf("KeyOf of a composite entity-id %q does not match the record's id", got)
	}
}

// The example: records without identity are an error naming the
// rule, the first offending record and --key; nothing is merged.
func TestRecordsWithoutIdentityAreAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		page, record string
		idn          Identity
		rule         string
		item         int
	}{
		{`{"value":[{"name":"a"},{"name":"b"},{"id":5},{"id":"5"},{"id":null}]}`, `{"name":"a"}`, Identity{}, "id, then @odata.id, then a property whose name ends in id", 1},
		{`{"value":[{"id":5},{"id":null}]}`, `{"id":null}`, Identity{}, "id, then @odata.id", 2},
		{`{"value":[{"id":{"a":1}}]}`, `{"id":{"a":1}}`, Identity{}, "id, then", 1},
		{`{"value":[{"orderNo":1,"lineNo":1},{"orderNo":1}]}`, `{"orderNo":1}`, Identity{KeyFields: []string{"orderNo", "lineNo"}, KeySource: "--key"}, "the key orderNo, lineNo (from --key)", 2},
		{`{"value":[{"@removed":{"reason":"deleted"}}]}`, `{"@removed":{"reason":"deleted"}}`, Identity{}, "id, then", 1},
	} {
		_, err := decodePage([]byte(tc.page), tc.idn)
		var ie *IdentityError
		if !errors.As(err, &ie) {
			t.Errorf("%s: error %v, want an *IdentityError", tc.page, err)
			continue
		}
		msg := err.Error()
		for _, want := range []string{"item " + strconv.Itoa(tc.item) + " ", tc.record, tc.rule, "--key field[,field]"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not say %q", tc.page, msg, want)
			}
		}
	}
}

// A record naming its key member twice is rejected as malformed, whichever
// rule finds the key.
func TestDuplicateKeyMemberIsMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		page string
		idn  Identity
	}{
		{`{"value":[{"id":"a","name":"x","id":"b"}]}`, Identity{}},
		{`{"value":[{"id":"a","nested":{"id":"n"},"id":"b"}]}`, Identity{}},
		{`{"value":[{"@odata.id":"P(1)","@odata.id":"P(2)"}]}`, Identity{}},
		{`{"value":[{"accountid":"a","accountid":"b"}]}`, Identity{}},
		{`{"value":[{"k":1,"v":2,"k":3}]}`, Identity{KeyFields: []string{"k"}}},
	} {
		_, err := decodePage([]byte(tc.page), tc.idn)
		var me *MalformedError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), "twice") {
			t.Errorf("%s: error %v, want malformed: key member twice", tc.page, err)
		}
	}
	// A nested "id" is not a duplicate.
	if got := ids(t, `{"value":[{"id":"a","lines":[{"id":"l1"},{"id":"l2"}]}]}`, Identity{}); len(got) != 1 || got[0] != "a" {
		t.Errorf("nested ids changed the identity: %q", got)
	}
}

// FuzzIdentity checks the identity rule is injective and typed: two
// single-member records get the same id exactly when their values are the
// same JSON value of the same type, and a removal naming the entity by URL
// matches the record.
func FuzzIdentity(f *testing.F) {
	f.Add("5", true, "5", false)
	f.Add("a,b", true, "a", true)
	f.Add(`"x"`, true, `\"x\"`, true)
	f.Add("true", false, "true", true)
	f.Add("1e5", false, "100000", false)
	f.Add("", true, "null", false)
	f.Fuzz(func(t *testing.T, a string, aStr bool, b string, bStr bool) {
		lit := func(s string, str bool) (string, bool) {
			if str {
				q, err := jsontext.AppendQuote(nil, s)
				return string(q), err == nil
			}
			return s, isNumber(s) && !strings.Contains(s, "INF") && s != "NaN" || s == "true" || s == "false"
		}
		la, okA := lit(a, aStr)
		lb, okB := lit(b, bStr)
		if !okA || !okB {
			return
		}
		p, err := decodePage([]byte(`{"value":[{"id":`+la+`},{"id":`+lb+`}]}`), Identity{})
		if err != nil {
			t.Fatalf("%s, %s: %v", la, lb, err)
		}
		same := aStr == bStr && a == b
		if (p.entries[0].ID == p.entries[1].ID) != same {
			t.Fatalf("ids %q and %q for %s and %s", p.entries[0].ID, p.entries[1].ID, la, lb)
		}
		if aStr && !strings.ContainsAny(a, "()/%?#") {
			if k := KeyOf("Set('" + strings.ReplaceAll(a, "'", "''") + "')"); k != p.entries[0].ID {
				t.Fatalf("KeyOf('%s') = %q, record id %q", a, k, p.entries[0].ID)
			}
		}
		key := Identity{KeyFields: []string{"x", "y"}}
		q, err := decodePage([]byte(`{"value":[{"x":`+la+`,"y":`+lb+`},{"x":`+lb+`,"y":`+la+`}]}`), key)
		if err != nil {
			t.Fatal(err)
		}
		if (q.entries[0].ID == q.entries[1].ID) != same {
			t.Fatalf("composite ids %q and %q for (%s, %s)", q.entries[0].ID, q.entries[1].ID, la, lb)
		}
	})
}

// A key named with --key is the identity: a record without it is an
// error, not identified by its id behind the user's back.
func TestUserKeyHasNoFallback(t *testing.T) {
	t.Parallel()
	_, err := decodePage([]byte(`{"value":[{"name":"5"},{"id":"5"}]}`), Identity{KeyFields: []string{"name"}, KeySource: "--key"})
	var ie *IdentityError
	if !errors.As(err, &ie) || ie.Item != 2 || !strings.Contains(err.Error(), "(from --key)") {
		t.Fatalf("a record without the --key field: %v, want an *IdentityError for item 2", err)
	}
	// A key from $metadata still lets a removal name its record by id.
	got := ids(t, `{"value":[{"name":"a"},{"@odata.context":"$metadata#T/$deletedEntity","id":"T('a')"}]}`, Identity{KeyFields: []string{"name"}, KeySource: "$metadata"})
	if strings.Join(got, "|") != `a|a` {
		t.Errorf("ids %q", got)
	}
}

// Two records of one read that share the property guessed as their key
// (a foreign key such as customerID, $metadata unavailable) stop the read
// with an error that names the property and --key, instead of merging
// them into one record.
func TestSharedGuessedKeyIsAnError(t *testing.T) {
	t.Parallel()
	pages := map[string]string{
		"/shared":   `{"value":[{"customerID":7,"orderNo":1},{"customerID":7,"orderNo":2}],"@odata.deltaLink":"/shared?d=1"}`,
		"/paged":    `{"value":[{"customerID":7,"orderNo":1}],"@odata.nextLink":"/paged2"}`,
		"/paged2":   `{"value":[{"customerID":7,"orderNo":2}],"@odata.deltaLink":"/paged?d=1"}`,
		"/distinct": `{"value":[{"customerID":7,"orderNo":1},{"customerID":8,"orderNo":2}],"@odata.deltaLink":"/distinct?d=1"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, pages[r.URL.Path])
	}))
	defer srv.Close()
	c := &Client{}
	for _, path := range []string{"/shared", "/paged"} {
		_, err := c.BaselinePages(context.Background(), srv.URL+path, nil, func([]Entry) {})
		if !errors.Is(err, ErrGuessedKeyShared) || !strings.Contains(err.Error(), "customerID 7") || !strings.Contains(err.Error(), "--key") {
			t.Errorf("%s: %v, want an error naming customerID 7 and --key", path, err)
		}
	}
	n := 0
	if _, err := c.BaselinePages(context.Background(), srv.URL+"/distinct", nil, func(es []Entry) { n += len(es) }); err != nil || n != 2 {
		t.Errorf("distinct guessed keys: %d entries, %v", n, err)
	}
}

// A member name is what it says once unescaped: "\u0040removed" is
// @removed and "\u0069d" a second id, by the scanner and the token decoder
// alike (the fast path for plain records must not read the raw bytes).
func TestEscapedMemberNames(t *testing.T) {
	t.Parallel()
	body := []byte(`{"value":[{"id":"a","\u0040removed":{"reason":"deleted"}},{"id":"b","n":"\u0069d"},{"id":"c","\u0069d":"d"}]}`)
	for _, dec := range []struct {
		name string
		f    func([]byte, Identity) (page, error)
	}{{"scan", decodePage}, {"tokens", decodeJSONPage}} {
		p, err := dec.f(body, Identity{})
		if err == nil || !strings.Contains(err.Error(), `item 3 of "value" has the key member "id" twice`) {
			t.Errorf("%s: error %v, want item 3's id twice", dec.name, err)
		}
		if len(p.entries) != 2 || p.entries[0].Kind != Removed || p.entries[0].ID != "a" || p.entries[1].Kind != Record || p.entries[1].ID != "b" {
			t.Errorf("%s: entries %+v, want a removed and b a record", dec.name, p.entries)
		}
	}
}

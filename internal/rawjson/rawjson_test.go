package rawjson

import (
	"fmt"
	"testing"
)

func TestMembers(t *testing.T) {
	t.Parallel()
	obj := []byte(`{ "id" : "a\"b\\", "n":1.5e3, "o":{"x":[1,{"y":"}"}]}, "e\u0301":true, "q\"":null, "last":"\\\\" }`)
	var got []string
	Members(obj, func(n, v []byte) bool { got = append(got, fmt.Sprintf("%s=%s", n, v)); return true })
	want := `[id="a\"b\\" n=1.5e3 o={"x":[1,{"y":"}"}]} ` + "e\u0301" + `=true q"=null last="\\\\"]`
	if fmt.Sprint(got) != want {
		t.Errorf("Members:\n got %v\nwant %s", got, want)
	}
	var raw []string
	MembersRaw(obj, func(n, v []byte) bool { raw = append(raw, string(n)); return true })
	if fmt.Sprint(raw) != `["id" "n" "o" "e\u0301" "q\"" "last"]` {
		t.Errorf("MembersRaw names %v", raw)
	}
	if s, ok := String(Lookup(obj, "id")); !ok || s != `a"b\` {
		t.Errorf("String(id) = %q", s)
	}
	if s, _ := StringView([]byte(`"plain"`)); s != "plain" {
		t.Errorf("StringView = %q", s)
	}
	if Lookup(obj, "missing") != nil || IsObject([]byte(`[1]`)) || !IsObject(Lookup(obj, "o")) {
		t.Error("Lookup/IsObject")
	}
}

package deltaclient

import "testing"

func TestLiteral(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw, edm, want string
	}{
		{`5`, "", `5`},
		{`"O'Brien"`, "", `'O''Brien'`},
		{`"5"`, "Edm.String", `'5'`},
		{`"1263b8de-7a2b-4442-a62a-7e3ea8cd6b49"`, "", `1263b8de-7a2b-4442-a62a-7e3ea8cd6b49`},
		{`"1263b8de-7a2b-4442-a62a-7e3ea8cd6b49"`, "Edm.String", `'1263b8de-7a2b-4442-a62a-7e3ea8cd6b49'`},
		{`"2026-11-25"`, "Edm.Date", `2026-11-25`},
		{``, "", `null`},
	} {
		if got := Literal([]byte(tc.raw), tc.edm); got != tc.want {
			t.Errorf("Literal(%s, %q) = %s, want %s", tc.raw, tc.edm, got, tc.want)
		}
	}
}

package model

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestDiffAlignedAgreesWithMemberWalk checks the in-step walk against the
// walk by name on records that differ in values, number lengths, nested
// objects, escapes, spacing, order and missing or extra members.
func TestDiffAlignedAgreesWithMemberWalk(t *testing.T) {
	values := []string{`1`, `12`, `123`, `"x"`, `"x\"y"`, `"a,b"`, `true`, `null`, `{"c":1,"d":"e"}`, `{"c":2,"d":"e"}`, `[1,2]`, `[1,3]`, `""`}
	names := []string{`"a"`, `"b"`, `"@odata.etag"`, `"n\"q"`, `"c"`}
	rng := rand.New(rand.NewPCG(3, 4))
	record := func(ns []string, vs []int, space bool) string {
		parts := make([]string, len(ns))
		for k, n := range ns {
			sep := ":"
			if space && k%2 == 0 {
				sep = " : "
			}
			parts[k] = n + sep + values[vs[k]]
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	aligned := 0
	for n := 0; n < 20000; n++ {
		k := 1 + rng.IntN(len(names))
		ns := append([]string(nil), names[:k]...)
		ov, nv := make([]int, k), make([]int, k)
		for x := range ov {
			ov[x] = rng.IntN(len(values))
			nv[x] = ov[x]
			if rng.IntN(3) == 0 {
				nv[x] = rng.IntN(len(values))
			}
		}
		nns := ns
		switch rng.IntN(6) {
		case 0: // a member fewer: a partial entry
			nns, nv = ns[:k-1], nv[:k-1]
		case 1: // swapped order
			if k > 1 {
				nns = append([]string(nil), ns...)
				nns[0], nns[1] = nns[1], nns[0]
			}
		case 2: // an extra member
			nns, nv = append(append([]string(nil), ns...), `"z"`), append(nv, 0)
		}
		old := []byte(record(ns, ov, rng.IntN(4) == 0))
		entry := []byte(record(nns, nv, rng.IntN(4) == 0))
		if _, ok := diffAligned(old, entry, nil); ok {
			aligned++
		}
		gotRec, gotF := mergeDiff(old, entry, nil)
		wantRec, wantF := old, []FieldChange(nil)
		if string(old) != string(entry) {
			wantRec, wantF = mergeDiffMembers(old, entry, nil)
		}
		if string(gotRec) != string(wantRec) || !reflect.DeepEqual(fmt.Sprint(gotF), fmt.Sprint(wantF)) {
			t.Fatalf("%s -> %s:\n got %s %v\nwant %s %v", old, entry, gotRec, gotF, wantRec, wantF)
		}
	}
	if aligned < 5000 {
		t.Fatalf("only %d of 20000 pairs took the in-step walk", aligned)
	}
}

package deltaclient

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// sameDecoding checks the scanner against the token decoder on in: when
// the scanner does not give up, page and error must be the same.
func sameDecoding(t *testing.T, in []byte, idn Identity) (scanned bool) {
	t.Helper()
	sp, serr, ok := scanPage(in, idn)
	if !ok {
		return false
	}
	tp, terr := decodeJSONPage(in, idn)
	if fmt.Sprint(serr) != fmt.Sprint(terr) {
		t.Fatalf("input %q:\nscanner error %v\ndecoder error %v", in, serr, terr)
	}
	if serr != nil {
		return true
	}
	if sp.nextLink != tp.nextLink || sp.deltaLink != tp.deltaLink || sp.count != tp.count || sp.links != tp.links || len(sp.entries) != len(tp.entries) {
		t.Fatalf("input %q:\nscanner %+v\ndecoder %+v", in, sp, tp)
	}
	for i := range sp.entries {
		a, b := sp.entries[i], tp.entries[i]
		if a.Kind != b.Kind || a.ID != b.ID || a.Reason != b.Reason || string(a.Raw) != string(b.Raw) || cap(a.Raw) != cap(b.Raw) {
			t.Fatalf("input %q: entry %d:\nscanner %+v\ndecoder %+v", in, i, a, b)
		}
	}
	return true
}

var scanSeeds = append([]string{
	`{"value":[{"id":"1","a":[[[[[[[[[[]]]]]]]]]]}]}`,
	`{"@odata.count":3,"value":[{"id":"a\u00e9","n":-1.5e+3,"t":true,"f":false,"z":null,"o":{"id":"x"}}],"@odata.nextLink":"n?x=1"}`,
	`{"value":[{"@odata.etag":"W/\"1\"","id":"7","mail":"a@b.c"},{"id":"x,y"},{"id":"a","id":"b"},{"ID":5},{"id":{"a":1}}],"@odata.deltaLink":"d"}`,
	`{"value":[{"@removed":{"reason":"changed"},"id":"g"},{"id":"\"q\""}],"@deltaLink":"d"}`,
	` {"@odata.context":"c","value":[ { "id" : "1" } , {"id":"2"} ] , "@odata.deltaLink":"d" } `,
	`{"value":[],"@odata.count":"7","@odata.deltaLink":"d"}`,
	`{"value":[{"id":"a","\u0040removed":{}},{"id":"b","\u0069d":"c"},{"id":"d","o":{"@x":1,"id":2}},{"id":"e","@odata.etag":"x","@odata.etags":1}],"@odata.deltaLink":"d"}`,
	`{"value":[{"id":"a","x":"id"},{"id":"b","o":{"id":"c"}},{"id":"d","s":"q\"id"},{"id":"e","accountid":1,"accountid":2}],"@odata.deltaLink":"d"}`,
}, seedPages...)

// The scanner agrees with the token decoder on real pages and on
// thousands of mutations of them: bytes replaced, cut and inserted.
func TestScanMatchesTokens(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte(`{}[]":,\ u0aA@.-+eE19tfn` + "\x00\x1f\x7f\xff\t\n")
	scanned := 0
	for _, seed := range scanSeeds {
		for _, idn := range []Identity{{}, {KeyFields: []string{"id"}}} {
			if !sameDecoding(t, []byte(seed), idn) && strings.Contains(seed, "value") && !strings.Contains(seed, "$link") {
				t.Logf("the scanner gave up on seed %.60s", seed)
			}
		}
		for n := 0; n < 3000; n++ {
			b := mutate(rng, []byte(seed), alphabet)
			if sameDecoding(t, b, Identity{}) {
				scanned++
			}
		}
	}
	if scanned < 1000 {
		t.Errorf("the scanner decoded only %d mutated pages itself; the test checks little", scanned)
	}
}

func FuzzScanMatchesTokens(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sameDecoding(t, in, Identity{})
	})
}

// BenchmarkDecodePage decodes a page of 2,000 Business Central customers
// (id second) and one of 999 Graph users (id last) with the scanner and
// with the token decoder, in one run: compare their records/s.
func BenchmarkDecodePage(b *testing.B) {
	bc := func(b []byte, i int) []byte {
		return fmt.Appendf(b, `{"@odata.etag":"W/\"JzE5OzE2NTU0MzYxNjY3OTk2NzU3NjE3MTswMDsn%06d\"","id":"6cb4e290-a784-4105-b340-%012d","number":"%d","displayName":"Customer %d Corporation","type":"Company","addressLine1":"%d Main Street","addressLine2":"","city":"Atlanta","state":"GA","country":"US","postalCode":"31772","phoneNumber":"+1 404 555 %04d","email":"info@customer%d.example.com","website":"www.customer%d.example.com","salespersonCode":"PS","balanceDue":%d.%02d,"creditLimit":%d,"taxLiable":true,"currencyCode":"USD","blocked":" ","lastModifiedDateTime":"2026-11-02T08:00:00Z"}`,
			i, i, 10000+i*10, i, i%9000, i%10000, i, i, i%50000, i%100, 5000*(1+i%20))
	}
	graph := func(b []byte, i int) []byte {
		return fmt.Appendf(b, `{"businessPhones":["+1 425 555 %04d"],"displayName":"User %d","givenName":"Given%d","jobTitle":"Engineer","mail":"user%d@contoso.example.com","mobilePhone":null,"officeLocation":"%d/%d","preferredLanguage":"en-US","surname":"Surname%d","userPrincipalName":"user%d@contoso.example.com","id":"0b1f3c2a-0000-4e5f-8a9b-%012x"}`,
			i%10000, i, i, i, 10+i%90, 1000+i%3000, i, i, i)
	}
	for _, shape := range []struct {
		name string
		n    int
		rec  func([]byte, int) []byte
	}{{"bc", 2000, bc}, {"graph", 999, graph}} {
		body := []byte(`{"@odata.context":"c","value":[`)
		for i := 0; i < shape.n; i++ {
			if i > 0 {
				body = append(body, ',')
			}
			body = shape.rec(body, i)
		}
		body = append(body, `],"@odata.nextLink":"n?$skiptoken=1"}`...)
		for _, dec := range []struct {
			name string
			f    func([]byte, Identity) (page, error)
		}{{"scan", decodePage}, {"tokens", decodeJSONPage}} {
			b.Run(shape.name+"/"+dec.name, func(b *testing.B) {
				b.SetBytes(int64(len(body)))
				cpu0 := cpuTime()
				for i := 0; i < b.N; i++ {
					p, err := dec.f(body, Identity{})
					if err != nil || len(p.entries) != shape.n {
						b.Fatal(err, len(p.entries))
					}
				}
				b.ReportMetric(float64(shape.n*b.N)/b.Elapsed().Seconds(), "records/s")
				// CPU time is steadier than wall time on a shared machine.
				b.ReportMetric(float64(shape.n*b.N)/(cpuTime()-cpu0).Seconds(), "records/cpu-s")
			})
		}
	}
}

// mutate changes one to three bytes of b at random: one replaced by a byte
// of alphabet, the tail cut, or one inserted.
func mutate(rng *rand.Rand, b, alphabet []byte) []byte {
	for k := 1 + rng.IntN(3); k > 0 && len(b) > 0; k-- {
		i := rng.IntN(len(b))
		switch rng.IntN(3) {
		case 0:
			b[i] = alphabet[rng.IntN(len(alphabet))]
		case 1:
			b = b[:i]
		default:
			b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
		}
	}
	return b
}

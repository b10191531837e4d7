package deltatest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/deltascope/deltascope/internal/rawjson"
)

// Realistic-looking Business Central data. Everything comes from the
// server's seeded generator, so a seed always gives the same records.

var (
	namePrefixes = []string{"Adatum", "Trey", "Alpine", "Coho", "Fabrikam", "Contoso", "Northwind", "Tailspin", "Wingtip", "Litware", "Proseware", "Relecloud", "Woodgrove", "Lamna", "Margie's", "Munson's", "VanArsdel", "Wide World", "Blue Yonder", "Humongous", "Fourth Coffee", "Bellows", "Southridge", "Lucerne", "Datum", "Graphic Design", "School of Fine Art", "Consolidated", "Nod", "First Up"}
	nameSuffixes = []string{"Corporation", "Research", "Ski House", "Winery", "Inc.", "Ltd.", "Traders", "Toys", "Importers", "Airlines", "Bank", "Insurance", "Travel", "Video", "Messenger", "Pie Co.", "Institute", "Publishing", "Consulting", "Outfitters"}
	cities       = []struct{ city, state, zip, phone string }{
		{"Atlanta", "GA", "31772", "+1 404 555 0100"}, {"Chicago", "IL", "61236", "+1 312 555 0101"},
		{"Miami", "FL", "37125", "+1 305 555 0102"}, {"Seattle", "WA", "98101", "+1 206 555 0103"},
		{"Denver", "CO", "80202", "+1 303 555 0104"}, {"Boston", "MA", "02108", "+1 617 555 0105"},
		{"Austin", "TX", "73301", "+1 512 555 0106"}, {"Portland", "OR", "97201", "+1 503 555 0107"},
		{"Phoenix", "AZ", "85001", "+1 602 555 0108"}, {"Columbus", "OH", "43004", "+1 614 555 0109"},
		{"Nashville", "TN", "37201", "+1 615 555 0110"}, {"Madison", "WI", "53703", "+1 608 555 0111"},
	}
	streets     = []string{"Main Street", "Oak Avenue", "Pine Road", "Maple Drive", "Cedar Lane", "Elm Street", "Lake View", "Hill Road", "Park Avenue", "River Road"}
	salespeople = []string{"PS", "JO", "OF", "MH", "BD"}
	itemWords   = []string{"ATHENS Desk", "PARIS Guest Chair", "ROME Guest Chair", "TOKYO Guest Chair", "MEXICO Swivel Chair", "MUNICH Swivel Chair", "MOSCOW Swivel Chair", "SEOUL Guest Chair", "AMSTERDAM Lamp", "LONDON Mobile Pedestal", "BERLIN Whiteboard", "OSLO Storage Unit", "SYDNEY Swivel Chair", "ANTWERP Conference Table", "Bicycle", "Front Wheel", "Rear Wheel", "Handlebars", "Saddle", "Pedal"}
	categories  = []string{"CHAIR", "DESK", "TABLE", "MISC", "PARTS", "SUPPLIERS"}
	units       = []string{"PCS", "BOX", "SET"}
	currencies  = []string{"USD", "", "", "EUR", "CAD"}
)

// rngReader feeds uuid generation from the seeded generator.
type rngReader struct{ r *rand.Rand }

func (g rngReader) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := g.r.Uint64()
		for j := i; j < len(p) && j < i+8; j++ {
			p[j] = byte(v)
			v >>= 8
		}
	}
	return len(p), nil
}

func (s *Server) newID() string {
	id, _ := uuid.NewRandomFromReader(rngReader{s.rng})
	return id.String()
}

// timeAt is the modification time of a version: deterministic, one change
// every 47 seconds from a fixed start, so data is the same for a seed.
func (s *Server) timeAt(v uint64) time.Time {
	return s.opts.Epoch.Add(time.Duration(v) * 47 * time.Second)
}

func (s *Server) companyName() string { return companyName(s.rng) }

func companyName(rng *rand.Rand) string {
	return namePrefixes[rng.IntN(len(namePrefixes))] + " " + nameSuffixes[rng.IntN(len(nameSuffixes))]
}

// gen is what a record generator draws from: the seeded stream and the
// record's sequence number in its set. A record of the initial data is
// generated again from a copy of the stream as it stood, so the demo need
// not keep its JSON.
type gen struct {
	rng *rand.Rand
	n   int
}

// members appends a record's properties as JSON members, in order: the
// generators write straight into one buffer, so a million records cost a
// million buffers, not twenty million small values.
type members struct{ b []byte }

func (m *members) key(name string) {
	if len(m.b) > 0 {
		m.b = append(m.b, ',')
	}
	m.b = append(m.b, '"')
	m.b = append(m.b, name...)
	m.b = append(m.b, '"', ':')
}

func (m *members) str(name, v string) {
	m.key(name)
	q, err := jsontext.AppendQuote(m.b, v)
	if err != nil {
		q, _ = jsontext.AppendQuote(m.b, strings.ToValidUTF8(v, "\uFFFD"))
	}
	m.b = q
}

func (m *members) int(name string, v int) {
	m.key(name)
	m.b = strconv.AppendInt(m.b, int64(v), 10)
}

func (m *members) bool(name string, v bool) {
	m.key(name)
	m.b = strconv.AppendBool(m.b, v)
}

// money writes a random amount below max with cents, as BC sends it.
func (m *members) money(name string, r *rand.Rand, max int) {
	m.key(name)
	m.b = append(m.b, money(r, max)...)
}

func (m *members) companyName(name string, rng *rand.Rand) string {
	n := companyName(rng)
	m.str(name, n)
	return n
}

// fieldsOf parses generated members back into fields, for changes.
func fieldsOf(m *members) []field {
	var fs []field
	obj := append(append([]byte{'{'}, m.b...), '}')
	rawjson.Members(obj, func(name, value []byte) bool {
		fs = append(fs, field{string(name), value})
		return true
	})
	return fs
}

// f is one changed field for the mutators.
func f(name string, v any) field {
	b, err := jsonValue(v)
	if err != nil {
		panic(err)
	}
	return field{name, b}
}

func money(r *rand.Rand, max int) jsonNumber {
	return jsonNumber(strconv.FormatFloat(float64(r.IntN(max*100))/100, 'f', -1, 64))
}

type jsonNumber string

func (n jsonNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

func genCustomer(g *gen, id string, m *members) {
	n := g.n
	c := cities[g.rng.IntN(len(cities))]
	m.str("id", id)
	m.key("number")
	m.b = append(strconv.AppendInt(append(m.b, '"'), int64(10000+n*10), 10), '"')
	name := m.companyName("displayName", g.rng)
	m.str("type", "Company")
	m.key("addressLine1")
	m.b = append(m.b, '"')
	m.b = strconv.AppendInt(m.b, int64(1+g.rng.IntN(9000)), 10)
	m.b = append(append(append(m.b, ' '), streets[g.rng.IntN(len(streets))]...), '"')
	m.str("addressLine2", "")
	m.str("city", c.city)
	m.str("state", c.state)
	m.str("country", "US")
	m.str("postalCode", c.zip)
	m.str("phoneNumber", c.phone)
	slug := slugOf(name)
	m.str("email", "info@"+slug+".example.com")
	m.str("website", "www."+slug+".example.com")
	m.str("salespersonCode", salespeople[g.rng.IntN(len(salespeople))])
	m.money("balanceDue", g.rng, 50000)
	m.int("creditLimit", 5000*(1+g.rng.IntN(20)))
	m.bool("taxLiable", g.rng.IntN(3) > 0)
	m.str("currencyCode", currencies[g.rng.IntN(len(currencies))])
	m.str("blocked", " ")
}

func mutateCustomer(s *Server, r *record) []field {
	switch s.rng.IntN(6) {
	case 0:
		return []field{f("displayName", s.companyName())}
	case 1:
		c := cities[s.rng.IntN(len(cities))]
		return []field{f("city", c.city), f("state", c.state), f("postalCode", c.zip)}
	case 2:
		return []field{f("creditLimit", 5000*(1+s.rng.IntN(20)))}
	case 3:
		return []field{f("blocked", []string{" ", "Ship", "Invoice", "All"}[s.rng.IntN(4)])}
	case 4:
		return []field{f("phoneNumber", fmt.Sprintf("+1 %03d 555 %04d", 200+s.rng.IntN(700), s.rng.IntN(10000)))}
	default:
		return []field{f("balanceDue", money(s.rng, 50000))}
	}
}

func genVendor(g *gen, id string, m *members) {
	n := g.n
	c := cities[g.rng.IntN(len(cities))]
	m.str("id", id)
	m.str("number", fmt.Sprintf("V%05d", n*10))
	name := m.companyName("displayName", g.rng)
	m.str("addressLine1", strconv.Itoa(1+g.rng.IntN(9000))+" "+streets[g.rng.IntN(len(streets))])
	m.str("city", c.city)
	m.str("state", c.state)
	m.str("country", "US")
	m.str("postalCode", c.zip)
	m.str("phoneNumber", c.phone)
	m.str("email", "orders@"+slugOf(name)+".example.com")
	m.str("currencyCode", currencies[g.rng.IntN(len(currencies))])
	m.str("irs1099Code", "")
	m.money("balance", g.rng, 80000)
	m.str("blocked", " ")
}

func mutateVendor(s *Server, r *record) []field {
	switch s.rng.IntN(3) {
	case 0:
		return []field{f("balance", money(s.rng, 80000))}
	case 1:
		return []field{f("email", "ap@"+slugOf(s.companyName())+".example.com")}
	default:
		return []field{f("blocked", []string{" ", "Payment", "All"}[s.rng.IntN(3)])}
	}
}

func genItem(g *gen, id string, m *members) {
	n := g.n
	m.str("id", id)
	m.str("number", strconv.Itoa(1000+n)+"-S")
	m.str("displayName", itemWords[g.rng.IntN(len(itemWords))])
	m.str("type", "Inventory")
	m.str("itemCategoryCode", categories[g.rng.IntN(len(categories))])
	m.bool("blocked", false)
	m.str("gtin", "")
	m.int("inventory", g.rng.IntN(500))
	m.money("unitPrice", g.rng, 2000)
	m.bool("priceIncludesTax", false)
	m.money("unitCost", g.rng, 1500)
	m.str("taxGroupCode", "FURNITURE")
	m.str("baseUnitOfMeasureCode", units[g.rng.IntN(len(units))])
}

func mutateItem(s *Server, r *record) []field {
	switch s.rng.IntN(3) {
	case 0:
		return []field{f("inventory", s.rng.IntN(500))}
	case 1:
		return []field{f("unitPrice", money(s.rng, 2000)), f("unitCost", money(s.rng, 1500))}
	default:
		return []field{f("blocked", s.rng.IntN(4) == 0)}
	}
}

func slugOf(name string) string {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			out = append(out, c)
		case c >= 'A' && c <= 'Z':
			out = append(out, c+'a'-'A')
		}
	}
	return string(out)
}

// balanceSheetRows are the lines of BC's balanceSheet report API: no id,
// so no delta support.
func balanceSheetRows() [][]byte {
	lines := []struct {
		n       int
		display string
		balance string
		kind    string
		indent  int
	}{
		{10000, "Assets", "0", "header", 0}, {20000, "Cash", "18755.37", "detail", 1},
		{30000, "Accounts Receivable", "248360.85", "detail", 1}, {40000, "Inventory", "104230.00", "detail", 1},
		{50000, "Total Assets", "371346.22", "total", 0}, {60000, "Liabilities", "0", "header", 0},
		{70000, "Accounts Payable", "96450.10", "detail", 1}, {80000, "Total Liabilities", "96450.10", "total", 0},
	}
	rows := make([][]byte, len(lines))
	for i, l := range lines {
		rows[i] = fmt.Appendf(nil, `{"lineNumber":%d,"display":%q,"balance":%s,"lineType":%q,"indentation":%d,"dateFilter":"2026-11-25"}`, l.n, l.display, l.balance, l.kind, l.indent)
	}
	return rows
}

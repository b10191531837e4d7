package deltaclient

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var seedPages = []string{
	// Business Central, with the seed document's deleted entity.
	`{"@odata.context":"https://api.businesscentral.dynamics.com/v2.0/api/v2.0/$metadata#companies(2d11)/customers","value":[{"@odata.etag":"W/\"JzI4Oyc=\"","id":"6cb4e290-a784-4105-b340-32bb3527bb87","number":"50000","displayName":"Super Cloud","balance":8836.8},{"@odata.context":"https://api.businesscentral.dynamics.com/v2.0/api/v2.0/$metadata#companies(2d11)/customers/$deletedEntity","id":"e6b1c1f2-0694-46c0-96ec-6283627b1251","reason":"changed"}],"@odata.deltaLink":"https://api.businesscentral.dynamics.com/v2.0/api/v2.0/companies(2d11)/customers?deltaToken=ZmYw=="}`,
	// Microsoft Graph users/delta.
	`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(displayName)","@odata.nextLink":"https://graph.microsoft.com/v1.0/users/delta?$skiptoken=pqwSUjG","value":[{"displayName":"Adele Vance","id":"87d349ed-44d7-43e1-9a83-5f2406dee5bd"},{"id":"86462606-fde0-4fc4-9e0c-a20eb73e54c6","@removed":{"reason":"deleted"}}]}`,
	// OData 4.01 without prefixes, key-only removal and links.
	`{"@context":"http://host/service/$metadata#Customers/$delta","@count":3,"value":[{"@id":"Customers('BOTTM')","ContactName":"Susan"},{"@removed":{"reason":"deleted"},"@id":"Customers('ANTON')"},{"@removed":{},"ID":"ALFKI"},{"@context":"#Customers/$link","source":"Customers('BOTTM')","relationship":"Orders","target":"Orders(10645)"}],"@deltaLink":"Customers?$deltatoken=8015"}`,
	// Dataverse.
	`{"@odata.context":"https://org.crm.dynamics.com/api/data/v9.2/$metadata#accounts(name)/$delta","value":[{"@odata.etag":"W/\"915011\"","name":"Monte Orton","accountid":"60c4e274-0d87-e711-80e5-00155db19e6d"},{"@odata.context":"https://org.crm.dynamics.com/api/data/v9.2/$metadata#accounts/$deletedEntity","id":"2e451703-c686-e711-80e5-00155db19e6d","reason":"deleted"}],"@odata.deltaLink":"https://org.crm.dynamics.com/api/data/v9.2/accounts?$select=name&$deltatoken=919042%2108%2f22%2f2017%2008%3a10%3a44"}`,
}

func TestDecodeRealShapes(t *testing.T) {
	t.Parallel()
	want := []string{
		"record 6cb4e290-a784-4105-b340-32bb3527bb87|removed e6b1c1f2-0694-46c0-96ec-6283627b1251 changed",
		"record 87d349ed-44d7-43e1-9a83-5f2406dee5bd|removed 86462606-fde0-4fc4-9e0c-a20eb73e54c6 deleted",
		"record BOTTM|removed ANTON deleted|removed ALFKI ",
		"record 60c4e274-0d87-e711-80e5-00155db19e6d|removed 2e451703-c686-e711-80e5-00155db19e6d deleted",
	}
	for i, src := range seedPages {
		p, err := decodePage([]byte(src), Identity{})
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		var got []string
		for _, e := range p.entries {
			if e.Kind == Record {
				got = append(got, "record "+e.ID)
			} else {
				got = append(got, "removed "+e.ID+" "+e.Reason)
			}
		}
		if g := strings.Join(got, "|"); g != want[i] {
			t.Errorf("page %d:\n got %s\nwant %s", i, g, want[i])
		}
		if p.deltaLink == "" && p.nextLink == "" {
			t.Errorf("page %d: no link", i)
		}
	}
}

// FuzzDecodePage feeds arbitrary bytes to the page decoder: it must never
// panic, and whatever it returns must be self-consistent.
func FuzzDecodePage(f *testing.F) {
	for _, s := range seedPages {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"value":[{"id":"1","a":[[[[[[[[[[]]]]]]]]]]}]}`))
	f.Add([]byte(`<html>sign in</html>`))
	f.Add([]byte(`{"value":[{"k":1,"id":"a"},{"k":"1","id":"a"},{"k":null,"id":"a"}]}`))
	f.Add([]byte(`{"value":[{"id":"a","x":1,"id":"b"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		// Both identity rules: SPEC's default and a composite key.
		for _, idn := range []Identity{{}, {KeyFields: []string{"k", "id"}}} {
			fuzzDecode(t, in, idn)
		}
	})
}

func fuzzDecode(t *testing.T, in []byte, idn Identity) {
	p, err := decodePage(in, idn)
	if err != nil {
		var me *MalformedError
		var ie *IdentityError
		if !errors.Is(err, ErrNotJSON) && !errors.As(err, &me) && !errors.As(err, &ie) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		return
	}
	for _, e := range p.entries {
		if e.Kind == Record && len(e.Raw) == 0 {
			t.Fatal("record without bytes")
		}
		if e.Kind == Record && !bytes.Contains(in, e.Raw) {
			t.Fatal("record bytes not from the input")
		}
		if e.Kind == linkRow {
			t.Fatal("a $link row was delivered")
		}
		if e.ID == "" {
			t.Fatalf("entry without an identity accepted: %+v", e)
		}
	}
}

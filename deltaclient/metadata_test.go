package deltaclient_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/deltascope/deltascope/deltaclient"
)

// capCSDLJSON is $metadata as SAP CAP answers Accept: application/json: an
// entity with a composite key whose first ...ID property is a foreign key.
const capCSDLJSON = `{"$Version":"4.0","$EntityContainer":"OrderService.EntityContainer",
"OrderService":{"$Alias":"os",
 "$Annotations":{},
 "EntityContainer":{"$Kind":"EntityContainer",
  "OrderLines":{"$Collection":true,"$Type":"OrderService.OrderLines"},
  "Customers":{"$Collection":true,"$Type":"os.Customers"},
  "Config":{"$Type":"OrderService.Config"}},
 "Base":{"$Kind":"EntityType","$Key":["ID"],"ID":{"$Type":"Edm.Int32"}},
 "Customers":{"$Kind":"EntityType","$BaseType":"os.Base","name":{}},
 "OrderLines":{"$Kind":"EntityType","$Key":["orderYear","orderNo","lineNo"],
  "customerID":{"$Type":"Edm.Int32"},"orderYear":{"$Type":"Edm.Int32"},"orderNo":{"$Type":"Edm.Int32"},"lineNo":{"$Type":"Edm.Int32"}},
 "Config":{"$Kind":"EntityType","$Key":[{"cfgKey":"Info/key"}]}}}`

const capCSDLXML = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="OrderService" xmlns="http://docs.oasis-open.org/odata/ns/edm">
<EntityContainer Name="EntityContainer"><EntitySet Name="OrderLines" EntityType="OrderService.OrderLines"/></EntityContainer>
<EntityType Name="OrderLines"><Key><PropertyRef Name="orderYear"/><PropertyRef Name="orderNo"/><PropertyRef Name="lineNo"/></Key>
<Property Name="customerID" Type="Edm.Int32"/></EntityType>
</Schema></edmx:DataServices></edmx:Edmx>`

func TestParseKeysReadsCSDLJSON(t *testing.T) {
	t.Parallel()
	keys, err := deltaclient.ParseKeys(strings.NewReader(capCSDLJSON))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys["OrderLines"]); got != "[orderYear orderNo lineNo]" {
		t.Errorf("OrderLines key %s, want [orderYear orderNo lineNo]", got)
	}
	if got := fmt.Sprint(keys["Customers"]); got != "[ID]" {
		t.Errorf("Customers key %s (inherited through an aliased $BaseType), want [ID]", got)
	}
	if _, ok := keys["Config"]; ok {
		t.Errorf("a singleton (no $Collection) became a set: %v", keys)
	}
}

// capServer answers $metadata the way CAP does: CSDL JSON when asked for
// JSON, CSDL XML otherwise. It records the Accept headers it saw.
type capServer struct {
	mu      sync.Mutex
	accepts [][]string
	srv     *httptest.Server
}

func newCAPServer(t *testing.T, body func(accept string) (string, string)) *capServer {
	s := &capServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.accepts = append(s.accepts, r.Header.Values("Accept"))
		s.mu.Unlock()
		ct, b := body(r.Header.Get("Accept"))
		w.Header().Set("Content-Type", ct)
		fmt.Fprint(w, b)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func capAnswer(accept string) (string, string) {
	if strings.Contains(accept, "json") {
		return "application/json", capCSDLJSON
	}
	return "application/xml", capCSDLXML
}

func TestMetadataAsksForXML(t *testing.T) {
	t.Parallel()
	s := newCAPServer(t, capAnswer)
	keys, err := (&deltaclient.Client{}).Metadata(context.Background(), s.srv.URL+"/odata/v4/orders/")
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.accepts) != "[[application/xml]]" {
		t.Errorf("$metadata asked with Accept %v, want [[application/xml]]", s.accepts)
	}
	if got := fmt.Sprint(keys["OrderLines"]); got != "[orderYear orderNo lineNo]" {
		t.Errorf("key %s", got)
	}
}

// A --header Accept is sent as the user wrote it, alone (not next to
// ours), also for $metadata; the JSON answer it brings is read.
func TestMetadataHonoursHeaderAccept(t *testing.T) {
	t.Parallel()
	s := newCAPServer(t, capAnswer)
	c := &deltaclient.Client{Header: http.Header{"Accept": {"application/json"}}}
	keys, err := c.Metadata(context.Background(), s.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(s.accepts) != "[[application/json]]" {
		t.Errorf("Accept sent %v, want only the --header value", s.accepts)
	}
	if got := fmt.Sprint(keys["OrderLines"]); got != "[orderYear orderNo lineNo]" {
		t.Errorf("key %s", got)
	}
}

func TestMetadataErrorNamesContentTypeAndAccept(t *testing.T) {
	t.Parallel()
	s := newCAPServer(t, func(string) (string, string) {
		return "text/html; charset=utf-8", "<!DOCTYPE html><html><body>Sign in</body></html>"
	})
	_, err := (&deltaclient.Client{}).Metadata(context.Background(), s.srv.URL)
	if err == nil || !strings.Contains(err.Error(), "Content-Type text/html; charset=utf-8") || !strings.Contains(err.Error(), "neither CSDL XML") {
		t.Errorf("error %v does not say which content type arrived", err)
	}
	c := &deltaclient.Client{Header: http.Header{"Accept": {"text/plain"}}}
	_, err = c.Metadata(context.Background(), s.srv.URL)
	if err == nil || !strings.Contains(err.Error(), "Accept: text/plain from --header") {
		t.Errorf("error %v does not name the --header Accept it was asked with", err)
	}
	js := newCAPServer(t, func(string) (string, string) { return "application/json", `{"value":[]}` })
	_, err = (&deltaclient.Client{}).Metadata(context.Background(), js.srv.URL)
	if err == nil || !strings.Contains(err.Error(), "Content-Type application/json") || !strings.Contains(err.Error(), "not CSDL JSON") {
		t.Errorf("error %v for a JSON body that is not CSDL", err)
	}
}

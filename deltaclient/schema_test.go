package deltaclient_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/deltascope/deltascope/deltaclient"
)

// What SAP CAP 9 answers for a managed entity, an etag entity and one with
// a composite key, with an out-of-line concurrency annotation added.
const capMetadata = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
  <edmx:DataServices>
    <Schema Namespace="InteropService" xmlns="http://docs.oasis-open.org/odata/ns/edm">
      <EntityContainer Name="EntityContainer">
        <EntitySet Name="Books" EntityType="InteropService.Books"/>
        <EntitySet Name="Authors" EntityType="InteropService.Authors">
          <Annotation Term="Core.OptimisticConcurrency"><Collection><PropertyPath>rev</PropertyPath></Collection></Annotation>
        </EntitySet>
        <EntitySet Name="Stock" EntityType="InteropService.Stock"/>
      </EntityContainer>
      <EntityType Name="Books">
        <Key><PropertyRef Name="ID"/></Key>
        <Property Name="createdAt" Type="Edm.DateTimeOffset" Precision="7"/>
        <Property Name="modifiedAt" Type="Edm.DateTimeOffset" Precision="7"/>
        <Property Name="ID" Type="Edm.Int32" Nullable="false"/>
        <Property Name="title" Type="Edm.String" MaxLength="111"/>
      </EntityType>
      <EntityType Name="Authors">
        <Key><PropertyRef Name="ID"/></Key>
        <Property Name="ID" Type="Edm.Guid" Nullable="false"/>
        <Property Name="rev" Type="Edm.DateTimeOffset" Precision="7"/>
      </EntityType>
      <EntityType Name="Base"><Property Name="LastModifiedOn" Type="Edm.DateTimeOffset"/></EntityType>
      <EntityType Name="Stock" BaseType="InteropService.Base">
        <Key><PropertyRef Name="book_ID"/><PropertyRef Name="warehouse"/></Key>
        <Property Name="book_ID" Type="Edm.Int32" Nullable="false"/>
        <Property Name="warehouse" Type="Edm.String" Nullable="false"/>
        <NavigationProperty Name="book" Type="InteropService.Books"/>
      </EntityType>
      <Annotations Target="InteropService.EntityContainer/Stock">
        <Annotation Term="Org.OData.Core.V1.OptimisticConcurrency"><Collection/></Annotation>
      </Annotations>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>`

func TestSchemasFromXML(t *testing.T) {
	got, err := deltaclient.ParseSchemas([]byte(capMetadata), "application/xml")
	if err != nil {
		t.Fatal(err)
	}
	want := deltaclient.Schemas{
		"Books": {Key: []string{"ID"}, Timestamp: "modifiedAt",
			Properties: map[string]string{"createdAt": "Edm.DateTimeOffset", "modifiedAt": "Edm.DateTimeOffset", "ID": "Edm.Int32", "title": "Edm.String"}},
		"Authors": {Key: []string{"ID"}, ETag: true, ETagFields: []string{"rev"},
			Properties: map[string]string{"ID": "Edm.Guid", "rev": "Edm.DateTimeOffset"}},
		"Stock": {Key: []string{"book_ID", "warehouse"}, Timestamp: "LastModifiedOn", ETag: true,
			Properties: map[string]string{"book_ID": "Edm.Int32", "warehouse": "Edm.String", "LastModifiedOn": "Edm.DateTimeOffset"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schemas (-want +got):\n%s", d)
	}
}

func TestSchemasFromJSON(t *testing.T) {
	doc := `{"$Version":"4.0","NS":{"Account":{"$Kind":"EntityType","$Key":["accountid"],
		"accountid":{"$Type":"Edm.Guid"},"name":{},"modifiedon":{"$Type":"Edm.DateTimeOffset"},
		"owner":{"$Kind":"NavigationProperty","$Type":"NS.User"}},
		"Container":{"$Kind":"EntityContainer","accounts":{"$Collection":true,"$Type":"NS.Account"}}}}`
	got, err := deltaclient.ParseSchemas([]byte(doc), "application/json")
	if err != nil {
		t.Fatal(err)
	}
	want := deltaclient.Schemas{"accounts": {Key: []string{"accountid"}, Timestamp: "modifiedon",
		Properties: map[string]string{"accountid": "Edm.Guid", "name": "Edm.String", "modifiedon": "Edm.DateTimeOffset"}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schemas (-want +got):\n%s", d)
	}
}

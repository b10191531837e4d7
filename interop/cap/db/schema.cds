// The data model of deltascope's CAP interop suite: one set for each kind
// of key and change signal deltascope meets in CAP services.
namespace interop;

using { managed, cuid } from '@sap/cds/common';

// An Integer key and `managed` timestamps: polled by modifiedAt + key scan.
entity Books : managed {
  key ID    : Integer;
      title : String(111);
      stock : Integer;
      price : Decimal(9, 2);
}

// A UUID key whose etag is a revision timestamp with no well-known name:
// polled by etag scan.
entity Authors : cuid {
  name : String(111);
  city : String(60);
  rev  : Timestamp @cds.on.insert: $now @cds.on.update: $now @odata.etag;
}

// A composite key whose first part is a foreign key (book_ID).
entity Stock : managed {
  key book      : Association to Books;
  key warehouse : String(10);
      quantity  : Integer;
}

using interop from '../db/schema';

// Served at /odata/v4/interop.
service InteropService {
  entity Books   as projection on interop.Books;
  entity Authors as projection on interop.Authors;
  entity Stock   as projection on interop.Stock;
}

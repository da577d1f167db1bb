"""Customers: the record every other plugin hangs its rows on.

Owns the ``Customer`` GraphQL type (a Relay node other plugins extend), and with it:

- C1 / C2 the customer record (kind, identity, reference from an organisation sequence,
  representative, e-mail, phone, archived flag, audit columns) and admin-defined typed
  custom fields;
- C3 finding customers (accent- and case-insensitive search on a folded column, filters,
  keyset-paginated sorts that give the same pages on SQLite and PostgreSQL);
- C4 conversion, merge (through the ``merge_customers`` hook), archive and deletion
  (guarded by ``customer_deletion_blockers``);
- C5 contacts per location with one database-enforced preferred contact;
- C6 branches (no cycles) and typed relations between customers;
- C7 the memo; C8 addresses with one database-enforced primary address and checked
  coordinates; C9 documents (GraphQL multipart upload, authenticated download route);
- the ``customer_branches`` / ``customer_locations`` answers other plugins rely on, the
  customer events of the unified timeline (G12) and the demo data.
"""

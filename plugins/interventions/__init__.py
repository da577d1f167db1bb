"""Interventions: the field-service half of the customer record.

Owns (SPEC):

- I1 interventions (``Intervention`` node): a gap-free number per organisation
  (:func:`fiche.sequences.next_number`), title, organisation-defined type (admins), the
  customer and one of ITS addresses, several technicians, an optional appointment,
  archived and "to invoice" flags, and a status derived in SQL from the appointment and
  the completion, in the organisation's time zone (``LATE``, ``TODAY``, ``UPCOMING``,
  ``DONE``, ``UNSCHEDULED``); create, update, reschedule, assign, archive, cancel;
- the intervention report: actual times, work done, equipment serviced, photos and the
  customer's signature (image uploads), and the signed report as a PDF
  (:mod:`fiche.documents`);
- I2 the planning: one filtered, keyset-paged connection at the root and on
  ``Customer.interventions`` (with branches); ``hasQuote`` only when a plugin answers
  ``intervention_quote_condition``;
- I3 equipment (``Equipment`` node) with a picture checked as an image and its thumbnail,
  and its service history;
- notifications (assigned, moved, cancelled; followers told when done), timeline entries,
  subject types, merge and deletion hooks, and its answers to ``intervention_customers``,
  ``billable_work`` / ``work_invoiced`` / ``work_released`` (B4) and ``route_stops``.

Roles are described in ``docs/interventions.md``. It never imports another plugin:
customers are reached through :mod:`fiche.directory` and ``node(id:)``.
"""

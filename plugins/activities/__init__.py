"""Activities: visits, calls and meetings with a customer or branch, their reports and
GPS check-ins.

Owns (SPEC):

- A1 activity types: seven built-in types every organisation has (seeded lazily and
  idempotently the first time an organisation reads or writes types, see
  :mod:`fiche.plugins.activities.services.builtins`) and custom types managed by admins;
- A2 activities (``Activity`` node): type, start / end with quick entry, sanitised rich
  text, attachments (file storage + authenticated download route), location, assignee,
  team, contact (defaulting to the location's preferred contact);
- A3 ``Customer.activities`` (filters, include branches), batched by a loader;
- A4 report forms with typed, validated fields, and reports on activities (organisation
  time limit);
- A5 GPS verification against the location's primary-address coordinates (switched on or
  off per organisation);
- A6 customer insights (``Customer.insights``, ``Activity.insights``) through the
  ``customer_insights`` hook, see :mod:`fiche.plugins.activities.insights`;
- A7 the report assistant (``reportAssistantFill``) through the ``report_assistant`` hook;
- A8 the calendar (root ``activities``) and the route of a day (``routePlan``, VROOM),
  with stops from every plugin through ``route_stops``;
- A9 follow-up tasks, created through the gateway's ``create_task`` hook;
- ``Activity`` as a subject type of notes (N8), and the followers' alert of a new activity;
- its part of the unified timeline (G12): ``ACTIVITY`` and ``REPORT`` entries;
- demo data, merge and deletion hooks.

It never imports another plugin: customers are reached through ``fiche.directory`` and
``node(id:)`` resolution, tasks through the ``create_task`` hook, notes and follows through
``customer_notes`` and ``customer_followers``, sales through ``customer_sales``. Who may do
what: docs/activities-rules.md; the visit features: docs/visit.md.
"""

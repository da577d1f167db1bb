"""Billing (SPEC B1 to B4).

The plugin owns the billing information of a customer (billing address, VAT number,
SIREN / SIRET, payment terms, billing e-mail, currency), its quotes, invoices and credit
notes (lines, exact totals, legal numbering, statuses, payments) and their PDFs (Factur-X
for invoices and credit notes), and invoices the work other plugins report as billable
(``billable_work`` / ``work_invoiced``, answered by the interventions plugin). With that
plugin, it adds ``Intervention.quotes`` and ``Intervention.invoice``.

Money is exact: :mod:`fiche.plugins.billing.money` holds the one rounding rule, amounts
are ``Decimal`` from the client's string to the database's NUMERIC (TEXT on SQLite) and
back. Rules of who may do what are in ``docs/billing.md``. It never imports another plugin.
"""

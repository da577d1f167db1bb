"""Billing in the rest of Fiche: timeline entries, notifications of a quote's author, and
the sales figures it gives customer insights."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fiche.context import operation_context
from tests.plugins.billing.fixtures import _pk, customer, invoice, issue, line, pay, quote
from tests.support import TestOrg, count_statements

TIMELINE = """
query ($id: ID!, $filter: TimelineFilter) { node(id: $id) { ... on Customer { timeline(filter: $filter, first: 20) { edges { node {
  kind summary
  ... on BillingDocumentTimelineEntry { document { id number } }
  ... on PaymentReceivedTimelineEntry { payment { amount invoice { id } } }
} } } } } }
"""
INBOX = "{ notifications(first: 10) { nodes { kind message subject { id } target { id } } } }"
ACCEPT = "mutation ($id: ID!) { quoteAccept(id: $id) { errors { code } } }"
REFUSE = "mutation ($id: ID!) { quoteRefuse(id: $id) { errors { code } } }"


async def _timeline(org: TestOrg, customer_id: str, as_: str = "admin", **filter: object) -> list[dict]:
    data = await org.ok(TIMELINE, {"id": customer_id, "filter": filter or None}, as_=as_)
    return [edge["node"] for edge in data["node"]["timeline"]["edges"] if edge["node"]["kind"] in ("QUOTE_SENT", "INVOICE_ISSUED", "CREDIT_NOTE_ISSUED", "PAYMENT_RECEIVED")]


async def test_hook_timeline_entries_quotes_sent_invoices_issued_and_payments_received(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    await quote(org, customer_id)  # a draft: not an event
    sent = await issue(org, (await quote(org, customer_id))["id"])
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    await pay(org, issued["id"], "20", dt.date.today().isoformat())
    # when
    entries = await _timeline(org, customer_id)
    # then newest first
    assert [entry["kind"] for entry in entries] == ["PAYMENT_RECEIVED", "INVOICE_ISSUED", "QUOTE_SENT"]
    assert entries[0]["payment"] == {"amount": "20.00", "invoice": {"id": issued["id"]}}
    assert entries[1]["document"] == {"id": issued["id"], "number": issued["number"]} and issued["number"] in entries[1]["summary"]
    assert entries[2]["document"]["id"] == sent["id"]
    assert [e["kind"] for e in await _timeline(org, customer_id, kinds=["QUOTE_SENT"])] == ["QUOTE_SENT"]
    assert await _timeline(org, customer_id, as_="technician") == []


async def test_hook_register_notification_kinds_the_author_hears_of_the_customers_decision(org: TestOrg) -> None:
    # given two quotes written by a member
    customer_id = await customer(org)
    first = await issue(org, (await quote(org, customer_id, as_="member"))["id"], as_="member")
    second = await issue(org, (await quote(org, customer_id, as_="member"))["id"], as_="member")
    # when a manager records the decisions
    await org.ok(ACCEPT, {"id": first["id"]}, as_="manager")
    await org.ok(REFUSE, {"id": second["id"]}, as_="manager")
    # then
    inbox = (await org.ok(INBOX, as_="member"))["notifications"]["nodes"]
    assert [(n["kind"], n["subject"]["id"], n["target"]["id"]) for n in inbox] == [
        ("QUOTE_REFUSED", second["id"], customer_id),
        ("QUOTE_ACCEPTED", first["id"], customer_id),
    ]
    assert first["number"] in inbox[1]["message"]
    assert (await org.ok(INBOX, as_="manager"))["notifications"]["nodes"] == []


async def test_hook_customer_sales_sums_exactly_in_a_constant_number_of_statements(org: TestOrg) -> None:
    # given two customers with issued invoices, payments, a credit note and an open quote
    first, second = await customer(org), await customer(org, "Autre")
    paid = await issue(org, (await invoice(org, first, [line(unit_price="0.1", quantity="3")]))["id"])
    await pay(org, paid["id"], "0.36", dt.date.today().isoformat())
    open_invoice = await issue(org, (await invoice(org, first))["id"])
    await pay(org, open_invoice["id"], "20", dt.date.today().isoformat())
    await issue(org, (await quote(org, first, [line(unit_price="10")]))["id"])
    credited = await issue(org, (await invoice(org, second))["id"])
    note = (await org.ok("mutation ($input: CreditNoteCreateInput!) { creditNoteCreate(input: $input) { document { id } } }", {"input": {"invoiceId": credited["id"], "lines": [line(unit_price="50")]}}))["creditNoteCreate"]["document"]["id"]
    await issue(org, note)
    pks = [_pk(first), _pk(second), _pk(await customer(org, "Sans facture"))]
    # when
    async with operation_context(org.state, org.viewer("manager")) as context:
        with count_statements(org.state.db) as counter:
            sales = await org.state.pm.hook.customer_sales(context=context, customer_ids=pks)
    async with operation_context(org.state, org.viewer("technician")) as context:
        hidden = await org.state.pm.hook.customer_sales(context=context, customer_ids=pks)
    # then
    assert counter.count <= 2
    assert sales[pks[0]].invoiced_last_12_months == Decimal("120.36") and sales[pks[0]].outstanding == Decimal("100.00")
    assert (sales[pks[0]].open_quotes, sales[pks[0]].open_quotes_total, sales[pks[0]].overdue) == (1, Decimal("12.00"), Decimal(0))
    assert sales[pks[1]].invoiced_last_12_months == Decimal("60.00") and sales[pks[1]].outstanding == Decimal("60.00")
    assert pks[2] not in sales and hidden == {}

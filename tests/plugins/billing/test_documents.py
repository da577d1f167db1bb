"""Quotes, invoices, credit notes and payments through the API: the whole life of a
document, what an issued invoice refuses, and hostile input."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.plugins.billing.fixtures import DOCUMENT_FIELDS, ISSUE, PAY, _ok, customer, invoice, issue, line, pay, quote
from tests.plugins.billing.fixtures import INVOICE_CREATE as CREATE
from tests.support import TestOrg

ERRORS = "errors { code message path }"
UPDATE = f"mutation ($input: BillingDocumentUpdateInput!) {{ billingDocumentUpdate(input: $input) {{ document {{ {DOCUMENT_FIELDS} }} {ERRORS} }} }}"
DELETE = f"mutation ($id: ID!) {{ billingDocumentDelete(id: $id) {{ deletedDocumentId {ERRORS} }} }}"
ACCEPT = f"mutation ($id: ID!) {{ quoteAccept(id: $id) {{ document {{ id status }} {ERRORS} }} }}"
REFUSE = f"mutation ($id: ID!) {{ quoteRefuse(id: $id) {{ document {{ id status }} {ERRORS} }} }}"
CANCEL = f"mutation ($id: ID!) {{ quoteCancel(id: $id) {{ document {{ id status }} {ERRORS} }} }}"
TO_INVOICE = f"mutation ($id: ID!) {{ quoteToInvoice(id: $id) {{ document {{ {DOCUMENT_FIELDS} source {{ id }} }} {ERRORS} }} }}"
CREDIT = f"mutation ($input: CreditNoteCreateInput!) {{ creditNoteCreate(input: $input) {{ document {{ {DOCUMENT_FIELDS} source {{ id }} }} {ERRORS} }} }}"
INVOICE_CREATE = f"mutation ($input: InvoiceCreateInput!) {{ invoiceCreate(input: $input) {{ document {{ id }} {ERRORS} }} }}"
NODE = f"query ($id: ID!) {{ node(id: $id) {{ ... on BillingDocument {{ {DOCUMENT_FIELDS} payments {{ amount method paidOn }} }} }} }}"


def today() -> str:
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=1))).date().isoformat()


async def _payload(org: TestOrg, document: str, field: str, variables: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    return dict((await org.ok(document, variables, as_=as_))[field])


async def test_a_quote_is_sent_accepted_invoiced_and_paid(org: TestOrg) -> None:
    # given a draft quote
    customer_id = await customer(org)
    draft = await quote(org, customer_id, [line(quantity="2", unit_price="149", vat_rate="10"), line(unit_price="35")], as_="member", title="Entretien")
    assert (draft["status"], draft["number"], draft["total"]) == ("DRAFT", None, "369.80")
    # when it is sent, accepted and turned into an invoice
    sent = await issue(org, draft["id"], as_="member")
    accepted = await _payload(org, ACCEPT, "quoteAccept", {"id": draft["id"]}, as_="member")
    made = await _payload(org, TO_INVOICE, "quoteToInvoice", {"id": draft["id"]})
    # then
    year = dt.date.today().year
    assert sent["status"] == "SENT" and sent["number"] == f"DEV-{year}-0001" and sent["validUntil"]
    assert accepted["document"]["status"] == "ACCEPTED"
    made_invoice = made["document"]
    assert made_invoice["kind"] == "INVOICE" and made_invoice["status"] == "DRAFT" and made_invoice["source"]["id"] == draft["id"]
    assert made_invoice["lines"] == sent["lines"] and made_invoice["total"] == "369.80"
    # when the invoice is issued and paid in two parts
    issued = await issue(org, made_invoice["id"])
    assert issued["number"] == f"FAC-{year}-0001" and issued["dueDate"] and issued["balanceDue"] == "369.80"
    partly = await pay(org, issued["id"], "100.00", today())
    assert (partly["status"], partly["isPartiallyPaid"], partly["balanceDue"]) == ("SENT", True, "269.80")
    paid = await pay(org, issued["id"], "269.80", today(), method="CHEQUE")
    assert (paid["status"], paid["isPartiallyPaid"], paid["balanceDue"], paid["paidTotal"]) == ("PAID", False, "0.00", "369.80")
    # and a quote is turned into one invoice only
    again = await _payload(org, TO_INVOICE, "quoteToInvoice", {"id": draft["id"]})
    assert [e["code"] for e in again["errors"]] == ["CONFLICT"]


async def test_an_issued_invoice_can_be_neither_edited_nor_deleted(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    # when
    edited = await _payload(org, UPDATE, "billingDocumentUpdate", {"input": {"id": issued["id"], "lines": [line(unit_price="1")]}})
    deleted = await _payload(org, DELETE, "billingDocumentDelete", {"id": issued["id"]})
    reissued = await _payload(org, ISSUE, "billingDocumentIssue", {"id": issued["id"]})
    cancelled = await _payload(org, CANCEL, "quoteCancel", {"id": issued["id"]})
    # then
    for payload in (edited, deleted, reissued, cancelled):
        assert [error["code"] for error in payload["errors"]] == ["CONFLICT"], payload
    assert "credit" in edited["errors"][0]["message"] and "credit" in deleted["errors"][0]["message"]
    after = (await org.ok(NODE, {"id": issued["id"]}))["node"]
    assert after["lines"] == issued["lines"] and after["total"] == issued["total"] and after["number"] == issued["number"]


async def test_drafts_are_edited_and_deleted(org: TestOrg) -> None:
    customer_id = await customer(org)
    draft = await invoice(org, customer_id)
    edited = await _payload(org, UPDATE, "billingDocumentUpdate", {"input": {"id": draft["id"], "title": "Travaux", "lines": [line(quantity="0.5", unit_price="58.50", vat_rate="10")]}})
    assert edited["errors"] == [] and edited["document"]["title"] == "Travaux" and edited["document"]["total"] == "32.18"
    deleted = await _payload(org, DELETE, "billingDocumentDelete", {"id": draft["id"]}, as_="member")
    assert deleted == {"deletedDocumentId": draft["id"], "errors": []}
    assert (await org.ok(NODE, {"id": draft["id"]}))["node"] is None


async def test_an_invoice_is_credited_in_full_and_then_settled(org: TestOrg) -> None:
    # given an issued invoice
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id, [line(unit_price="100"), line(unit_price="50", vat_rate="5.5")]))["id"])
    # when it is credited in full
    draft = await _payload(org, CREDIT, "creditNoteCreate", {"input": {"invoiceId": issued["id"]}})
    credit = await issue(org, draft["document"]["id"])
    # then
    assert credit["kind"] == "CREDIT_NOTE" and credit["number"] == f"AV-{dt.date.today().year}-0001"
    assert credit["total"] == issued["total"] == "172.75" and credit["balanceDue"] is None
    after = (await org.ok(NODE, {"id": issued["id"]}))["node"]
    assert (after["status"], after["creditedTotal"], after["balanceDue"]) == ("CANCELLED", "172.75", "0.00")


async def test_a_partial_credit_reduces_the_balance_and_never_exceeds_it(org: TestOrg) -> None:
    # given an issued invoice of 120.00, half paid
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    await pay(org, issued["id"], "60", today())
    # when 10.00 + VAT is credited
    draft = await _payload(org, CREDIT, "creditNoteCreate", {"input": {"invoiceId": issued["id"], "lines": [line(unit_price="10")]}})
    await issue(org, draft["document"]["id"])
    too_much = await _payload(org, CREDIT, "creditNoteCreate", {"input": {"invoiceId": issued["id"], "lines": [line(unit_price="100")]}})
    full_again = await _payload(org, CREDIT, "creditNoteCreate", {"input": {"invoiceId": issued["id"]}})
    # then
    after = (await org.ok(NODE, {"id": issued["id"]}))["node"]
    assert (after["status"], after["creditedTotal"], after["balanceDue"], after["isPartiallyPaid"]) == ("SENT", "12.00", "48.00", True)
    assert [e["code"] for e in too_much["errors"]] == ["INVALID"] and too_much["errors"][0]["path"] == ["input", "lines"]
    assert [e["code"] for e in full_again["errors"]] == ["CONFLICT"]
    # and the rest paid settles it
    assert (await pay(org, issued["id"], "48.00", today()))["status"] == "PAID"


async def test_payments_never_exceed_the_balance_and_need_an_issued_invoice(org: TestOrg) -> None:
    customer_id = await customer(org)
    draft = await invoice(org, customer_id)
    on_draft = await _payload(org, PAY, "paymentRecord", {"input": {"invoiceId": draft["id"], "amount": "1", "paidOn": today(), "method": "CASH"}})
    issued = await issue(org, draft["id"])
    cases = {
        "120.01": ["input", "amount"],
        "0": ["input", "amount"],
        "-5": ["input", "amount"],
        "1.001": ["input", "amount"],
    }
    for amount, path in cases.items():
        payload = await _payload(org, PAY, "paymentRecord", {"input": {"invoiceId": issued["id"], "amount": amount, "paidOn": today(), "method": "CASH"}})
        assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", path)], amount
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    payload = await _payload(org, PAY, "paymentRecord", {"input": {"invoiceId": issued["id"], "amount": "1", "paidOn": future, "method": "CASH"}})
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "paidOn"])]
    assert [e["code"] for e in on_draft["errors"]] == ["CONFLICT"]


async def test_a_quote_is_refused_or_cancelled(org: TestOrg) -> None:
    customer_id = await customer(org)
    first = await issue(org, (await quote(org, customer_id))["id"])
    refused = await _payload(org, REFUSE, "quoteRefuse", {"id": first["id"]})
    assert refused["document"]["status"] == "REFUSED"
    assert [e["code"] for e in (await _payload(org, ACCEPT, "quoteAccept", {"id": first["id"]}))["errors"]] == ["CONFLICT"]
    second = await quote(org, customer_id)
    assert (await _payload(org, CANCEL, "quoteCancel", {"id": second["id"]}))["document"]["status"] == "CANCELLED"
    assert [e["code"] for e in (await _payload(org, TO_INVOICE, "quoteToInvoice", {"id": second["id"]}))["errors"]] == ["CONFLICT"]


async def test_numbers_run_per_kind_and_drafts_have_none(org: TestOrg, other_org: TestOrg) -> None:
    customer_id = await customer(org)
    numbers = [(await issue(org, (await invoice(org, customer_id))["id"]))["number"] for _ in range(3)]
    quote_number = (await issue(org, (await quote(org, customer_id))["id"]))["number"]
    other = (await issue(other_org, (await invoice(other_org, await customer(other_org)))["id"]))["number"]
    year = dt.date.today().year
    assert numbers == [f"FAC-{year}-0001", f"FAC-{year}-0002", f"FAC-{year}-0003"]
    assert quote_number == f"DEV-{year}-0001"
    assert other == f"FAC-{year}-0001"  # each organisation has its own series


HOSTILE_LINES = [
    ({"quantity": "-1"}, "quantity"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "10000000000"}, "quantity"),
    ({"quantity": "0.00001"}, "quantity"),
    ({"unitPrice": "1" + "0" * 29}, "unitPrice"),
    ({"unitPrice": "0.00001"}, "unitPrice"),
    ({"vatRate": "-20"}, "vatRate"),
    ({"vatRate": "120"}, "vatRate"),
    ({"vatRate": "5.555"}, "vatRate"),
    ({"discount": "100.5"}, "discount"),
    ({"description": "   "}, "description"),
    ({"description": "x" * 2001}, "description"),
    ({"unit": "u" * 21}, "unit"),
]


@pytest.mark.parametrize(("change", "field"), HOSTILE_LINES)
async def test_hostile_lines_are_field_errors(org: TestOrg, change: dict[str, str], field: str) -> None:
    customer_id = await customer(org)
    payload = await _payload(org, INVOICE_CREATE, "invoiceCreate", {"input": {"customerId": customer_id, "lines": [line(), {**line(), **change}]}})
    assert payload["document"] is None
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "lines", "1", field])]


async def test_too_many_lines_and_negative_totals_are_refused(org: TestOrg) -> None:
    customer_id = await customer(org)
    many = await _payload(org, INVOICE_CREATE, "invoiceCreate", {"input": {"customerId": customer_id, "lines": [line()] * 201}})
    negative = await _payload(org, INVOICE_CREATE, "invoiceCreate", {"input": {"customerId": customer_id, "lines": [line(unit_price="-5")]}})
    assert [e["code"] for e in many["errors"]] == ["LIMIT_EXCEEDED"]
    assert [(e["code"], e["path"]) for e in negative["errors"]] == [("INVALID", ["input", "lines"])]
    # a deduction line is fine while the total stays positive
    ok = await invoice(org, customer_id, [line(unit_price="100"), line(description="Remise fidélité", unit_price="-10")])
    assert ok["total"] == "108.00"


async def test_an_empty_draft_cannot_be_issued(org: TestOrg) -> None:
    customer_id = await customer(org)
    draft = await invoice(org, customer_id, [])
    payload = await _payload(org, ISSUE, "billingDocumentIssue", {"id": draft["id"]})
    assert [e["code"] for e in payload["errors"]] == ["INVALID"]


async def test_a_sent_quote_past_its_validity_is_expired(org: TestOrg) -> None:
    customer_id = await customer(org)
    past = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    sent = await issue(org, (await quote(org, customer_id, validUntil=past))["id"])
    fresh = await issue(org, (await quote(org, customer_id))["id"])
    query = "query ($id: ID!) { node(id: $id) { ... on BillingDocument { isExpired validUntil } } }"
    assert (await org.ok(query, {"id": sent["id"]}))["node"] == {"isExpired": True, "validUntil": past}
    assert (await org.ok(query, {"id": fresh["id"]}))["node"]["isExpired"] is False


async def test_invoices_are_issued_only_once_the_seller_is_identified(org: TestOrg) -> None:
    # given an organisation without SIREN nor VAT number (a quote needs neither)
    customer_id = await customer(org)
    draft = (await _ok(org, CREATE, "invoiceCreate", {"input": {"customerId": customer_id, "lines": [line()]}}))["document"]
    quoted = (await _ok(org, "mutation ($id: ID!) { billingDocumentIssue(id: $id) { document { status } errors { code } } }", "billingDocumentIssue", {"id": (await quote(org, customer_id))["id"]}))
    # when
    refused = await _payload(org, ISSUE, "billingDocumentIssue", {"id": draft["id"]})
    # then
    assert quoted["document"]["status"] == "SENT"
    assert [(e["code"], e["path"]) for e in refused["errors"]] == [("CONFLICT", ["id"])] and "SIREN" in refused["errors"][0]["message"]
    assert (await issue(org, (await invoice(org, customer_id))["id"]))["number"] == f"FAC-{dt.date.today().year}-0001"

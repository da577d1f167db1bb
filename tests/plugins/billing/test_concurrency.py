"""Invariants under concurrent writers, on SQLite and PostgreSQL: gap-free numbers, one
number per document, payments and credits never beyond the balance."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from tests.plugins.billing.fixtures import ISSUE, PAY, customer, invoice, issue, line
from tests.support import TestOrg

CREDIT = "mutation ($input: CreditNoteCreateInput!) { creditNoteCreate(input: $input) { document { id } errors { code } } }"
NUMBERS = "query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments(first: 100, filter: {kinds: [INVOICE]}) { nodes { number status } } } } }"


async def test_fifty_concurrent_issues_get_exactly_the_numbers_1_to_50(org: TestOrg) -> None:
    # given 50 drafts
    customer_id = await customer(org)
    drafts = [(await invoice(org, customer_id))["id"] for _ in range(50)]
    # when 50 users issue them at once
    results = await asyncio.gather(*(org.gql(ISSUE, {"id": draft}) for draft in drafts))
    # then
    assert all(not result.errors and result.data["billingDocumentIssue"]["errors"] == [] for result in results)
    numbers = sorted(result.data["billingDocumentIssue"]["document"]["number"] for result in results)
    year = dt.date.today().year
    assert numbers == [f"FAC-{year}-{n:04d}" for n in range(1, 51)]


async def test_the_same_draft_issued_twice_at_once_gets_one_number(org: TestOrg) -> None:
    customer_id = await customer(org)
    draft = (await invoice(org, customer_id))["id"]
    results = await asyncio.gather(*(org.gql(ISSUE, {"id": draft}) for _ in range(6)))
    payloads = [result.data["billingDocumentIssue"] for result in results]
    assert sum(1 for payload in payloads if payload["errors"] == []) == 1
    assert sorted(e["code"] for payload in payloads for e in payload["errors"]) == ["CONFLICT"] * 5
    listed = (await org.ok(NUMBERS, {"id": customer_id}))["node"]["billingDocuments"]["nodes"]
    assert [row["number"] for row in listed] == [f"FAC-{dt.date.today().year}-0001"]


async def test_concurrent_payments_never_pay_more_than_the_balance(org: TestOrg) -> None:
    # given an invoice of 120.00
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    day = dt.date.today().isoformat()
    # when ten payments of 50.00 are recorded at once
    results = await asyncio.gather(
        *(org.gql(PAY, {"input": {"invoiceId": issued["id"], "amount": "50", "paidOn": day, "method": "CASH"}}) for _ in range(10))
    )
    # then only two fit
    accepted = [result for result in results if result.data["paymentRecord"]["errors"] == []]
    assert len(accepted) == 2
    final = max((result.data["paymentRecord"]["invoice"] for result in accepted), key=lambda invoice: Decimal(invoice["paidTotal"]))
    assert (final["paidTotal"], final["balanceDue"]) == ("100.00", "20.00")


async def test_concurrent_credit_notes_never_credit_more_than_the_invoice(org: TestOrg) -> None:
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id, [line(unit_price="100")]))["id"])
    drafts = []
    for _ in range(4):
        payload = (await org.ok(CREDIT, {"input": {"invoiceId": issued["id"], "lines": [line(unit_price="40")]}}))["creditNoteCreate"]
        drafts.append(payload["document"]["id"])
    results = await asyncio.gather(*(org.gql(ISSUE, {"id": draft}) for draft in drafts))
    issued_notes = [result for result in results if result.data["billingDocumentIssue"]["errors"] == []]
    assert len(issued_notes) == 2  # 2 x 48.00 <= 120.00 < 3 x 48.00
    numbers = sorted(result.data["billingDocumentIssue"]["document"]["number"] for result in issued_notes)
    assert numbers == [f"AV-{dt.date.today().year}-0001", f"AV-{dt.date.today().year}-0002"]

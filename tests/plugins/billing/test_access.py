"""Who may do what (docs/billing.md) and tenant isolation of every billing global ID."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.plugins.billing.fixtures import customer, invoice, issue, line, pay, quote
from tests.support import TestOrg

ERRORS = "errors { code message path }"
NODE = "query ($id: ID!) { node(id: $id) { id } }"
CUSTOMER_DOCUMENTS = "query ($id: ID!) { node(id: $id) { ... on Customer { billingDocuments { nodes { id } } } } }"
MUTATIONS = {
    "issue": ("mutation ($id: ID!) { billingDocumentIssue(id: $id) { document { id } %s } }" % ERRORS, "billingDocumentIssue"),
    "update": ("mutation ($id: ID!) { billingDocumentUpdate(input: {id: $id, title: \"x\"}) { document { id } %s } }" % ERRORS, "billingDocumentUpdate"),
    "delete": ("mutation ($id: ID!) { billingDocumentDelete(id: $id) { deletedDocumentId %s } }" % ERRORS, "billingDocumentDelete"),
    "accept": ("mutation ($id: ID!) { quoteAccept(id: $id) { document { id } %s } }" % ERRORS, "quoteAccept"),
    "refuse": ("mutation ($id: ID!) { quoteRefuse(id: $id) { document { id } %s } }" % ERRORS, "quoteRefuse"),
    "cancel": ("mutation ($id: ID!) { quoteCancel(id: $id) { document { id } %s } }" % ERRORS, "quoteCancel"),
    "to_invoice": ("mutation ($id: ID!) { quoteToInvoice(id: $id) { document { id } %s } }" % ERRORS, "quoteToInvoice"),
    "credit": ("mutation ($id: ID!) { creditNoteCreate(input: {invoiceId: $id}) { document { id } %s } }" % ERRORS, "creditNoteCreate"),
    "pay": (
        "mutation ($id: ID!) { paymentRecord(input: {invoiceId: $id, amount: \"1\", paidOn: \"%s\", method: CASH}) { payment { id } %s } }"
        % (dt.date.today().isoformat(), ERRORS),
        "paymentRecord",
    ),
}


async def _mutate(org: TestOrg, name: str, global_id: str, as_: str = "admin") -> dict[str, Any]:
    document, field = MUTATIONS[name]
    return dict((await org.ok(document, {"id": global_id}, as_=as_))[field])


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_another_organisations_document_is_like_a_missing_one(org: TestOrg, other_org: TestOrg, name: str) -> None:
    # given a sent quote and an issued invoice of another organisation
    theirs = await customer(other_org)
    their_quote = (await issue(other_org, (await quote(other_org, theirs))["id"]))["id"]
    their_invoice = (await issue(other_org, (await invoice(other_org, theirs))["id"]))["id"]
    target = their_quote if name in ("accept", "refuse", "cancel", "to_invoice") else their_invoice
    # when
    payload = await _mutate(org, name, target)
    # then
    assert [error["code"] for error in payload["errors"]] == ["NOT_FOUND"]
    assert (await org.ok(NODE, {"id": target}))["node"] is None
    assert (await other_org.ok(NODE, {"id": target}))["node"] == {"id": target}


async def test_a_document_cannot_be_made_for_another_organisations_customer(org: TestOrg, other_org: TestOrg) -> None:
    theirs = await customer(other_org)
    query = "mutation ($input: QuoteCreateInput!) { quoteCreate(input: $input) { document { id } %s } }" % ERRORS
    payload = (await org.ok(query, {"input": {"customerId": theirs, "lines": [line()]}}))["quoteCreate"]
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "customerId"])]


async def test_technicians_see_no_billing(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    # when
    node = await org.ok(NODE, {"id": issued["id"]}, as_="technician")
    listed = await org.gql(CUSTOMER_DOCUMENTS, {"id": customer_id}, as_="technician")
    created = await org.ok(
        "mutation ($input: InvoiceCreateInput!) { invoiceCreate(input: $input) { document { id } %s } }" % ERRORS,
        {"input": {"customerId": customer_id, "lines": [line()]}},
        as_="technician",
    )
    # then
    assert node["node"] is None
    assert listed.error_codes == ["FORBIDDEN"] and listed.data["node"]["billingDocuments"] is None
    assert [e["code"] for e in created["invoiceCreate"]["errors"]] == ["FORBIDDEN"]


async def test_members_draft_and_send_quotes_but_managers_issue_invoices_and_record_payments(org: TestOrg) -> None:
    customer_id = await customer(org)
    # members draft and send quotes
    sent = await issue(org, (await quote(org, customer_id, as_="member"))["id"], as_="member")
    assert sent["status"] == "SENT"
    # members draft invoices but do not issue them
    draft = await invoice(org, customer_id, as_="member")
    refused = await _mutate(org, "issue", draft["id"], as_="member")
    assert [e["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    issued = await issue(org, draft["id"], as_="manager")
    # members do not record payments, managers do
    assert [e["code"] for e in (await _mutate(org, "pay", issued["id"], as_="member"))["errors"]] == ["FORBIDDEN"]
    assert (await pay(org, issued["id"], "1", dt.date.today().isoformat(), as_="manager"))["paidTotal"] == "1.00"


async def test_anonymous_requests_are_refused(org: TestOrg) -> None:
    customer_id = await customer(org)
    result = await org.gql(CUSTOMER_DOCUMENTS, {"id": customer_id}, as_=None)
    assert result.error_codes == ["UNAUTHENTICATED"]


async def test_payment_and_order_ids_of_another_organisation_are_like_missing_ones(org: TestOrg, other_org: TestOrg) -> None:
    # given a payment and an order of another organisation
    theirs = await customer(other_org)
    issued = await issue(other_org, (await invoice(other_org, theirs))["id"])
    paid = await other_org.ok(
        "mutation ($id: ID!) { paymentRecord(input: {invoiceId: $id, amount: \"1\", paidOn: \"%s\", method: CASH}) { payment { id } } }"
        % dt.date.today().isoformat(),
        {"id": issued["id"]},
    )
    payment_id = paid["paymentRecord"]["payment"]["id"]
    order = await other_org.ok(
        "mutation ($input: OrderCreateInput!) { orderCreate(input: $input) { order { id } } }", {"input": {"customerId": theirs, "lines": [line()]}}
    )
    order_id = order["orderCreate"]["order"]["id"]
    # then
    for global_id in (payment_id, order_id, theirs):
        assert (await org.ok(NODE, {"id": global_id}))["node"] is None
        assert (await other_org.ok(NODE, {"id": global_id}))["node"] == {"id": global_id}
    assert (await other_org.ok(NODE, {"id": payment_id}, as_="technician"))["node"] is None

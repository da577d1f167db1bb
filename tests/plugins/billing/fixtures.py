"""Helpers of the billing tests: customers through the customers plugin's API, documents,
issues and payments through this plugin's."""

from __future__ import annotations

from typing import Any

from tests.support import TestOrg

__all__ = [
    "DOCUMENT_FIELDS",
    "ISSUE",
    "customer",
    "invoice",
    "issue",
    "line",
    "pay",
    "quote",
    "seller",
]

CUSTOMER_CREATE = """
mutation ($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { code message path } }
}
"""
DOCUMENT_FIELDS = """
  id kind status number title currency date issueDate dueDate validUntil
  netTotal taxTotal total paidTotal creditedTotal balanceDue isPartiallyPaid isOverdue
  lines { description quantity unit unitPrice vatRate discount netAmount }
  vatBreakdown { rate base amount }
"""
ERRORS = "errors { code message path }"
QUOTE_CREATE = f"mutation ($input: QuoteCreateInput!) {{ quoteCreate(input: $input) {{ document {{ {DOCUMENT_FIELDS} }} {ERRORS} }} }}"
INVOICE_CREATE = f"mutation ($input: InvoiceCreateInput!) {{ invoiceCreate(input: $input) {{ document {{ {DOCUMENT_FIELDS} }} {ERRORS} }} }}"
ISSUE = f"mutation ($id: ID!) {{ billingDocumentIssue(id: $id) {{ document {{ {DOCUMENT_FIELDS} }} {ERRORS} }} }}"
PAY = f"mutation ($input: PaymentRecordInput!) {{ paymentRecord(input: $input) {{ payment {{ id amount }} invoice {{ {DOCUMENT_FIELDS} }} {ERRORS} }} }}"


def line(description: str = "Main d'œuvre", quantity: str = "1", unit_price: str = "100", vat_rate: str = "20", **extra: Any) -> dict[str, Any]:
    return {"description": description, "quantity": quantity, "unitPrice": unit_price, "vatRate": vat_rate, **extra}


async def _ok(org: TestOrg, document: str, field: str, variables: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    payload = (await org.ok(document, variables, as_=as_))[field]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload)


async def customer(org: TestOrg, name: str = "Boulangerie Dupré") -> str:
    payload = await _ok(org, CUSTOMER_CREATE, "customerCreate", {"input": {"kind": "PROFESSIONAL", "companyName": name}})
    return str(payload["customer"]["id"])


async def quote(org: TestOrg, customer_id: str, lines: list[dict[str, Any]] | None = None, as_: str = "admin", **extra: Any) -> dict[str, Any]:
    values = {"customerId": customer_id, "lines": lines if lines is not None else [line()], **extra}
    return dict((await _ok(org, QUOTE_CREATE, "quoteCreate", {"input": values}, as_))["document"])


SETTING = "mutation ($key: String!, $value: JSON!) { organizationSettingSet(key: $key, value: $value) { errors { code message } } }"
SELLER = {
    "billing.seller.legal_name": "Chauffage Martin SARL",
    "billing.seller.vat_number": "FR40303265045",
    "billing.seller.siren": "303265045",
    "billing.seller.address_line1": "3 rue des Artisans",
    "billing.seller.postal_code": "69003",
    "billing.seller.city": "Lyon",
    "billing.seller.iban": "FR1420041010050500013M02606",
}
_SELLERS: set[tuple[int, int]] = set()


async def seller(org: TestOrg) -> None:
    """The organisation's identity as a seller, needed to issue invoices (once per organisation)."""
    key = (id(org.state), org.organization_id)
    if key in _SELLERS:
        return
    for name, value in SELLER.items():
        assert (await org.ok(SETTING, {"key": name, "value": value}))["organizationSettingSet"]["errors"] == []
    _SELLERS.add(key)


async def invoice(org: TestOrg, customer_id: str, lines: list[dict[str, Any]] | None = None, as_: str = "admin", **extra: Any) -> dict[str, Any]:
    await seller(org)
    values = {"customerId": customer_id, "lines": lines if lines is not None else [line()], **extra}
    return dict((await _ok(org, INVOICE_CREATE, "invoiceCreate", {"input": values}, as_))["document"])


async def issue(org: TestOrg, document_id: str, as_: str = "admin") -> dict[str, Any]:
    await seller(org)
    return dict((await _ok(org, ISSUE, "billingDocumentIssue", {"id": document_id}, as_))["document"])


async def pay(org: TestOrg, invoice_id: str, amount: str, paid_on: str, as_: str = "admin", method: str = "BANK_TRANSFER") -> dict[str, Any]:
    values = {"invoiceId": invoice_id, "amount": amount, "paidOn": paid_on, "method": method}
    return dict((await _ok(org, PAY, "paymentRecord", {"input": values}, as_))["invoice"])


def _pk(global_id: str) -> int:
    from fiche.relay import decode_id

    return decode_id(global_id)[1]

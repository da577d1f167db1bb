"""What billing adds to customers: ``billingDocuments`` (filtered, paginated, constant SQL),
``billingInformation`` (B1), and its answers to the customers plugin's lifecycle hooks."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from fiche.plugins.billing import models

from tests.plugins.billing.fixtures import customer, invoice, issue, line, pay, quote
from tests.support import TestOrg, count_statements

ERRORS = "errors { code message path }"
PAGE = """
query ($first: Int!) {
  customers(first: $first) { nodes { id
    billingInformation { vatNumber paymentTerms }
    billingDocuments(first: 5) { nodes {
      number status total balanceDue isOverdue isPartiallyPaid
      lines { description netAmount } vatBreakdown { rate amount } payments { amount method invoice { id } }
      createdBy { name } customer { id } source { id }
    } pageInfo { hasNextPage } }
  } }
}
"""
DOCUMENTS = """
query ($id: ID!, $filter: BillingDocumentFilter, $first: Int, $after: String) {
  node(id: $id) { ... on Customer { billingDocuments(filter: $filter, first: $first, after: $after) {
    nodes { id kind status number } pageInfo { hasNextPage endCursor } } } }
}
"""
INFO_SET = f"""
mutation ($input: BillingInformationInput!) {{ billingInformationSet(input: $input) {{
  billingInformation {{ addressLine1 postalCode city country vatNumber siren siret paymentTerms paymentDays email currency }} {ERRORS} }} }}
"""
DELETE_CUSTOMER = "mutation ($id: ID!) { customerDelete(id: $id) { deletedId errors { code message } } }"
MERGE = "mutation ($keep: ID!, $dup: ID!) { customerMerge(keepId: $keep, duplicateId: $dup) { errors { code message } } }"


async def _customers_with_documents(org: TestOrg, count: int) -> None:
    for index in range(count):
        customer_id = await customer(org, f"Client {index:02d}")
        await org.ok(INFO_SET, {"input": {"customerId": customer_id, "vatNumber": "FR40303265045"}})
        issued = await issue(org, (await invoice(org, customer_id, [line(), line(vat_rate="5.5")]))["id"])
        await pay(org, issued["id"], "10", dt.date.today().isoformat())
        await quote(org, customer_id)


async def test_a_page_of_customers_with_their_billing_costs_a_constant_number_of_statements(org: TestOrg) -> None:
    # given
    await _customers_with_documents(org, 6)
    # when
    with count_statements(org.state.db) as few:
        small = await org.ok(PAGE, {"first": 2})
    with count_statements(org.state.db) as many:
        large = await org.ok(PAGE, {"first": 6})
    # then
    assert len(small["customers"]["nodes"]) == 2 and len(large["customers"]["nodes"]) == 6
    assert all(len(node["billingDocuments"]["nodes"]) == 2 for node in large["customers"]["nodes"])
    assert few.count == many.count, (few.statements, many.statements)


async def test_billing_documents_are_filtered_and_paginated(org: TestOrg) -> None:
    # given two quotes (one sent) and three invoices (one issued) for one customer, one invoice elsewhere
    customer_id = await customer(org)
    sent_quote = await issue(org, (await quote(org, customer_id))["id"])
    await quote(org, customer_id)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    await invoice(org, customer_id)
    await invoice(org, customer_id)
    await invoice(org, await customer(org, "Autre"))
    # when
    async def ids(filter: dict[str, Any] | None = None, first: int = 50, after: str | None = None) -> Any:
        data = await org.ok(DOCUMENTS, {"id": customer_id, "filter": filter, "first": first, "after": after})
        return data["node"]["billingDocuments"]
    # then
    assert len((await ids())["nodes"]) == 5
    assert {n["id"] for n in (await ids({"kinds": ["QUOTE"]}))["nodes"]} >= {sent_quote["id"]}
    assert [n["id"] for n in (await ids({"kinds": ["INVOICE"], "statuses": ["SENT"]}))["nodes"]] == [issued["id"]]
    today = dt.date.today()
    assert len((await ids({"from": (today - dt.timedelta(days=3)).isoformat(), "to": (today + dt.timedelta(days=3)).isoformat()}))["nodes"]) == 5
    assert (await ids({"from": (today + dt.timedelta(days=3)).isoformat()}))["nodes"] == []
    first_page = await ids(first=3)
    rest = await ids(first=3, after=first_page["pageInfo"]["endCursor"])
    assert first_page["pageInfo"]["hasNextPage"] and not rest["pageInfo"]["hasNextPage"]
    assert len({n["id"] for n in first_page["nodes"] + rest["nodes"]}) == 5


async def test_billing_information_is_checked_field_by_field(org: TestOrg) -> None:
    customer_id = await customer(org)
    bad = {
        "customerId": customer_id,
        "country": "FR",
        "vatNumber": "FR00000000000",
        "siren": "123456789",
        "siret": "1234",
        "paymentTerms": "DAYS_END_OF_MONTH",
        "paymentDays": 60,
        "email": "not an email",
        "currency": "EURO",
        "postalCode": "9" * 21,
    }
    payload = (await org.ok(INFO_SET, {"input": bad}))["billingInformationSet"]
    assert payload["billingInformation"] is None
    assert sorted(tuple(e["path"]) for e in payload["errors"]) == sorted(
        ("input", field) for field in ("vatNumber", "siren", "siret", "paymentDays", "email", "currency", "postalCode")
    )
    assert {e["code"] for e in payload["errors"]} == {"INVALID"}


async def test_billing_information_is_saved_and_drives_currency_and_due_dates(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    good = {
        "customerId": customer_id, "addressLine1": " 12 rue de la Paix ", "postalCode": "75002", "city": "Paris",
        "vatNumber": "fr 40 303 265 045", "siret": "30326504500003", "paymentTerms": "DAYS_END_OF_MONTH", "paymentDays": 45,
        "email": "compta@example.fr", "currency": "jpy",
    }  # fmt: skip
    # when
    payload = (await org.ok(INFO_SET, {"input": good}))["billingInformationSet"]
    issued = await issue(org, (await invoice(org, customer_id, [line(unit_price="100.5", vat_rate="10")]))["id"])
    # then
    assert payload["errors"] == []
    assert payload["billingInformation"] == {
        "addressLine1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR", "vatNumber": "FR40303265045",
        "siren": "303265045", "siret": "30326504500003", "paymentTerms": "DAYS_END_OF_MONTH", "paymentDays": 45,
        "email": "compta@example.fr", "currency": "JPY",
    }  # fmt: skip
    assert issued["currency"] == "JPY" and issued["total"] == "111"  # yen have no minor unit
    later = dt.date.fromisoformat(issued["issueDate"]) + dt.timedelta(days=45)
    due = dt.date.fromisoformat(issued["dueDate"])
    assert (due.year, due.month) == (later.year, later.month) and (due + dt.timedelta(days=1)).day == 1


@pytest.mark.parametrize(("vat", "country"), [("DE136695976", "FR"), ("FR40303265045", "DE")])
async def test_a_vat_number_must_be_of_the_customers_country(org: TestOrg, vat: str, country: str) -> None:
    customer_id = await customer(org)
    payload = (await org.ok(INFO_SET, {"input": {"customerId": customer_id, "vatNumber": vat, "country": country}}))["billingInformationSet"]
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "vatNumber"])]


async def test_hook_customer_deletion_blockers_refuse_a_customer_with_issued_documents(org: TestOrg) -> None:
    # given
    customer_id = await customer(org)
    issued = await issue(org, (await invoice(org, customer_id))["id"])
    # when
    payload = (await org.ok(DELETE_CUSTOMER, {"id": customer_id}))["customerDelete"]
    # then
    assert payload["deletedId"] is None and [e["code"] for e in payload["errors"]] == ["CONFLICT"]
    assert "billing" in payload["errors"][0]["message"]
    assert (await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": issued["id"]}))["node"] is not None


async def test_hook_customer_deleted_removes_drafts_and_billing_information(org: TestOrg) -> None:
    customer_id = await customer(org)
    await org.ok(INFO_SET, {"input": {"customerId": customer_id, "city": "Lyon"}})
    draft = await quote(org, customer_id)
    payload = (await org.ok(DELETE_CUSTOMER, {"id": customer_id}))["customerDelete"]
    assert payload["errors"] == []
    assert (await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": draft["id"]}))["node"] is None


async def test_hook_merge_customers_moves_documents_and_keeps_one_billing_information(org: TestOrg) -> None:
    # given
    keep, duplicate = await customer(org, "Gardé"), await customer(org, "Doublon")
    await org.ok(INFO_SET, {"input": {"customerId": duplicate, "city": "Lyon"}})
    issued = await issue(org, (await invoice(org, duplicate))["id"])
    # when
    payload = (await org.ok(MERGE, {"keep": keep, "dup": duplicate}))["customerMerge"]
    # then
    assert payload["errors"] == []
    data = await org.ok(DOCUMENTS, {"id": keep})
    assert [n["id"] for n in data["node"]["billingDocuments"]["nodes"]] == [issued["id"]]
    info = await org.ok("query ($id: ID!) { node(id: $id) { ... on Customer { billingInformation { city } } } }", {"id": keep})
    assert info["node"]["billingInformation"] == {"city": "Lyon"}


ADDRESS_CREATE = "mutation ($input: AddressCreateInput!) { addressCreate(input: $input) { address { id } errors { code } } }"
INFO_READ = "query ($id: ID!) { node(id: $id) { ... on Customer { billingInformation { addressId addressLine1 postalCode city country vatNumber } } } }"


async def _address(org: TestOrg, customer_id: str, line1: str, country: str = "FR") -> str:
    values = {"customerId": customer_id, "label": "Siège", "line1": line1, "postalCode": "10115", "city": "Berlin" if country == "DE" else "Lyon", "country": country}
    payload = (await org.ok(ADDRESS_CREATE, {"input": values}))["addressCreate"]
    assert payload["errors"] == []
    return str(payload["address"]["id"])


async def test_hook_customer_addresses_bills_one_of_the_customers_own_addresses(org: TestOrg, other_org: TestOrg) -> None:
    # given a customer with an address in Germany, another customer's address and another organisation's
    customer_id, other = await customer(org), await customer(org, "Autre")
    berlin = await _address(org, customer_id, "Unter den Linden 1", "DE")
    elsewhere = await _address(org, other, "2 rue Mercière")
    foreign = await _address(other_org, await customer(other_org), "3 quai Saint-Antoine")
    # when
    async def set_info(**values: object) -> dict:
        return dict((await org.ok(INFO_SET, {"input": {"customerId": customer_id, **values}}))["billingInformationSet"])
    linked = await set_info(addressId=berlin, vatNumber="DE136695976")
    # then the address is the customer's, and its country decides the VAT number's
    assert linked["errors"] == []
    read = (await org.ok(INFO_READ, {"id": customer_id}))["node"]["billingInformation"]
    assert read == {"addressId": berlin, "addressLine1": "Unter den Linden 1", "postalCode": "10115", "city": "Berlin", "country": "DE", "vatNumber": "DE136695976"}
    assert [(e["code"], e["path"]) for e in (await set_info(addressId=elsewhere))["errors"]] == [("INVALID", ["input", "addressId"])]
    assert [(e["code"], e["path"]) for e in (await set_info(addressId=foreign))["errors"]] == [("NOT_FOUND", ["input", "addressId"])]
    both = await set_info(addressId=berlin, addressLine1="Ailleurs")
    assert [(e["code"], e["path"]) for e in both["errors"]] == [("INVALID", ["input", "addressId"])]


async def test_concurrent_billing_information_leaves_one_record(org: TestOrg) -> None:
    customer_id = await customer(org)
    results = await asyncio.gather(
        *(org.gql(INFO_SET, {"input": {"customerId": customer_id, "city": f"Ville {n}"}}) for n in range(6))
    )
    assert all(not result.errors and result.data["billingInformationSet"]["errors"] == [] for result in results)
    async with org.state.db.reader(org.organization_id) as session:
        count = await session.scalar(select(func.count(models.BillingProfile.id)))
    assert count == 1

"""Uniqueness rules of customers under concurrency (C2, C5, C8): references (unique whatever
their case), the one preferred contact and the one primary address. Many writers at once
through the GraphQL schema, each its own operation and session: exactly one winner where a
value must be unique, typed CONFLICTs for the others, never a server error."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from fiche.context import operation_context
from fiche.plugins.customers import models
from fiche.plugins.customers.services import customers as customer_services
from tests.plugins.customers.fixtures import CUSTOMER_CREATE, add_address, add_contact, company
from tests.support import GraphQLResult, TestOrg

WRITERS = 12

SET_REFERENCE = """
mutation SetReference($id: ID!, $reference: String!) {
  customerUpdate(input: {id: $id, reference: $reference}) { customer { reference } errors { code path } }
}
"""
CONTACT_CREATE = """
mutation ContactCreate($input: ContactCreateInput!) {
  contactCreate(input: $input) { contact { id preferred } errors { code path } }
}
"""
MAKE_PREFERRED = """
mutation MakePreferred($id: ID!) {
  contactUpdate(input: {id: $id, preferred: true}) { contact { preferred } errors { code path } }
}
"""
ADDRESS_CREATE = """
mutation AddressCreate($input: AddressCreateInput!) {
  addressCreate(input: $input) { address { id primary } errors { code path } }
}
"""
SET_PRIMARY = """
mutation SetPrimary($id: ID!) { addressSetPrimary(id: $id) { address { primary } errors { code path } } }
"""


def _payloads(results: list[GraphQLResult], field: str) -> list[dict[str, Any]]:
    """The payloads of ``field``; fails on any top-level (server) error."""
    assert all(result.errors == [] for result in results), [result.errors for result in results]
    return [result.data[field] for result in results]


def _split(payloads: list[dict[str, Any]]) -> tuple[int, list[tuple[str, list[str]]]]:
    """(number of successes, ``(code, path)`` of every error)."""
    winners = sum(1 for payload in payloads if payload["errors"] == [])
    return winners, [(error["code"], error["path"]) for payload in payloads for error in payload["errors"]]


async def _count(org: TestOrg, model: Any, *where: Any) -> int:
    async with org.state.db.reader(org.organization_id) as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ------------------------------------------------------------------ references


async def test_a_reference_differing_only_by_case_is_taken(org: TestOrg) -> None:
    # given
    await company(org, "Zinc", reference="ZM-1")
    # when
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Autre", "reference": "zm-1"}})
    # then
    assert [(error["code"], error["path"]) for error in data["customerCreate"]["errors"]] == [("CONFLICT", ["input", "reference"])]


async def test_a_customer_may_change_the_case_of_its_own_reference(org: TestOrg) -> None:
    # given
    customer = await company(org, "Zinc", reference="ZM-1")
    # when
    data = await org.ok(SET_REFERENCE, {"id": customer["id"], "reference": "zm-1"})
    # then
    assert data["customerUpdate"] == {"customer": {"reference": "zm-1"}, "errors": []}


async def test_concurrent_creations_with_one_reference_have_one_winner(org: TestOrg) -> None:
    # given: the same reference, written in many cases
    spellings = ["ZM-1", "zm-1", "Zm-1", "zM-1"] * (WRITERS // 4)
    # when
    results = await asyncio.gather(
        *(
            org.gql(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": f"Client {index}", "reference": reference}})
            for index, reference in enumerate(spellings)
        )
    )
    # then
    winners, errors = _split(_payloads(list(results), "customerCreate"))
    assert winners == 1
    assert errors == [("CONFLICT", ["input", "reference"])] * (WRITERS - 1)
    assert await _count(org, models.Customer, func.lower(models.Customer.reference) == "zm-1") == 1


async def test_concurrent_updates_to_one_reference_have_one_winner(org: TestOrg) -> None:
    # given
    customers = [await company(org, f"Client {index}") for index in range(WRITERS)]
    # when
    results = await asyncio.gather(
        *(org.gql(SET_REFERENCE, {"id": customer["id"], "reference": "SHARED"}) for customer in customers)
    )
    # then
    winners, errors = _split(_payloads(list(results), "customerUpdate"))
    assert winners == 1
    assert errors == [("CONFLICT", ["input", "reference"])] * (WRITERS - 1)


async def test_a_duplicate_only_the_database_sees_is_a_conflict_not_a_server_error(org: TestOrg) -> None:
    # given: a write that skips the service's check (as the loser of a race would)
    await company(org, "Zinc", reference="ZM-1")

    async def change() -> str:
        session = await context.session()
        session.add(
            models.Customer(kind=models.CustomerKind.PROFESSIONAL, company_name="Autre", reference="zm-1", archived=False)
        )
        return "committed"

    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        outcome = await context.mutate(change, lambda errors: errors)
    # then: the unique index's declared CONFLICT, nothing written
    assert [(error.code.value, error.path) for error in outcome] == [("CONFLICT", ["input", "reference"])]
    assert await _count(org, models.Customer, func.lower(models.Customer.reference) == "zm-1") == 1


# ------------------------------------------------------------------ preferred contact


async def test_concurrent_preferred_contacts_all_succeed_and_the_last_one_wins(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    results = await asyncio.gather(
        *(
            org.gql(CONTACT_CREATE, {"input": {"customerId": customer["id"], "name": f"Contact {index}", "preferred": True}})
            for index in range(WRITERS)
        )
    )
    # then: each creation took the flag from the one before; one contact keeps it
    winners, errors = _split(_payloads(list(results), "contactCreate"))
    assert (winners, errors) == (WRITERS, [])
    assert await _count(org, models.Contact, models.Contact.preferred.is_(True)) == 1


async def test_concurrent_make_preferred_on_different_contacts_leave_exactly_one(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    contacts = [await add_contact(org, customer["id"], f"Contact {index}", preferred=index == 0) for index in range(WRITERS)]
    # when
    results = await asyncio.gather(*(org.gql(MAKE_PREFERRED, {"id": contact["id"]}) for contact in contacts))
    # then
    winners, errors = _split(_payloads(list(results), "contactUpdate"))
    assert (winners, errors) == (WRITERS, [])
    assert await _count(org, models.Contact, models.Contact.preferred.is_(True)) == 1


# ------------------------------------------------------------------ primary address


async def test_concurrent_first_addresses_make_exactly_one_primary(org: TestOrg) -> None:
    # given: a customer without an address (its first one becomes primary)
    customer = await company(org, "Alpha")
    # when
    results = await asyncio.gather(
        *(org.gql(ADDRESS_CREATE, {"input": {"customerId": customer["id"], "line1": f"{index} rue Haute", "city": "Lyon"}}) for index in range(WRITERS))
    )
    # then
    payloads = _payloads(list(results), "addressCreate")
    assert _split(payloads) == (WRITERS, [])
    assert [payload["address"]["primary"] for payload in payloads].count(True) == 1
    assert await _count(org, models.Address, models.Address.is_primary.is_(True)) == 1


async def test_concurrent_set_primary_on_different_addresses_leave_exactly_one(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    addresses = [await add_address(org, customer["id"], f"Ville {index}") for index in range(WRITERS)]
    # when
    results = await asyncio.gather(*(org.gql(SET_PRIMARY, {"id": address["id"]}) for address in addresses))
    # then: every request succeeded in turn (the last one wins); never zero, never two
    assert _split(_payloads(list(results), "addressSetPrimary")) == (WRITERS, [])
    assert await _count(org, models.Address, models.Address.is_primary.is_(True)) == 1


async def test_reference_check_ignores_case_in_the_service(org: TestOrg) -> None:
    # given
    await company(org, "Zinc", reference="AbC-9")
    # when
    async with org.state.db.reader(org.organization_id) as session:
        taken = await customer_services.references.reference_taken(session, "abc-9")
    # then
    assert taken

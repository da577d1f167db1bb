"""Batching: the customer list with its nested edges costs a constant number of SQL
statements whatever the page size, and every loader applies the tenant filter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fiche.context import operation_context
from fiche.plugins.customers.keys import PageKey
from tests.plugins.customers.fixtures import seed_customers
from tests.support import TestOrg, count_statements

# The query, as the bench runs it (bench/queries/customers_list.graphql).
CUSTOMER_LIST = (Path(__file__).resolve().parents[3] / "bench" / "queries" / "customers_list.graphql").read_text()
# The same without branches at the top level: the branches' contacts then need a batch of their own.
MAIN_CUSTOMER_LIST = CUSTOMER_LIST.replace("customers(first: $first)", "customers(first: $first, filter: {includeBranches: false})")


async def _run(org: TestOrg, first: int, document: str = CUSTOMER_LIST) -> tuple[int, list[dict[str, Any]]]:
    with count_statements(org.state.db) as counter:
        data = await org.ok(document, {"first": first})
    return counter.count, data["customers"]["nodes"]


@pytest.mark.parametrize(("document", "sizes"), [(CUSTOMER_LIST, (10, 50)), (MAIN_CUSTOMER_LIST, (5, 50))], ids=["all", "main-only"])
async def test_customer_list_costs_the_same_statements_for_5_and_50_customers(
    org: TestOrg, document: str, sizes: tuple[int, int]
) -> None:
    # given
    assert MAIN_CUSTOMER_LIST != CUSTOMER_LIST
    await seed_customers(org, 5, prefix="A")
    await _run(org, 50, document)  # warm the connection pool: a new connection may send set-up statements
    small_count, small = await _run(org, 50, document)
    await seed_customers(org, 45, prefix="B")
    # when
    large_count, large = await _run(org, 50, document)
    # then: with branches listed, 5 + 5 customers, then a full page of the 100
    assert (len(small), len(large)) == sizes
    assert all(node["branches"]["nodes"] or node["displayName"].endswith("Agence") for node in large)
    assert small_count == large_count
    assert large_count <= 12


async def test_customer_list_returns_every_nested_edge(org: TestOrg) -> None:
    # given
    await seed_customers(org, 2)
    # when
    _, nodes = await _run(org, 50)
    # then
    first, its_branch = nodes[0], nodes[1]
    assert (first["displayName"], its_branch["displayName"]) == ("Client 000", "Client 000 Agence")
    assert first["contacts"]["nodes"] == [{"name": "Anne", "preferred": True}, {"name": "Bruno", "preferred": False}]
    assert first["preferredContact"] == {"name": "Anne"}
    assert first["addresses"] == [{"city": "Lyon", "primary": True}, {"city": "Vienne", "primary": False}]
    assert first["branches"]["nodes"] == [{"displayName": "Client 000 Agence", "contacts": {"nodes": [{"name": "Chloé", "preferred": True}]}}]
    assert first["representative"] == {"handle": "member"}
    assert first["createdBy"] == {"handle": "admin"}
    assert (its_branch["contacts"]["nodes"], its_branch["representative"], its_branch["branches"]["nodes"]) == (
        [{"name": "Chloé", "preferred": True}], None, []
    )


@pytest.mark.parametrize(
    ("loader", "key", "empty"),
    [
        ("customers_by_id", "pk", None),
        ("contacts_by_customer", "page", "connection"),
        ("branches_by_customer", "page", "connection"),
        ("documents_by_customer", "page", "connection"),
        ("preferred_contact_by_customer", "pk", None),
        ("addresses_by_customer", "pk", []),
        ("memo_by_customer", "pk", None),
        ("custom_values_by_customer", "pk", []),
        ("relations_by_customer", "pk", []),
    ],
)
async def test_loaders_never_return_another_organisations_rows(
    org: TestOrg, other_org: TestOrg, loader: str, key: str, empty: Any
) -> None:
    # given: the other organisation's customer has every kind of row
    (theirs,) = await seed_customers(other_org, 1)
    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        found = await context.loaders[loader].load(PageKey(theirs, 10) if key == "page" else theirs)
    # then
    if empty == "connection":
        assert found.edges == []
    else:
        assert found == empty


async def test_loaders_do_return_the_organisations_own_rows(org: TestOrg) -> None:
    # given
    (ours,) = await seed_customers(org, 1)
    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        contacts = await context.loaders["contacts_by_customer"].load(PageKey(ours, 10))
        branches = await context.loaders["branches_by_customer"].load(PageKey(ours, 10))
    # then: the control for the isolation test above
    assert [edge.node.name for edge in contacts.edges] == ["Anne", "Bruno"]
    assert [edge.node.display_name for edge in branches.edges] == ["Client 000 Agence"]

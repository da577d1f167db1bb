"""Branches under concurrency and on corrupt data (C6): concurrent parent changes never make
a cycle (the losers get a CONFLICT on ``parentId``), and every view that walks the hierarchy
answers, bounded, even when a cycle was written straight into the database."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from fiche.directory import customer_branches
from fiche.relay import decode_id
from fiche.plugins.customers import models
from fiche.plugins.customers.services.hierarchy import MAX_DEPTH
from tests.plugins.customers.fixtures import company
from tests.support import GraphQLResult, TestOrg

SET_PARENT = """
mutation SetParent($id: ID!, $parentId: ID) {
  customerUpdate(input: {id: $id, parentId: $parentId}) {
    customer { id }
    errors { code message path }
  }
}
"""

CREATE_BRANCH = """
mutation CreateBranch($name: String!, $parentId: ID!) {
  customerCreate(input: {kind: PROFESSIONAL, companyName: $name, parentId: $parentId}) {
    customer { id }
    errors { code path }
  }
}
"""

# Every view that walks the tree below a customer.
WALKS = """
query Walks($id: ID!) {
  everyLevel: customers(filter: {parentId: $id, includeBranches: true}) { nodes { displayName } }
  direct: customers(filter: {parentId: $id, includeBranches: false}) { nodes { displayName } }
  mainOnly: customers(filter: {includeBranches: false}) { nodes { displayName } }
  customer(id: $id) {
    branches { nodes { displayName } }
    timeline(filter: {includeBranches: true}, first: 50) { nodes { kind } }
    notes(filter: {includeBranches: true}, first: 10) { edges { node { body } } }
    noteCount(filter: {includeBranches: true})
    activities(filter: {includeBranches: true}, first: 10) { edges { node { id } } }
  }
}
"""


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def _parents(org: TestOrg) -> dict[int, int | None]:
    async with org.state.db.reader(org.organization_id) as session:
        rows = (await session.execute(select(models.Customer.id, models.Customer.parent_id))).all()
    return {row.id: row.parent_id for row in rows}


def _cycles(parents: dict[int, int | None]) -> list[int]:
    """The customers from which walking up the parents comes back to a customer already seen."""
    looping = []
    for start in parents:
        seen: set[int] = set()
        current: int | None = start
        while current is not None and current not in seen:
            seen.add(current)
            current = parents.get(current)
        if current is not None:
            looping.append(start)
    return looping


def _outcomes(results: list[GraphQLResult]) -> tuple[int, list[dict]]:
    """(number of successes, errors of the others); fails on any top-level error."""
    assert all(result.errors == [] for result in results), [result.errors for result in results]
    payloads = [result.data["customerUpdate"] for result in results]
    winners = sum(1 for payload in payloads if payload["errors"] == [])
    errors = [error for payload in payloads for error in payload["errors"]]
    return winners, errors


async def _write_parent(org: TestOrg, customer_id: str, parent_id: str) -> None:
    """Set a parent behind the API's back, as corrupt data would."""
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(
            update(models.Customer).where(models.Customer.id == _pk(customer_id)).values(parent_id=_pk(parent_id))
        )


async def test_concurrent_opposite_parents_leave_no_cycle(org: TestOrg) -> None:
    # given: ten pairs of customers
    pairs = [(await company(org, f"X{index}"), await company(org, f"Y{index}")) for index in range(10)]
    # when: for each pair, "X under Y" and "Y under X" at the same time (twenty writers)
    calls = []
    for x, y in pairs:
        calls.append(org.gql(SET_PARENT, {"id": x["id"], "parentId": y["id"]}))
        calls.append(org.gql(SET_PARENT, {"id": y["id"], "parentId": x["id"]}))
    results = await asyncio.gather(*calls)
    # then: one winner per pair, a CONFLICT on parentId for the other, and no cycle
    winners, errors = _outcomes(list(results))
    assert winners == len(pairs)
    assert [(error["code"], error["path"]) for error in errors] == [("CONFLICT", ["input", "parentId"])] * len(pairs)
    assert _cycles(await _parents(org)) == []


async def test_concurrent_links_of_a_ring_leave_it_open(org: TestOrg) -> None:
    # given: twelve customers meant to form a ring C0 → C1 → … → C11 → C0
    ring = [await company(org, f"C{index:02d}") for index in range(12)]
    # when: every link is written at the same time
    results = await asyncio.gather(
        *(org.gql(SET_PARENT, {"id": ring[index]["id"], "parentId": ring[(index + 1) % len(ring)]["id"]}) for index in range(len(ring)))
    )
    # then: the link that would close the ring is refused, the others are kept
    winners, errors = _outcomes(list(results))
    assert winners == len(ring) - 1
    assert [(error["code"], error["path"]) for error in errors] == [("CONFLICT", ["input", "parentId"])]
    assert _cycles(await _parents(org)) == []


async def test_every_walk_of_a_corrupt_cycle_answers(org: TestOrg) -> None:
    # given: A → B → C → A written straight into the database, and D a branch of C
    a, b, c = [await company(org, name) for name in ("A", "B", "C")]
    d = await company(org, "D", parentId=c["id"])
    await _write_parent(org, a["id"], b["id"])
    await _write_parent(org, b["id"], c["id"])
    await _write_parent(org, c["id"], a["id"])
    # when
    data = await org.ok(WALKS, {"id": a["id"]})
    # then: every branch once, the customer itself excluded, nothing repeated
    assert [node["displayName"] for node in data["everyLevel"]["nodes"]] == ["B", "C", "D"]
    assert [node["displayName"] for node in data["direct"]["nodes"]] == ["C"]
    assert data["mainOnly"]["nodes"] == []
    assert [node["displayName"] for node in data["customer"]["branches"]["nodes"]] == ["C"]
    assert data["customer"]["noteCount"] == 0


async def test_hook_customer_branches_is_bounded_on_a_corrupt_cycle(org: TestOrg) -> None:
    # given
    a, b = await company(org, "A"), await company(org, "B")
    await _write_parent(org, a["id"], b["id"])
    await _write_parent(org, b["id"], a["id"])
    # when
    async with org.state.db.reader(org.organization_id) as session:
        branches = await customer_branches(org.state.pm, session, [_pk(a["id"]), _pk(b["id"])])
    # then
    assert branches == {_pk(a["id"]): [_pk(b["id"])], _pk(b["id"]): [_pk(a["id"])]}


async def test_a_parent_inside_a_corrupt_cycle_is_refused(org: TestOrg) -> None:
    # given: A ⇄ B in the database, and an unrelated E
    a, b, e = await company(org, "A"), await company(org, "B"), await company(org, "E")
    await _write_parent(org, a["id"], b["id"])
    await _write_parent(org, b["id"], a["id"])
    # when: E would hang below the loop, whose levels never end
    data = await org.ok(SET_PARENT, {"id": e["id"], "parentId": a["id"]})
    # then
    assert [(error["code"], error["path"]) for error in data["customerUpdate"]["errors"]] == [("CONFLICT", ["input", "parentId"])]


async def _chain(org: TestOrg, levels: int) -> list[dict]:
    """A main customer and its branches, one per level: ``levels`` levels in all."""
    chain = [await company(org, "L01")]
    for level in range(2, levels + 1):
        chain.append(await company(org, f"L{level:02d}", parentId=chain[-1]["id"]))
    return chain


async def test_a_hierarchy_deeper_than_the_maximum_is_refused(org: TestOrg) -> None:
    # given: a chain of MAX_DEPTH levels
    chain = await _chain(org, MAX_DEPTH)
    # when: one more level below the deepest
    data = await org.ok(CREATE_BRANCH, {"name": "Too deep", "parentId": chain[-1]["id"]})
    # then
    assert data["customerCreate"] == {"customer": None, "errors": [{"code": "CONFLICT", "path": ["input", "parentId"]}]}


async def test_a_moved_customer_takes_its_branches_into_the_depth(org: TestOrg) -> None:
    # given: a chain of MAX_DEPTH - 1 levels, and a customer with a branch (two levels)
    chain = await _chain(org, MAX_DEPTH - 1)
    top = await company(org, "Top")
    await company(org, "Top branch", parentId=top["id"])
    # when
    too_deep = await org.ok(SET_PARENT, {"id": top["id"], "parentId": chain[-1]["id"]})
    deepest = await org.ok(SET_PARENT, {"id": top["id"], "parentId": chain[-2]["id"]})
    # then: MAX_DEPTH - 1 + 2 levels is one too many; MAX_DEPTH - 2 + 2 is the maximum
    assert [(error["code"], error["path"]) for error in too_deep["customerUpdate"]["errors"]] == [("CONFLICT", ["input", "parentId"])]
    assert deepest["customerUpdate"] == {"customer": {"id": top["id"]}, "errors": []}

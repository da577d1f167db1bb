"""Branches (C6): parent and branches, no cycles, "include branches" list filters, and the
``customer_branches`` / ``customer_locations`` answers other plugins read."""

from __future__ import annotations

from fiche.directory import CustomerLocation, customer_branches, customer_locations
from fiche.relay import decode_id
from tests.plugins.customers.fixtures import add_address, add_contact, company
from tests.support import TestOrg, count_statements

HIERARCHY = """
query Hierarchy($id: ID!) {
  customer(id: $id) {
    isBranch
    parent { displayName }
    branches { nodes { displayName isBranch } }
  }
}
"""

SET_PARENT = """
mutation SetParent($id: ID!, $parentId: ID) {
  customerUpdate(input: {id: $id, parentId: $parentId}) {
    customer { parent { displayName } }
    errors { code path }
  }
}
"""

CREATE_BRANCH = """
mutation CreateBranch($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { code path } }
}
"""

CUSTOMERS = """
query Customers($filter: CustomerFilter) { customers(filter: $filter) { nodes { displayName } } }
"""

ARCHIVE = """
mutation Archive($id: ID!) { customerArchive(id: $id) { errors { code } } }
"""


def _pk(global_id: str) -> int:
    return decode_id(global_id)[1]


async def _tree(org: TestOrg) -> dict[str, dict]:
    """Groupe → Groupe Nord → Groupe Lille, and Groupe → Groupe Sud; plus an unrelated Solo."""
    main = await company(org, "Groupe")
    north = await company(org, "Groupe Nord", parentId=main["id"])
    lille = await company(org, "Groupe Lille", parentId=north["id"])
    south = await company(org, "Groupe Sud", parentId=main["id"])
    solo = await company(org, "Solo")
    return {"main": main, "north": north, "lille": lille, "south": south, "solo": solo}


async def _names(org: TestOrg, filter: dict) -> list[str]:
    data = await org.ok(CUSTOMERS, {"filter": filter})
    return [node["displayName"] for node in data["customers"]["nodes"]]


async def test_parent_id_makes_a_branch(org: TestOrg) -> None:
    # given
    tree = await _tree(org)
    # when
    main = (await org.ok(HIERARCHY, {"id": tree["main"]["id"]}))["customer"]
    north = (await org.ok(HIERARCHY, {"id": tree["north"]["id"]}))["customer"]
    # then
    assert main == {
        "isBranch": False,
        "parent": None,
        "branches": {"nodes": [{"displayName": "Groupe Nord", "isBranch": True}, {"displayName": "Groupe Sud", "isBranch": True}]},
    }
    assert north == {"isBranch": True, "parent": {"displayName": "Groupe"}, "branches": {"nodes": [{"displayName": "Groupe Lille", "isBranch": True}]}}


async def test_parent_of_another_organisation_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(CREATE_BRANCH, {"input": {"kind": "PROFESSIONAL", "companyName": "Branche", "parentId": theirs["id"]}})
    # then
    assert data["customerCreate"] == {"customer": None, "errors": [{"code": "NOT_FOUND", "path": ["input", "parentId"]}]}


async def test_a_cycle_of_branches_is_refused(org: TestOrg) -> None:
    # given
    tree = await _tree(org)
    # when: the main customer would become a branch of its own grand-child
    data = await org.ok(SET_PARENT, {"id": tree["main"]["id"], "parentId": tree["lille"]["id"]})
    # then
    assert data["customerUpdate"] == {"customer": None, "errors": [{"code": "CONFLICT", "path": ["input", "parentId"]}]}
    assert (await org.ok(HIERARCHY, {"id": tree["main"]["id"]}))["customer"]["parent"] is None


async def test_a_customer_cannot_be_its_own_branch(org: TestOrg) -> None:
    # given
    solo = await company(org, "Solo")
    # when
    data = await org.ok(SET_PARENT, {"id": solo["id"], "parentId": solo["id"]})
    # then
    assert data["customerUpdate"]["errors"] == [{"code": "CONFLICT", "path": ["input", "parentId"]}]


async def test_a_branch_can_move_to_another_parent_or_become_a_main_customer(org: TestOrg) -> None:
    # given
    tree = await _tree(org)
    # when
    moved = await org.ok(SET_PARENT, {"id": tree["lille"]["id"], "parentId": tree["south"]["id"]})
    detached = await org.ok(SET_PARENT, {"id": tree["north"]["id"], "parentId": None})
    # then
    assert moved["customerUpdate"] == {"customer": {"parent": {"displayName": "Groupe Sud"}}, "errors": []}
    assert detached["customerUpdate"] == {"customer": {"parent": None}, "errors": []}


async def test_list_of_a_customers_branches_includes_every_level(org: TestOrg) -> None:
    # given
    tree = await _tree(org)
    # when
    every_level = await _names(org, {"parentId": tree["main"]["id"], "includeBranches": True})
    direct = await _names(org, {"parentId": tree["main"]["id"], "includeBranches": False})
    # then
    assert every_level == ["Groupe Lille", "Groupe Nord", "Groupe Sud"]
    assert direct == ["Groupe Nord", "Groupe Sud"]


async def test_list_without_branches_shows_main_customers_only(org: TestOrg) -> None:
    # given
    await _tree(org)
    # when
    main_only = await _names(org, {"includeBranches": False})
    everything = await _names(org, {})
    # then
    assert main_only == ["Groupe", "Solo"]
    assert everything == ["Groupe", "Groupe Lille", "Groupe Nord", "Groupe Sud", "Solo"]


async def test_branches_of_another_organisations_customer_are_empty(org: TestOrg, other_org: TestOrg) -> None:
    # given
    tree = await _tree(other_org)
    # when
    listed = await _names(org, {"parentId": tree["main"]["id"]})
    # then
    assert listed == []


async def test_hook_customer_branches_answers_every_level_in_few_statements(org: TestOrg) -> None:
    # given
    tree = await _tree(org)
    roots = [_pk(tree["main"]["id"]), _pk(tree["north"]["id"]), _pk(tree["solo"]["id"])]
    # when
    async with org.state.db.reader(org.organization_id) as session:
        with count_statements(org.state.db) as counter:
            branches = await customer_branches(org.state.pm, session, roots)
    # then: one recursive statement, whatever the depth of the tree
    assert {root: sorted(found) for root, found in branches.items()} == {
        roots[0]: sorted(_pk(tree[name]["id"]) for name in ("north", "lille", "south")),
        roots[1]: [_pk(tree["lille"]["id"])],
        roots[2]: [],
    }
    assert counter.count == 1


async def test_hook_customer_branches_ignores_other_organisations(org: TestOrg, other_org: TestOrg) -> None:
    # given
    tree = await _tree(other_org)
    # when
    async with org.state.db.reader(org.organization_id) as session:
        branches = await customer_branches(org.state.pm, session, [_pk(tree["main"]["id"])])
    # then
    assert branches == {_pk(tree["main"]["id"]): []}


async def test_hook_customer_locations_describes_each_location(org: TestOrg, other_org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    branch = await company(org, "Groupe Lyon", parentId=main["id"])
    primary = await add_address(org, branch["id"], "Villeurbanne", latitude=45.7719, longitude=4.8902)
    await add_address(org, branch["id"], "Lyon", latitude=45.764, longitude=4.8357)
    await add_contact(org, branch["id"], "Autre")
    preferred = await add_contact(org, branch["id"], "Préféré", preferred=True)
    await org.ok(ARCHIVE, {"id": branch["id"]})
    theirs = await company(other_org, "Theirs")
    # when
    async with org.state.db.reader(org.organization_id) as session:
        locations = await customer_locations(org.state.pm, session, [_pk(main["id"]), _pk(branch["id"]), _pk(theirs["id"])])
    # then: the primary address's coordinates, the preferred contact; another organisation's is absent
    assert locations == {
        _pk(main["id"]): CustomerLocation(_pk(main["id"]), None, "Groupe", None, None, None, False),
        _pk(branch["id"]): CustomerLocation(
            _pk(branch["id"]), _pk(main["id"]), "Groupe Lyon", 45.7719, 4.8902, _pk(preferred["id"]), True, primary_address_id=_pk(primary["id"])
        ),
    }


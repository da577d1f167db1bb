"""``totalCount`` on every connection: the size of the whole list, counted only when
selected, with one statement per connection level whatever the page size."""

from __future__ import annotations

from typing import Any

from tests.plugins.customers.fixtures import add_contact, company, seed_customers
from tests.support import TestOrg, count_statements

NESTED = """
query Nested($first: Int!, $contacts: Int!) {
  customers(first: $first, filter: {includeBranches: false}) {
    totalCount
    edges { node { displayName contacts(first: $contacts) { totalCount nodes { name } } branches(first: 1) { totalCount } } }
  }
}
"""
NESTED_WITHOUT_COUNTS = """
query Nested($first: Int!, $contacts: Int!) {
  customers(first: $first, filter: {includeBranches: false}) {
    edges { node { displayName contacts(first: $contacts) { nodes { name } } branches(first: 1) { pageInfo { hasNextPage } } } }
  }
}
"""
CONTACT_PAGE = """
query Contacts($id: ID!, $after: String) {
  node(id: $id) { ... on Customer { contacts(first: 1, after: $after) { totalCount pageInfo { endCursor } } } }
}
"""
ACTIVITIES_AND_NOTES = """
query Lists($id: ID!) {
  node(id: $id) { ... on Customer { activities(first: 1) { totalCount } notes(first: 1) { totalCount } } }
  notifications(first: 1) { totalCount }
  users(first: 2) { totalCount }
}
"""


async def _run(org: TestOrg, document: str, first: int, contacts: int = 1) -> tuple[int, Any]:
    with count_statements(org.state.db) as counter:
        data = await org.ok(document, {"first": first, "contacts": contacts})
    return counter.count, data["customers"]


async def test_total_count_counts_the_whole_list_at_every_level(org: TestOrg) -> None:
    # given: 3 main customers, each with 2 contacts and 1 branch
    await seed_customers(org, 3)
    # when
    _, customers = await _run(org, NESTED, first=2, contacts=1)
    # then: the page shows 2 customers and 1 contact each, the counts are of everything
    assert customers["totalCount"] == 3
    assert len(customers["edges"]) == 2
    for edge in customers["edges"]:
        assert edge["node"]["contacts"] == {"totalCount": 2, "nodes": [{"name": "Anne"}]}
        assert edge["node"]["branches"] == {"totalCount": 1}


async def test_total_count_costs_one_statement_per_connection_level_whatever_the_page_size(org: TestOrg) -> None:
    # given
    await seed_customers(org, 4)
    await _run(org, NESTED, first=50)  # warm the pool: a new connection may send set-up statements
    small_with, _ = await _run(org, NESTED, first=2)
    small_without, _ = await _run(org, NESTED_WITHOUT_COUNTS, first=2)
    await seed_customers(org, 30, prefix="B")
    # when
    large_with, customers = await _run(org, NESTED, first=34)
    large_without, _ = await _run(org, NESTED_WITHOUT_COUNTS, first=34)
    # then: three levels ask for totalCount (customers, contacts, branches): three statements more
    assert customers["totalCount"] == 34
    assert all(edge["node"]["contacts"]["totalCount"] == 2 for edge in customers["edges"])
    assert small_with == large_with
    assert small_without == large_without
    assert large_with - large_without == 3


async def test_total_count_ignores_the_cursor(org: TestOrg) -> None:
    # given
    customer = await company(org, "Dupont SA")
    for name in ("Anne", "Bruno", "Chloé"):
        await add_contact(org, customer["id"], name)
    # when: the first page, then the page after it
    first = (await org.ok(CONTACT_PAGE, {"id": customer["id"]}))["node"]["contacts"]
    second = (await org.ok(CONTACT_PAGE, {"id": customer["id"], "after": first["pageInfo"]["endCursor"]}))["node"]["contacts"]
    # then
    assert first["totalCount"] == second["totalCount"] == 3


async def test_total_count_never_counts_another_organisations_rows(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await seed_customers(org, 2)
    await seed_customers(other_org, 5)
    # when
    _, mine = await _run(org, NESTED, first=1)
    _, theirs = await _run(other_org, NESTED, first=1)
    # then
    assert (mine["totalCount"], theirs["totalCount"]) == (2, 5)


async def test_total_count_on_the_other_plugins_connections(org: TestOrg) -> None:
    # given: a customer with nothing yet, in an organisation of five users
    customer = await company(org, "Martin SARL")
    # when
    data = await org.ok(ACTIVITIES_AND_NOTES, {"id": customer["id"]})
    # then
    assert data["node"] == {"activities": {"totalCount": 0}, "notes": {"totalCount": 0}}
    assert data["notifications"] == {"totalCount": 0}
    assert data["users"] == {"totalCount": len(org.users)}


TIMELINES = """
query Timelines($first: Int!) {
  customers(first: $first, filter: {includeBranches: false}) {
    edges { node { timeline(first: 1, filter: {includeBranches: true}) { totalCount } } }
  }
}
"""
TIMELINE_OF = """
query Timeline($id: ID!, $first: Int!, $after: String) {
  node(id: $id) { ... on Customer { timeline(first: $first, after: $after) { totalCount edges { node { kind } } pageInfo { endCursor } } } }
}
"""
NOTE_CREATE = "mutation ($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code } } }"


async def test_total_count_of_the_merged_timeline_sums_every_plugins_count(org: TestOrg) -> None:
    # given: a customer with three notes (and whatever else the plugins put on its timeline)
    customer = await company(org, "Durand SA")
    for body in ("Appel", "Relance", "Devis envoyé"):
        assert (await org.ok(NOTE_CREATE, {"input": {"body": body, "targetId": customer["id"]}}))["noteCreate"]["errors"] == []
    everything = (await org.ok(TIMELINE_OF, {"id": customer["id"], "first": 100}))["node"]["timeline"]
    assert len(everything["edges"]) >= 3
    # when: the first page of one entry, then the next
    first = (await org.ok(TIMELINE_OF, {"id": customer["id"], "first": 1}))["node"]["timeline"]
    second = (await org.ok(TIMELINE_OF, {"id": customer["id"], "first": 1, "after": first["pageInfo"]["endCursor"]}))["node"]["timeline"]
    # then
    assert first["totalCount"] == second["totalCount"] == everything["totalCount"] == len(everything["edges"])


async def test_total_count_of_timelines_costs_the_same_statements_for_any_number_of_customers(org: TestOrg) -> None:
    # given
    await seed_customers(org, 6)
    await org.ok(TIMELINES, {"first": 6})  # warm the pool
    # when
    with count_statements(org.state.db) as two:
        small = await org.ok(TIMELINES, {"first": 2})
    with count_statements(org.state.db) as six:
        large = await org.ok(TIMELINES, {"first": 6})
    # then: each seeded customer has one branch, and both show on the timeline's count
    assert two.count == six.count
    counts = {edge["node"]["timeline"]["totalCount"] for edge in (*small["customers"]["edges"], *large["customers"]["edges"])}
    assert None not in counts


FOLLOW = "mutation($id: ID!) { customerFollow(customerId: $id) { errors { code } } }"
FOLLOWED = """
query Followed($after: String) {
  viewer { followedCustomers(first: 2, after: $after) { totalCount nodes { ... on Customer { displayName } } pageInfo { endCursor } } }
}
"""


async def test_total_count_of_the_followed_customers_counts_every_page(org: TestOrg, other_org: TestOrg) -> None:
    # given: three customers followed by the member, one by someone else, one in another organisation
    for name in ("Alpha", "Beta", "Gamma"):
        customer = await company(org, name)
        assert (await org.ok(FOLLOW, {"id": customer["id"]}, as_="member"))["customerFollow"]["errors"] == []
    other = await company(org, "Delta")
    await org.ok(FOLLOW, {"id": other["id"]}, as_="manager")
    elsewhere = await company(other_org, "Epsilon")
    await other_org.ok(FOLLOW, {"id": elsewhere["id"]}, as_="member")
    # when: the first page of two, then the next
    first = (await org.ok(FOLLOWED, as_="member"))["viewer"]["followedCustomers"]
    second = (await org.ok(FOLLOWED, {"after": first["pageInfo"]["endCursor"]}, as_="member"))["viewer"]["followedCustomers"]
    # then: each page tells the size of the whole list
    assert [node["displayName"] for node in first["nodes"] + second["nodes"]] == ["Gamma", "Beta", "Alpha"]
    assert first["totalCount"] == second["totalCount"] == 3

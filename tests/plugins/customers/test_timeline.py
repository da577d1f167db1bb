"""Customer events in the unified timeline (G12): created, updated, archived, unarchived,
converted and merged, with who did it."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from tests.plugins.customers.fixtures import company, person
from tests.support import TestOrg, count_statements

TIMELINE = """
query Timeline($id: ID!, $filter: TimelineFilter, $first: Int) {
  customer(id: $id) {
    timeline(filter: $filter, first: $first) {
      nodes {
        kind summary occurredAt
        location { id }
        ... on CustomerEventEntry { details actor { handle } }
      }
    }
  }
}
"""

UPDATE = """
mutation Update($id: ID!) { customerUpdate(input: {id: $id, email: "a@b.fr", phone: "01 02 03 04 05"}) { errors { code } } }
"""
NOOP_UPDATE = """
mutation Update($id: ID!) { customerUpdate(input: {id: $id}) { errors { code } } }
"""
ARCHIVE = "mutation A($id: ID!) { customerArchive(id: $id) { errors { code } } }"
UNARCHIVE = "mutation U($id: ID!) { customerUnarchive(id: $id) { errors { code } } }"
CONVERT = "mutation C($id: ID!) { customerConvertToProfessional(input: {id: $id}) { errors { code } } }"
MERGE = "mutation M($keep: ID!, $dup: ID!) { customerMerge(keepId: $keep, duplicateId: $dup) { errors { code } } }"

LIST_WITH_TIMELINES = """
query { customers(first: 50) { nodes { timeline(first: 5) { nodes { kind } } } } }
"""


async def _timeline(org: TestOrg, customer_id: str, filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    data = await org.ok(TIMELINE, {"id": customer_id, "filter": filter, "first": 20})
    return [node for node in data["customer"]["timeline"]["nodes"] if node["kind"].startswith("CUSTOMER_")]


async def test_record_changes_appear_newest_first_with_their_author(org: TestOrg) -> None:
    # given
    customer = await person(org, "Léa", "Morel", as_="member")
    await org.ok(UPDATE, {"id": customer["id"]}, as_="manager")
    await org.ok(ARCHIVE, {"id": customer["id"]}, as_="member2")
    await org.ok(UNARCHIVE, {"id": customer["id"]}, as_="member2")
    await org.ok(CONVERT, {"id": customer["id"]}, as_="admin")
    # when
    entries = await _timeline(org, customer["id"])
    # then
    assert [(entry["kind"], entry["actor"]["handle"]) for entry in entries] == [
        ("CUSTOMER_CONVERTED", "admin"),
        ("CUSTOMER_UNARCHIVED", "member2"),
        ("CUSTOMER_ARCHIVED", "member2"),
        ("CUSTOMER_UPDATED", "manager"),
        ("CUSTOMER_CREATED", "member"),
    ]
    assert entries[3]["details"] == "Changed: e-mail, phone."
    assert entries[3]["summary"] == "Customer record updated: Changed: e-mail, phone."
    assert {entry["location"]["id"] for entry in entries} == {customer["id"]}
    occurred = [entry["occurredAt"] for entry in entries]
    assert occurred == sorted(occurred, reverse=True)


async def test_an_update_that_changes_nothing_records_nothing(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    # when
    await org.ok(NOOP_UPDATE, {"id": customer["id"]})
    # then
    assert [entry["kind"] for entry in await _timeline(org, customer["id"])] == ["CUSTOMER_CREATED"]


async def test_merge_is_recorded_on_the_kept_customer_with_the_duplicates_history(org: TestOrg) -> None:
    # given
    keep = await company(org, "Dupré")
    duplicate = await company(org, "Dupre", reference="DUP-1")
    # when
    await org.ok(MERGE, {"keep": keep["id"], "dup": duplicate["id"]}, as_="manager")
    # then
    entries = await _timeline(org, keep["id"])
    assert [entry["kind"] for entry in entries] == ["CUSTOMER_MERGED", "CUSTOMER_CREATED", "CUSTOMER_CREATED"]
    assert entries[0]["details"] == "Merged Dupre (DUP-1) into this customer."


async def test_timeline_kinds_filter_selects_customer_events(org: TestOrg) -> None:
    # given
    customer = await company(org, "Alpha")
    await org.ok(ARCHIVE, {"id": customer["id"]})
    # when
    entries = await _timeline(org, customer["id"], {"kinds": ["CUSTOMER_ARCHIVED"]})
    # then
    assert [entry["kind"] for entry in entries] == ["CUSTOMER_ARCHIVED"]


async def test_timeline_team_filter_keeps_the_events_of_its_members(org: TestOrg) -> None:
    # given: member is in team North, member2 in team South
    customer = await company(org, "Alpha", as_="member")
    await org.ok(ARCHIVE, {"id": customer["id"]}, as_="member2")
    north = encode_id("Team", org.teams["north"].id)
    # when
    entries = await _timeline(org, customer["id"], {"teamId": north})
    # then
    assert [entry["kind"] for entry in entries] == ["CUSTOMER_CREATED"]


async def test_timeline_includes_branch_events_when_asked(org: TestOrg) -> None:
    # given
    main = await company(org, "Groupe")
    branch = await company(org, "Groupe Nord", parentId=main["id"])
    # when
    alone = await _timeline(org, main["id"])
    with_branches = await _timeline(org, main["id"], {"includeBranches": True})
    # then
    assert [entry["location"]["id"] for entry in alone] == [main["id"]]
    assert [entry["location"]["id"] for entry in with_branches] == [branch["id"], main["id"]]


async def test_another_organisation_sees_none_of_the_events(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await company(other_org, "Theirs")
    # when
    data = await org.ok(TIMELINE, {"id": theirs["id"], "filter": None, "first": 5})
    # then
    assert data == {"customer": None}


async def test_timelines_of_a_customer_page_cost_constant_statements(org: TestOrg) -> None:
    # given
    for index in range(3):
        await company(org, f"Petit {index}")
    await org.ok(LIST_WITH_TIMELINES)
    with count_statements(org.state.db) as small:
        await org.ok(LIST_WITH_TIMELINES)
    for index in range(20):
        await company(org, f"Grand {index}")
    # when
    with count_statements(org.state.db) as large:
        data = await org.ok(LIST_WITH_TIMELINES)
    # then
    assert len(data["customers"]["nodes"]) == 23
    assert all(node["timeline"]["nodes"] for node in data["customers"]["nodes"])
    assert large.count == small.count

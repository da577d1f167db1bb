"""Visibility (N4): a note restricted to a team or to managers is invisible to everyone
outside it on every path — lists, ``node``, timeline, counts, mentions, notifications.

Teams of the test organisation: north = {manager, member}, south = {member2, technician}.
"""

from __future__ import annotations

import pytest

from fiche.notifications.visibility import HIDDEN_MESSAGE
from fiche.relay import encode_id
from tests.plugins.notes.support import (
    FOLLOW,
    NODE,
    NOTE_UPDATE,
    add_note,
    add_task,
    create_customer,
    inboxes,
    nobody_but,
    note_create,
    team_id,
)
from tests.support import TestOrg

EVERY_PATH = """
query($customer: ID!, $note: ID!) {
  node(id: $note) { id }
  customer: node(id: $customer) { ... on Customer {
    notes { edges { node { id } } }
    noteCount
    timeline { edges { node { kind ... on NoteTimelineEntry { note { id } } ... on TaskTimelineEntry { task { id } } } } }
    latestEvents { kind }
  } }
  notes { edges { node { id } } }
  search: notes(filter: {search: "secret"}) { edges { node { id } } }
}
"""


async def seen_by(org: TestOrg, who: str, customer: str, note: str) -> dict[str, object]:
    """Where ``who`` finds ``note``: node, customer list, count, timeline, widget, root list."""
    data = await org.ok(EVERY_PATH, {"customer": customer, "note": note}, as_=who)
    found = data["customer"]
    timeline = [edge["node"] for edge in found["timeline"]["edges"] if edge["node"]["kind"] in ("NOTE", "TASK")]
    return {
        "node": data["node"] is not None,
        "list": [edge["node"]["id"] for edge in found["notes"]["edges"]] == [note],
        "count": found["noteCount"],
        "timeline": [(entry.get("note") or entry.get("task"))["id"] for entry in timeline] == [note],
        "widget": [event["kind"] for event in found["latestEvents"] if event["kind"] in ("NOTE", "TASK")] != [],
        "root": note in [edge["node"]["id"] for edge in data["notes"]["edges"]],
        "search": note in [edge["node"]["id"] for edge in data["search"]["edges"]],
    }


VISIBLE = {"node": True, "list": True, "count": 1, "timeline": True, "widget": True, "root": True, "search": True}
HIDDEN = {"node": False, "list": False, "count": 0, "timeline": False, "widget": False, "root": False, "search": False}


@pytest.mark.parametrize(
    ("who", "expected"),
    [("member", VISIBLE), ("manager", VISIBLE), ("admin", VISIBLE), ("member2", HIDDEN), ("technician", HIDDEN)],
)
async def test_a_team_note_is_read_by_its_team_and_admins_only(org: TestOrg, who: str, expected: dict) -> None:
    # given
    customer = await create_customer(org)
    note = await add_note(
        org, "entre nous, secret", as_="member", targetId=customer, visibility="TEAM", teamId=team_id(org, "north")
    )
    # when
    seen = await seen_by(org, who, customer, note["id"])
    # then
    assert seen == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("manager", VISIBLE), ("admin", VISIBLE), ("member", VISIBLE), ("member2", HIDDEN), ("technician", HIDDEN)],
)
async def test_a_managers_note_is_read_by_managers_admins_and_its_author(org: TestOrg, who: str, expected: dict) -> None:
    # given: written by "member", who always reads their own note
    customer = await create_customer(org)
    note = await add_note(org, "confidentiel et secret", as_="member", targetId=customer, visibility="MANAGERS")
    # when
    seen = await seen_by(org, who, customer, note["id"])
    # then
    assert seen == expected


async def test_a_manager_does_not_read_another_teams_notes(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    note = await add_note(org, "sud secret", as_="member2", targetId=customer, visibility="TEAM", teamId=team_id(org, "south"))
    # when
    seen = await seen_by(org, "manager", customer, note["id"])
    # then
    assert seen == HIDDEN


async def test_a_restricted_task_is_read_by_its_assignee(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    task = await add_task(
        org,
        "à faire, secret",
        as_="manager",
        targetId=customer,
        visibility="MANAGERS",
        assigneeId=encode_id("User", org.users["technician"].id),
    )
    # when
    seen = await seen_by(org, "technician", customer, task["id"])
    # then
    assert seen == VISIBLE


async def test_followers_outside_the_team_are_not_notified(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    for who in ("member", "member2", "admin"):
        await org.ok(FOLLOW, {"id": customer}, as_=who)
    # when
    await add_note(org, "nord seulement", as_="manager", targetId=customer, visibility="TEAM", teamId=team_id(org, "north"))
    # then
    assert await inboxes(org) == nobody_but({"member": ["FOLLOWED_CUSTOMER_NOTE"], "admin": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_followers_who_are_not_managers_are_not_notified_of_a_managers_note(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    for who in ("member", "manager"):
        await org.ok(FOLLOW, {"id": customer}, as_=who)
    # when
    await add_note(org, "direction", as_="admin", targetId=customer, visibility="MANAGERS")
    # then
    assert await inboxes(org) == nobody_but({"manager": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_mentioning_someone_outside_the_team_is_refused(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "@member2 regarde", as_="member", visibility="TEAM", teamId=team_id(org, "north"))
    # then
    assert payload["note"] is None
    [error] = payload["errors"]
    assert (error["code"], error["path"]) == ("INVALID", ["input", "body"])
    assert "@member2" in error["message"]
    assert await inboxes(org) == nobody_but({}, org)


async def test_mentioning_a_member_in_a_managers_note_is_refused(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "@member attention", as_="manager", visibility="MANAGERS")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "body"])]


async def test_mentioning_someone_inside_the_team_is_notified(org: TestOrg) -> None:
    # when
    await add_note(org, "@manager regarde", as_="member", visibility="TEAM", teamId=team_id(org, "north"))
    # then
    assert await inboxes(org) == nobody_but({"manager": ["MENTION"]}, org)


async def test_restricting_a_note_past_someone_it_mentions_is_refused(org: TestOrg) -> None:
    # given
    note = await add_note(org, "@member2 regarde", as_="member")
    # when
    data = await org.ok(
        NOTE_UPDATE, {"input": {"id": note["id"], "visibility": "TEAM", "teamId": team_id(org, "north")}}, as_="member"
    )
    # then
    assert [(e["code"], e["path"]) for e in data["noteUpdate"]["errors"]] == [("INVALID", ["input", "body"])]
    assert (await org.ok(NODE, {"id": note["id"]}, as_="member2"))["node"] is not None


async def test_restricting_a_note_hides_it_from_a_notification_that_pointed_to_it(org: TestOrg) -> None:
    # given: member2 was told of the note as a follower
    customer = await create_customer(org)
    await org.ok(FOLLOW, {"id": customer}, as_="member2")
    note = await add_note(org, "ouvert", as_="member", targetId=customer)
    # when
    await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "visibility": "TEAM", "teamId": team_id(org, "north")}}, as_="member")
    # then: the notification stays, but neither its subject, its link nor its text give the note away
    data = await org.ok("{ notifications { edges { node { kind message link subject { id } } } } }", as_="member2")
    assert data["notifications"]["edges"] == [
        {
            "node": {
                "kind": "FOLLOWED_CUSTOMER_NOTE",
                "message": HIDDEN_MESSAGE,
                "link": None,
                "subject": None,
            }
        }
    ]


async def test_restricting_a_note_keeps_notifications_of_those_who_still_read_it(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await org.ok(FOLLOW, {"id": customer}, as_="manager")
    note = await add_note(org, "ouvert", as_="member", targetId=customer)
    # when: the manager is in the north team
    await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "visibility": "TEAM", "teamId": team_id(org, "north")}}, as_="member")
    # then
    data = await org.ok("{ notifications { edges { node { message subject { id } } } } }", as_="manager")
    [edge] = data["notifications"]["edges"]
    assert "ouvert" in edge["node"]["message"] and edge["node"]["subject"] == {"id": note["id"]}


async def test_a_team_note_needs_a_team(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", as_="member", visibility="TEAM")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "teamId"])]


async def test_a_team_goes_only_with_team_visibility(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", as_="member", teamId=team_id(org, "north"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "teamId"])]


async def test_a_note_is_restricted_only_to_a_team_of_the_author(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", as_="member", visibility="TEAM", teamId=team_id(org, "south"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("FORBIDDEN", ["input", "teamId"])]


async def test_an_admin_restricts_a_note_to_any_team(org: TestOrg) -> None:
    # when
    note = await add_note(org, "hello", as_="admin", visibility="TEAM", teamId=team_id(org, "south"))
    # then
    assert note["team"]["name"] == "South"


async def test_another_organisations_team_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", visibility="TEAM", teamId=team_id(other_org, "north"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "teamId"])]


async def test_widening_a_note_keeps_it_readable_by_everyone(org: TestOrg) -> None:
    # given
    note = await add_note(org, "secret", as_="member", visibility="TEAM", teamId=team_id(org, "north"))
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "visibility": "ORGANIZATION"}}, as_="member")
    # then
    assert data["noteUpdate"]["note"]["team"] is None
    assert (await org.ok(NODE, {"id": note["id"]}, as_="member2"))["node"] is not None

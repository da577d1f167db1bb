"""Gaps of activities with notes (issue 13): an activity is a subject type with its note
history (N8), deleting an activity deletes its notes (``subjects_deleted``), and the
followers of a customer hear of a new activity (``customer_followers``, a notification
kind of its own that users can switch off)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select, update

from fiche.accounts import models as accounts
from fiche.notifications.models import Notification
from fiche.settings import Settings
from tests.plugins.activities.fixtures import activity, ago, customer
from tests.plugins.notes.support import FOLLOW, NODE, add_note, inbox, inboxes, nobody_but, note_create
from tests.support import TestOrg

ACTIVITY_NOTES = """
query ($id: ID!) { node(id: $id) { ... on Activity { noteCount notes(first: 10) { edges { node { body target { id } } } } } } }
"""
ACTIVITY_DELETE = "mutation ($id: ID!) { activityDelete(id: $id) { deletedId errors { code } } }"
PREFERENCE = """
mutation($kind: String!, $enabled: Boolean!) { notificationPreferenceSet(kind: $kind, enabled: $enabled) { errors { code } } }
"""
KIND = "FOLLOWED_CUSTOMER_ACTIVITY"


async def test_an_activity_has_its_note_history_newest_first(org: TestOrg) -> None:
    # given
    visit = await activity(org, await customer(org), starts_at=ago(hours=2))
    await add_note(org, "Le client demande un rappel", targetId=visit["id"], as_="member")
    await add_note(org, "Échantillons laissés sur place", targetId=visit["id"])
    # when
    node = (await org.ok(ACTIVITY_NOTES, {"id": visit["id"]}, as_="member2"))["node"]
    # then
    assert node["noteCount"] == 2
    assert [(edge["node"]["body"], edge["node"]["target"]["id"]) for edge in node["notes"]["edges"]] == [
        ("Échantillons laissés sur place", visit["id"]),
        ("Le client demande un rappel", visit["id"]),
    ]


async def test_a_note_on_another_organisations_activity_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await activity(other_org, await customer(other_org))
    # when
    payload = await note_create(org, "Hello", targetId=theirs["id"])
    # then
    assert payload["note"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "targetId"])]


async def test_hook_subjects_deleted_deleting_an_activity_deletes_its_notes(org: TestOrg) -> None:
    # given: a note on the activity mentions member, a note on the customer stays
    location = await customer(org)
    visit = await activity(org, location)
    on_activity = await add_note(org, "Voir avec @member", targetId=visit["id"])
    on_customer = await add_note(org, "Client fidèle", targetId=location)
    # when
    deleted = (await org.ok(ACTIVITY_DELETE, {"id": visit["id"]}))["activityDelete"]
    # then
    assert deleted == {"deletedId": visit["id"], "errors": []}
    assert (await org.ok(NODE, {"id": on_activity["id"]}))["node"] is None
    assert (await org.ok(NODE, {"id": on_customer["id"]}))["node"]["body"] == "Client fidèle"
    (mention,) = await inbox(org, "member")
    assert mention["kind"] == "MENTION" and mention["subject"] is None and "deleted" in mention["message"]


async def test_a_mention_in_an_activitys_note_leads_to_the_activity(org: TestOrg) -> None:
    # given
    visit = await activity(org, await customer(org))
    # when
    note = await add_note(org, "@member peux-tu passer la semaine prochaine ?", targetId=visit["id"])
    # then
    (mention,) = await inbox(org, "member")
    assert (mention["kind"], mention["target"], mention["link"]) == ("MENTION", visit["id"], f"/activities/{visit['id']}#note-{note['id']}")


async def test_hook_customer_followers_hear_of_a_new_activity_except_its_author(org: TestOrg) -> None:
    # given: manager and member follow the customer; member records a visit
    location = await customer(org, "Boulangerie Dupré")
    for who in ("manager", "member"):
        await org.ok(FOLLOW, {"id": location}, as_=who)
    # when
    visit = await activity(org, location, starts_at=ago(hours=1), description="<p>Nouvelle <b>gamme</b></p>", as_="member")
    # then
    assert await inboxes(org) == nobody_but({"manager": [KIND]}, org)
    (notification,) = await inbox(org, "manager")
    assert (notification["subject"], notification["target"], notification["actor"]) == (visit["id"], location, "member")
    assert notification["message"].startswith("Member Test recorded a visit with Boulangerie Dupré on ")
    assert notification["message"].endswith(": “Nouvelle gamme”") and notification["link"] == f"/customers/{location}#activity-{visit['id']}"


async def test_a_follower_who_switched_the_kind_off_hears_nothing(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await org.ok(FOLLOW, {"id": location}, as_="manager")
    await org.ok(PREFERENCE, {"kind": KIND, "enabled": False}, as_="manager")
    # when
    await activity(org, location, as_="member")
    # then
    assert await inboxes(org) == nobody_but({}, org)


async def test_a_deactivated_follower_hears_nothing(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await org.ok(FOLLOW, {"id": location}, as_="manager")
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        await session.execute(update(accounts.User).where(accounts.User.id == org.users["manager"].id).values(is_active=False))
    # when
    await activity(org, location, as_="member")
    # then
    async with org.state.db.reader(org.organization_id) as session:
        assert await session.scalar(select(func.count()).select_from(Notification)) == 0


async def test_followers_of_another_customer_hear_nothing(org: TestOrg) -> None:
    # given
    followed, other = await customer(org, "Suivi"), await customer(org, "Autre")
    await org.ok(FOLLOW, {"id": followed}, as_="manager")
    # when
    await activity(org, other, as_="member")
    # then
    assert await inboxes(org) == nobody_but({}, org)


class TestWithoutTheNotesPlugin:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("notes",))

    async def test_activities_are_created_and_deleted_with_nobody_answering_the_hooks(self, org: TestOrg) -> None:
        # given
        visit = await activity(org, await customer(org), as_="member")
        # when
        deleted = (await org.ok(ACTIVITY_DELETE, {"id": visit["id"]}, as_="member"))["activityDelete"]
        # then
        assert deleted == {"deletedId": visit["id"], "errors": []}


TIMELINE = """
query ($id: ID!, $filter: TimelineFilter, $first: Int, $after: String) {
  node(id: $id) { ... on Customer { timeline(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { kind summary location { id } ... on NoteTimelineEntry { note { id target { id } } } } }
    pageInfo { endCursor }
  } } }
}
"""

TIMELINE_PAGES = """
query ($id: ID!, $filter: TimelineFilter, $first: Int, $after: String) {
  node(id: $id) { ... on Customer { timeline(filter: $filter, first: $first, after: $after) {
    totalCount edges { node { kind summary } } pageInfo { hasNextPage endCursor }
  } } }
}
"""


async def note_entries(org: TestOrg, customer_id: str, *, as_: str = "admin", **variables: object) -> tuple[int, list[dict]]:
    timeline = (await org.ok(TIMELINE, {"id": customer_id, **variables}, as_=as_))["node"]["timeline"]
    return timeline["totalCount"], [edge["node"] for edge in timeline["edges"] if edge["node"]["kind"] in ("NOTE", "TASK")]


async def test_hook_customer_subjects_an_activitys_notes_are_on_its_customers_timeline(org: TestOrg) -> None:
    # given: a note about the customer, then one about its activity
    location = await customer(org)
    visit = await activity(org, location, starts_at=ago(hours=3))
    await add_note(org, "Client fidèle", targetId=location)
    on_activity = await add_note(org, "Le client demande un rappel", targetId=visit["id"], as_="member")
    # when
    _, found = await note_entries(org, location, filter={"kinds": ["NOTE"]})
    # then: both, newest first, the activity's at the activity's customer
    assert [(entry["summary"], entry["location"]["id"]) for entry in found] == [
        ("Le client demande un rappel", location),
        ("Client fidèle", location),
    ]
    assert found[0]["note"] == {"id": on_activity["id"], "target": {"id": visit["id"]}}


async def test_a_branch_activitys_notes_are_on_the_branch_and_with_branches_on_the_main_customer(org: TestOrg) -> None:
    # given
    main = await customer(org, "Dupré Holding")
    branch = await customer(org, "Dupré Lyon", parent=main)
    visit = await activity(org, branch)
    await add_note(org, "Vitrine refaite", targetId=visit["id"])
    # when
    _, on_branch = await note_entries(org, branch, filter={"kinds": ["NOTE"]})
    _, on_main = await note_entries(org, main, filter={"kinds": ["NOTE"]})
    _, with_branches = await note_entries(org, main, filter={"kinds": ["NOTE"], "includeBranches": True})
    # then
    assert [(entry["summary"], entry["location"]["id"]) for entry in on_branch] == [("Vitrine refaite", branch)]
    assert on_main == []
    assert [(entry["summary"], entry["location"]["id"]) for entry in with_branches] == [("Vitrine refaite", branch)]


async def test_an_activitys_note_the_viewer_may_not_read_is_not_on_the_timeline(org: TestOrg) -> None:
    # given: a managers-only note on the activity
    location = await customer(org)
    visit = await activity(org, location)
    await add_note(org, "confidentiel", targetId=visit["id"], visibility="MANAGERS", as_="manager")
    # when
    member_count, as_member = await note_entries(org, location, filter={"kinds": ["NOTE"]}, as_="member")
    manager_count, as_manager = await note_entries(org, location, filter={"kinds": ["NOTE"]}, as_="manager")
    # then
    assert (member_count, as_member) == (0, [])
    assert manager_count == 1 and [entry["summary"] for entry in as_manager] == ["confidentiel"]


async def test_the_timeline_pages_and_counts_customer_and_activity_notes_as_one_list(org: TestOrg) -> None:
    # given: notes alternately about the customer and about its activity
    location = await customer(org)
    visit = await activity(org, location)
    for index in range(5):
        await add_note(org, f"note {index}", targetId=visit["id"] if index % 2 else location)
    # when: pages of two, as a client reads them
    seen: list[str] = []
    counts = set()
    entries = 0
    after = None
    while True:
        timeline = (await org.ok(TIMELINE_PAGES, {"id": location, "first": 2, "after": after}))["node"]["timeline"]
        counts.add(timeline["totalCount"])
        seen += [edge["node"]["summary"] for edge in timeline["edges"] if edge["node"]["kind"] == "NOTE"]
        entries += len(timeline["edges"])
        if not timeline["pageInfo"]["hasNextPage"]:
            break
        after = timeline["pageInfo"]["endCursor"]
    # then
    assert seen == [f"note {index}" for index in reversed(range(5))]
    assert counts == {entries}  # the notes, the activity and what else the plugins show

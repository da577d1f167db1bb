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

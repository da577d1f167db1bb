"""The plugin as part of the rest of Fiche: the customer timeline, notes attached to
interventions and equipment (subject types), customer merges and deletions, and its
answers to other plugins (``intervention_customers``, ``route_stops``)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from sqlalchemy import func, select

from fiche.context import operation_context
from fiche.plugins.interventions import models
from fiche.relay import decode_id
from tests.plugins.interventions.fixtures import address, customer, intervention, intervention_type
from tests.support import TestOrg

TIMELINE = """
query ($id: ID!, $planned: Boolean = true) { node(id: $id) { ... on Customer {
  timeline(first: 20, filter: {kinds: ["INTERVENTION"], includePlanned: $planned}) {
  edges { node { kind summary ... on InterventionTimelineEntry { intervention { number } } } } } } } }
"""
NOTE_CREATE = "mutation ($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code message } } }"
NOTES = "query ($id: ID!) { node(id: $id) { ... on Intervention { notes(first: 5) { edges { node { body } } } } } }"
MERGE = "mutation ($keep: ID!, $dup: ID!) { customerMerge(keepId: $keep, duplicateId: $dup) { errors { code message } } }"
DELETE = "mutation ($id: ID!) { customerDelete(id: $id) { errors { code message } } }"
EQUIPMENT = "mutation ($input: EquipmentCreateInput!) { equipmentCreate(input: $input) { equipment { id } errors { code } } }"
NODE = "query ($id: ID!) { node(id: $id) { ... on Intervention { number customer { id } } } }"


async def test_interventions_appear_in_the_customer_timeline(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org, "Dépannage")
    place = await address(org, client)
    await intervention(org, client, place, kind, title="Fuite", starts_at=dt.datetime(2030, 2, 1, 9, tzinfo=dt.UTC))
    await intervention(org, client, place, kind, title="Contrôle", starts_at=dt.datetime(2030, 3, 1, 9, tzinfo=dt.UTC))
    # when
    data = await org.ok(TIMELINE, {"id": client})
    # then
    entries = [edge["node"] for edge in data["node"]["timeline"]["edges"]]
    assert [(entry["kind"], entry["intervention"]["number"]) for entry in entries] == [("INTERVENTION", 2), ("INTERVENTION", 1)]
    assert entries[0]["summary"] == "Intervention 2 · Dépannage: Contrôle (upcoming)"
    # by default the timeline shows what happened: appointments to come are left out
    assert (await org.ok(TIMELINE, {"id": client, "planned": False}))["node"]["timeline"]["edges"] == []


async def test_notes_attach_to_interventions(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    created = await intervention(org, client, await address(org, client), kind)
    # when
    note = (await org.ok(NOTE_CREATE, {"input": {"body": "Prévoir un escabeau", "targetId": created["id"]}}))["noteCreate"]
    # then
    assert note["errors"] == []
    assert (await org.ok(NOTES, {"id": created["id"]}))["node"]["notes"]["edges"] == [{"node": {"body": "Prévoir un escabeau"}}]


NOTE_TIMELINE = """
query ($id: ID!) { node(id: $id) { ... on Customer {
  timeline(first: 20, filter: {kinds: ["NOTE"]}) { edges { node { summary location { id } ... on NoteTimelineEntry { note { target { id } } } } } } } } }
"""


async def test_hook_customer_subjects_the_notes_of_an_intervention_and_of_equipment_are_on_the_customers_timeline(org: TestOrg) -> None:
    # given: a note on an intervention, one on a piece of equipment of the same customer
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    created = await intervention(org, client, place, kind)
    boiler = (await org.ok(EQUIPMENT, {"input": {"customerId": client, "addressId": place, "name": "Chaudière"}}))["equipmentCreate"]["equipment"]
    for body, target in (("Prévoir un escabeau", created["id"]), ("Joint à changer", boiler["id"])):
        assert (await org.ok(NOTE_CREATE, {"input": {"body": body, "targetId": target}}))["noteCreate"]["errors"] == []
    # when
    edges = (await org.ok(NOTE_TIMELINE, {"id": client}))["node"]["timeline"]["edges"]
    # then: both, newest first, on the customer
    assert [(edge["node"]["summary"], edge["node"]["note"]["target"]["id"], edge["node"]["location"]["id"]) for edge in edges] == [
        ("Joint à changer", boiler["id"], client),
        ("Prévoir un escabeau", created["id"], client),
    ]


async def test_a_merge_moves_interventions_and_equipment_to_the_kept_customer(org: TestOrg) -> None:
    # given
    keep, duplicate, kind = await customer(org, "Dupré"), await customer(org, "Dupre"), await intervention_type(org)
    moved = await intervention(org, duplicate, await address(org, duplicate), kind)
    await org.ok(EQUIPMENT, {"input": {"customerId": duplicate, "name": "Chaudière"}})
    # when
    assert (await org.ok(MERGE, {"keep": keep, "dup": duplicate}))["customerMerge"]["errors"] == []
    # then
    assert (await org.ok(NODE, {"id": moved["id"]}))["node"]["customer"]["id"] == keep
    async with org.state.db.reader(org.organization_id) as session:
        owners = set((await session.scalars(select(models.Equipment.customer_id))).all())
    assert owners == {decode_id(keep)[1]}


async def test_deleting_a_customer_removes_its_interventions_and_equipment(org: TestOrg) -> None:
    # given
    gone, kept, kind = await customer(org, "Partant"), await customer(org, "Restant"), await intervention_type(org)
    removed = await intervention(org, gone, await address(org, gone), kind)
    stays = await intervention(org, kept, await address(org, kept), kind)
    await org.ok(EQUIPMENT, {"input": {"customerId": gone, "name": "Chaudière"}})
    # when
    assert (await org.ok(DELETE, {"id": gone}, as_="manager"))["customerDelete"]["errors"] == []
    # then
    assert (await org.ok(NODE, {"id": removed["id"]}))["node"] is None
    assert (await org.ok(NODE, {"id": stays["id"]}))["node"]["number"] == stays["number"]
    async with org.state.db.reader(org.organization_id) as session:
        assert await session.scalar(select(func.count()).select_from(models.Equipment)) == 0
        assert await session.scalar(select(func.count()).select_from(models.InterventionTechnician)) == 1


async def test_hook_route_stops_are_a_technicians_appointments_of_the_day_with_coordinates(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client, latitude=45.75, longitude=4.85)
    day = dt.date(2030, 4, 10)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    morning = dt.datetime(2030, 4, 10, 8, tzinfo=paris)
    first = await intervention(org, client, place, kind, title="Matin", starts_at=morning)
    second = await intervention(org, client, place, kind, title="Après-midi", starts_at=morning.replace(hour=14))
    await intervention(org, client, place, kind, title="Lendemain", starts_at=morning + dt.timedelta(days=1))
    await intervention(org, client, place, kind, title="Collègue", starts_at=morning, technicians=("member2",))
    # when
    async with operation_context(org.state, org.viewer("manager")) as context:
        answers = context.pm.hook.route_stops(context=context, user_id=org.users["technician"].id, day=day)
        stops = [stop for answer in answers for stop in await answer]
    async with operation_context(org.state, org.viewer("technician")) as context:
        answers = context.pm.hook.route_stops(context=context, user_id=org.users["member2"].id, day=day)
        someone_elses = [stop for answer in answers for stop in await answer]
    # then
    mine = [stop for stop in stops if decode_id(stop.global_id)[0] == "Intervention"]  # activities may answer too
    assert [(stop.global_id, stop.latitude, stop.longitude, stop.fixed) for stop in mine] == [
        (first["id"], 45.75, 4.85, True), (second["id"], 45.75, 4.85, True),
    ]  # fmt: skip
    assert not [stop for stop in someone_elses if decode_id(stop.global_id)[0] == "Intervention"]


async def test_hook_intervention_customers_answers_for_its_organisation_only(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    mine = await intervention(org, client, await address(org, client), kind)
    other_client = await customer(other_org)
    theirs = await intervention(other_org, other_client, await address(other_org, other_client), await intervention_type(other_org))
    # when
    async with org.state.db.reader(org.organization_id) as session:
        answer = await org.state.pm.hook.intervention_customers(session=session, intervention_ids=[decode_id(mine["id"])[1], decode_id(theirs["id"])[1]])
    # then
    assert answer == {decode_id(mine["id"])[1]: decode_id(client)[1]}

"""Interventions (I1): creation with a gap-free number, bad inputs, role checks on planning,
reschedule / assign / cancel / archive with their notifications, tenant isolation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fiche.relay import encode_id
from tests.plugins.interventions.fixtures import INTERVENTION_FIELDS, address, create, customer, intervention, intervention_type, user_id
from tests.support import TestOrg

UPDATE = f"""
mutation ($input: InterventionUpdateInput!) {{
  interventionUpdate(input: $input) {{ intervention {{ {INTERVENTION_FIELDS} }} errors {{ code message path }} }}
}}
"""
RESCHEDULE = """
mutation ($id: ID!, $start: DateTime!, $end: DateTime) {
  interventionReschedule(id: $id, startsAt: $start, endsAt: $end) { intervention { id startsAt endsAt status } errors { code message path } }
}
"""
CANCEL = "mutation ($id: ID!) { interventionCancel(id: $id) { intervention { id startsAt status } errors { code message path } } }"
ASSIGN = """
mutation ($id: ID!, $ids: [ID!]!) {
  interventionAssign(id: $id, technicianIds: $ids) { intervention { id technicians { id } } errors { code message path } }
}
"""
ARCHIVE = "mutation ($id: ID!, $archived: Boolean!) { interventionArchive(id: $id, archived: $archived) { intervention { id archived } errors { code path } } }"
NODE = f"query ($id: ID!) {{ node(id: $id) {{ ... on Intervention {{ {INTERVENTION_FIELDS} }} }} }}"
INBOX = "{ notifications(first: 20) { edges { node { kind message subject { id } target { id } } } } }"
MEMO_SET = "mutation ($id: ID!, $body: String!) { customerMemoSet(customerId: $id, body: $body) { errors { code } } }"


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["path"]) for error in payload["errors"]]


async def setting(org: TestOrg) -> tuple[str, str, str]:
    client = await customer(org)
    return client, await address(org, client), await intervention_type(org)


async def kinds_of(org: TestOrg, who: str) -> list[str]:
    data = await org.ok(INBOX, as_=who)
    return [edge["node"]["kind"] for edge in data["notifications"]["edges"]]


async def test_a_manager_plans_an_intervention_for_a_technician(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    await org.ok(MEMO_SET, {"id": client, "body": "Digicode 1234, chien méchant"})
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).replace(microsecond=0)
    # when
    created = await intervention(org, client, place, kind, starts_at=start, toInvoice=True)
    # then
    assert (created["number"], created["status"], created["toInvoice"], created["invoiceId"]) == (1, "UPCOMING", True, None)
    assert (created["customer"]["id"], created["address"]["id"], created["type"]["id"]) == (client, place, kind)
    assert [user["id"] for user in created["technicians"]] == [user_id(org, "technician")]
    assert created["customerMemo"] == "Digicode 1234, chien méchant"
    assert dt.datetime.fromisoformat(created["startsAt"]) == start
    assert await kinds_of(org, "technician") == ["INTERVENTION_ASSIGNED"]


async def test_numbers_follow_each_other_and_unscheduled_is_a_status(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    # when
    created = [await intervention(org, client, place, kind) for _ in range(3)]
    # then
    assert [(item["number"], item["status"], item["startsAt"]) for item in created] == [(n, "UNSCHEDULED", None) for n in (1, 2, 3)]


async def test_bad_inputs_are_typed_errors(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    someone_else = await customer(org, "Autre client")
    their_address = await address(org, someone_else)
    foreign_client = await customer(other_org)
    foreign_address = await address(other_org, foreign_client)
    start = dt.datetime(2030, 5, 4, 9, tzinfo=dt.UTC)
    base = {"title": "Réparation", "typeId": kind, "customerId": client, "addressId": place}
    cases = [
        ({"startsAt": start.isoformat(), "endsAt": (start - dt.timedelta(hours=1)).isoformat()}, ("INVALID", ["input", "endsAt"])),
        ({"endsAt": start.isoformat()}, ("INVALID", ["input", "startsAt"])),
        ({"technicianIds": [encode_id("User", other_org.users["technician"].id)]}, ("NOT_FOUND", ["input", "technicianIds", "0"])),
        ({"addressId": their_address}, ("INVALID", ["input", "addressId"])),
        ({"addressId": foreign_address}, ("NOT_FOUND", ["input", "addressId"])),
        ({"customerId": foreign_client}, ("NOT_FOUND", ["input", "customerId"])),
        ({"title": "   "}, ("INVALID", ["input", "title"])),
        ({"typeId": "nonsense"}, ("INVALID", ["input", "typeId"])),
    ]
    for change, expected in cases:
        # when
        payload = await create(org, {**base, **change})
        # then
        assert (payload["intervention"], errors(payload)) == (None, [expected]), change
    # nothing half-written: the next number is still 1
    assert (await intervention(org, client, place, kind))["number"] == 1


async def test_only_managers_and_admins_plan(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    created = await intervention(org, client, place, kind)
    values = {"title": "X", "typeId": kind, "customerId": client, "addressId": place}
    # when / then
    for who in ("member", "technician"):
        assert errors(await create(org, values, as_=who)) == [("FORBIDDEN", [])]
    start = dt.datetime(2030, 1, 2, 8, tzinfo=dt.UTC).isoformat()
    moved = (await org.ok(RESCHEDULE, {"id": created["id"], "start": start}, as_="technician"))["interventionReschedule"]
    assert errors(moved) == [("FORBIDDEN", [])]


async def test_reschedule_cancel_and_reassign_notify_the_technicians(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    created = await intervention(org, client, place, kind, starts_at=dt.datetime(2030, 1, 2, 8, tzinfo=dt.UTC))
    # when
    moved = (await org.ok(RESCHEDULE, {"id": created["id"], "start": "2030-01-03T08:00:00Z", "end": "2030-01-03T10:00:00Z"}, as_="manager"))
    cancelled = (await org.ok(CANCEL, {"id": created["id"]}, as_="manager"))["interventionCancel"]
    assigned = (await org.ok(ASSIGN, {"id": created["id"], "ids": [user_id(org, "member2"), user_id(org, "technician")]}, as_="manager"))
    # then
    assert moved["interventionReschedule"]["intervention"]["status"] == "UPCOMING"
    assert (cancelled["intervention"]["startsAt"], cancelled["intervention"]["status"]) == (None, "UNSCHEDULED")
    assert {user["id"] for user in assigned["interventionAssign"]["intervention"]["technicians"]} == {user_id(org, "member2"), user_id(org, "technician")}
    assert sorted(await kinds_of(org, "technician")) == ["INTERVENTION_ASSIGNED", "INTERVENTION_CANCELLED", "INTERVENTION_RESCHEDULED"]
    assert await kinds_of(org, "member2") == ["INTERVENTION_ASSIGNED"]


async def test_reschedule_refuses_an_end_before_the_start(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    created = await intervention(org, client, place, kind)
    # when
    payload = (await org.ok(RESCHEDULE, {"id": created["id"], "start": "2030-01-03T08:00:00Z", "end": "2030-01-03T07:00:00Z"}, as_="manager"))
    # then
    assert errors(payload["interventionReschedule"]) == [("INVALID", ["endsAt"])]


async def test_technicians_see_only_their_own_interventions(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    mine = await intervention(org, client, place, kind)
    theirs = await intervention(org, client, place, kind, technicians=("member2",))
    # when
    seen = [(await org.ok(NODE, {"id": item["id"]}, as_="technician"))["node"] for item in (mine, theirs)]
    # then
    assert seen[0]["id"] == mine["id"] and seen[1] is None
    assert (await org.ok(NODE, {"id": theirs["id"]}, as_="member"))["node"]["id"] == theirs["id"]


async def test_another_organisations_ids_behave_like_missing_ones(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client, place, kind = await setting(other_org)
    foreign = await intervention(other_org, client, place, kind)
    # when
    node = await org.ok(NODE, {"id": foreign["id"]})
    archive = (await org.ok(ARCHIVE, {"id": foreign["id"], "archived": True}))["interventionArchive"]
    update = (await org.ok(UPDATE, {"input": {"id": foreign["id"], "title": "Hijack"}}))["interventionUpdate"]
    type_node = await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": kind})
    # then
    assert node["node"] is None and type_node["node"] is None
    assert errors(archive) == [("NOT_FOUND", ["id"])]
    assert errors(update) == [("NOT_FOUND", ["input", "id"])]


async def test_update_checks_the_address_of_the_same_customer(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    created = await intervention(org, client, place, kind)
    second = await address(org, client, line1="2 rue de la République")
    foreign = await address(org, await customer(org, "Autre"))
    # when
    moved = (await org.ok(UPDATE, {"input": {"id": created["id"], "addressId": second, "title": "Détartrage"}}))["interventionUpdate"]
    refused = (await org.ok(UPDATE, {"input": {"id": created["id"], "addressId": foreign}}))["interventionUpdate"]
    # then
    assert (moved["intervention"]["address"]["id"], moved["intervention"]["title"]) == (second, "Détartrage")
    assert errors(refused) == [("INVALID", ["input", "addressId"])]


async def test_a_technician_taken_off_an_intervention_no_longer_reads_its_notifications(org: TestOrg) -> None:
    # given
    client, place, kind = await setting(org)
    created = await intervention(org, client, place, kind, title="Remplacement compteur")
    before = await org.ok(INBOX, as_="technician")
    # when
    await org.ok(ASSIGN, {"id": created["id"], "ids": [user_id(org, "member2")]}, as_="manager")
    after = await org.ok(INBOX, as_="technician")
    # then
    (seen,) = [edge["node"] for edge in before["notifications"]["edges"]]
    (hidden,) = [edge["node"] for edge in after["notifications"]["edges"]]
    assert (seen["subject"], "Remplacement compteur" in seen["message"]) == ({"id": created["id"]}, True)
    assert (hidden["kind"], hidden["subject"], hidden["target"], "Remplacement compteur" in hidden["message"]) == ("INTERVENTION_ASSIGNED", None, None, False)

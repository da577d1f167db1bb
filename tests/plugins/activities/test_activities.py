"""Activities (A2): creation with quick time entry, defaults (assignee, team, contact),
sanitised descriptions, role checks on create / update / delete, tenant isolation, and
what customer merges and deletions do to them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from fiche.plugins.activities import models
from tests.plugins.activities.fixtures import ACTIVITY_CREATE, ACTIVITY_FIELDS, activity, ago, contact, customer, iso, type_ids
from tests.support import TestOrg

ACTIVITY_UPDATE = f"""
mutation ($input: ActivityUpdateInput!) {{
  activityUpdate(input: $input) {{ activity {{ {ACTIVITY_FIELDS} }} errors {{ code message path }} }}
}}
"""
ACTIVITY_DELETE = "mutation ($id: ID!) { activityDelete(id: $id) { deletedId errors { code message path } } }"
NODE = f"query ($id: ID!) {{ node(id: $id) {{ ... on Activity {{ {ACTIVITY_FIELDS} canEdit createdBy {{ name }} }} }} }}"
MERGE = "mutation ($keep: ID!, $dup: ID!) { customerMerge(keepId: $keep, duplicateId: $dup) { errors { code message } } }"
CUSTOMER_DELETE = "mutation ($id: ID!) { customerDelete(id: $id) { errors { code message } } }"


async def create(org: TestOrg, values: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    types = await type_ids(org)
    values = {"typeId": types["visit"], **values}
    return dict((await org.ok(ACTIVITY_CREATE, {"input": values}, as_=as_))["activityCreate"])


def codes(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["path"]) for error in payload["errors"]]


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_member_records_an_activity_for_themselves(org: TestOrg) -> None:
    # given
    location = await customer(org)
    start = ago(hours=2).replace(microsecond=0)
    # when
    payload = await create(org, {"locationId": location, "startsAt": iso(start), "endsAt": iso(start + dt.timedelta(hours=1))}, as_="member")
    # then
    created = payload["activity"]
    assert payload["errors"] == []
    assert (created["type"]["code"], created["location"]["id"], created["assignee"]["id"]) == ("visit", location, org_user_id(org, "member"))
    assert (parse(created["startsAt"]), parse(created["endsAt"]), created["gpsStatus"], created["hasReports"]) == (
        start, start + dt.timedelta(hours=1), "NOT_VERIFIED", False,
    )  # fmt: skip


def org_user_id(org: TestOrg, who: str) -> str:
    from fiche.relay import encode_id

    return encode_id("User", org.users[who].id)


async def test_starts_now_with_a_30_minute_preset(org: TestOrg) -> None:
    # given
    location = await customer(org)
    before = dt.datetime.now(dt.UTC)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "durationMinutes": 30})
    # then
    start, end = parse(payload["activity"]["startsAt"]), parse(payload["activity"]["endsAt"])
    assert before - dt.timedelta(seconds=1) <= start <= dt.datetime.now(dt.UTC) and end - start == dt.timedelta(minutes=30)


async def test_duration_that_is_not_a_preset_is_refused(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "durationMinutes": 20})
    # then
    assert payload["activity"] is None and codes(payload) == [("INVALID", ["input", "durationMinutes"])]


async def test_end_before_start_is_refused(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    payload = await create(org, {"locationId": location, "startsAt": iso(ago(hours=1)), "endsAt": iso(ago(hours=2))})
    # then
    assert codes(payload) == [("INVALID", ["input", "endsAt"])]


async def test_contact_defaults_to_the_preferred_contact_of_the_location(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await contact(org, location, "Other")
    preferred = await contact(org, location, "Anne Achat", preferred=True)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True})
    # then
    assert payload["activity"]["contact"] == {"id": preferred}


async def test_contact_of_another_location_is_refused(org: TestOrg) -> None:
    # given
    location, elsewhere = await customer(org, "A"), await customer(org, "B")
    stranger = await contact(org, elsewhere)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "contactId": stranger})
    # then
    assert codes(payload) == [("INVALID", ["input", "contactId"])]


async def test_unknown_location_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await customer(other_org)
    # when
    payload = await create(org, {"locationId": foreign, "startsNow": True})
    # then
    assert codes(payload) == [("NOT_FOUND", ["input", "locationId"])]


async def test_team_defaults_to_the_assignees_only_team(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True}, as_="member2")
    # then
    assert payload["activity"]["team"]["name"] == "South"


async def test_manager_assigns_an_activity_to_a_member(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "assigneeId": org_user_id(org, "member")}, as_="manager")
    # then
    assert payload["activity"]["assignee"]["id"] == org_user_id(org, "member")


async def test_member_cannot_assign_an_activity_to_someone_else(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "assigneeId": org_user_id(org, "member2")}, as_="member")
    # then
    assert codes(payload) == [("FORBIDDEN", ["input", "assigneeId"])]


async def test_description_is_sanitised(org: TestOrg) -> None:
    # given
    location = await customer(org)
    html = '<p>Met the <strong>buyer</strong><script>steal()</script><img src="x" onerror="alert(1)"></p>'
    # when
    payload = await create(org, {"locationId": location, "startsNow": True, "description": html})
    # then
    assert payload["activity"]["description"] == "<p>Met the <strong>buyer</strong></p>"


async def test_archived_type_cannot_be_used(org: TestOrg) -> None:
    # given
    location = await customer(org)
    custom = (await org.ok(
        "mutation { activityTypeCreate(input: {name: \"Old\", icon: \"x\", colour: \"#000000\"}) { activityType { id } } }"
    ))["activityTypeCreate"]["activityType"]["id"]  # fmt: skip
    await org.ok("mutation ($id: ID!) { activityTypeUpdate(input: {id: $id, archived: true}) { errors { code } } }", {"id": custom})
    # when
    payload = await create(org, {"typeId": custom, "locationId": location, "startsNow": True})
    # then
    assert codes(payload) == [("INVALID", ["input", "typeId"])]


async def test_assignee_updates_the_description_and_moves_the_activity(org: TestOrg) -> None:
    # given
    location = await customer(org)
    start = ago(hours=3)
    created = await activity(org, location, starts_at=start, ends_at=start + dt.timedelta(hours=1), as_="member")
    new_start = ago(hours=-24).replace(microsecond=0)
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "startsAt": iso(new_start), "description": "<em>moved</em>"}}, as_="member"))["activityUpdate"]
    # then
    updated = payload["activity"]
    assert payload["errors"] == [] and updated["description"] == "<em>moved</em>"
    assert (parse(updated["startsAt"]), parse(updated["endsAt"])) == (new_start, new_start + dt.timedelta(hours=1))


async def test_update_can_clear_the_contact(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await contact(org, location, preferred=True)
    created = await activity(org, location)
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "contactId": None}}))["activityUpdate"]
    # then
    assert created["contact"] is not None and payload["activity"]["contact"] is None


async def test_moving_to_another_location_takes_its_preferred_contact(org: TestOrg) -> None:
    # given
    first, second = await customer(org, "A"), await customer(org, "B")
    await contact(org, first, preferred=True)
    theirs = await contact(org, second, preferred=True)
    created = await activity(org, first)
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "locationId": second}}))["activityUpdate"]
    # then
    assert payload["activity"]["location"] == {"id": second} and payload["activity"]["contact"] == {"id": theirs}


async def test_another_member_cannot_update_the_activity(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "description": "mine"}}, as_="member2"))["activityUpdate"]
    # then
    assert payload["activity"] is None and [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]


async def test_manager_updates_any_activity(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member2")
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "endsNow": True}}, as_="manager"))["activityUpdate"]
    # then
    assert payload["errors"] == []


async def test_member_cannot_reassign_their_activity_to_someone_else(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = (await org.ok(ACTIVITY_UPDATE, {"input": {"id": created["id"], "assigneeId": org_user_id(org, "member2")}}, as_="member"))["activityUpdate"]
    # then
    assert codes(payload) == [("FORBIDDEN", ["input", "assigneeId"])]


async def test_creator_deletes_the_activity(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = (await org.ok(ACTIVITY_DELETE, {"id": created["id"]}, as_="member"))["activityDelete"]
    # then
    assert payload == {"deletedId": created["id"], "errors": []}
    assert (await org.ok(NODE, {"id": created["id"]}))["node"] is None


async def test_another_member_cannot_delete_the_activity(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    payload = (await org.ok(ACTIVITY_DELETE, {"id": created["id"]}, as_="technician"))["activityDelete"]
    # then
    assert [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]
    assert (await org.ok(NODE, {"id": created["id"]}))["node"] is not None


async def test_activity_of_another_organisation_is_invisible_and_untouchable(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await activity(other_org, await customer(other_org))
    # when
    seen = (await org.ok(NODE, {"id": theirs["id"]}))["node"]
    payload = (await org.ok(ACTIVITY_DELETE, {"id": theirs["id"]}))["activityDelete"]
    # then
    assert seen is None and [error["code"] for error in payload["errors"]] == ["NOT_FOUND"]


async def test_can_edit_tells_the_viewer_what_they_may_do(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org), as_="member")
    # when
    mine = (await org.ok(NODE, {"id": created["id"]}, as_="member"))["node"]["canEdit"]
    theirs = (await org.ok(NODE, {"id": created["id"]}, as_="member2"))["node"]["canEdit"]
    # then
    assert (mine, theirs) == (True, False)


async def test_merging_customers_moves_the_duplicates_activities(org: TestOrg) -> None:
    # given
    keep, duplicate = await customer(org, "Keep"), await customer(org, "Duplicate")
    moved = await activity(org, duplicate)
    # when
    result = (await org.ok(MERGE, {"keep": keep, "dup": duplicate}))["customerMerge"]
    # then
    assert result["errors"] == []
    assert (await org.ok(NODE, {"id": moved["id"]}))["node"]["location"] == {"id": keep}


async def test_deleting_a_customer_deletes_its_activities_and_their_rows(org: TestOrg) -> None:
    # given
    location, other = await customer(org, "Gone"), await customer(org, "Stays")
    doomed = await activity(org, location)
    kept = await activity(org, other)
    # when
    result = (await org.ok(CUSTOMER_DELETE, {"id": location}))["customerDelete"]
    # then
    assert result["errors"] == []
    assert (await org.ok(NODE, {"id": doomed["id"]}))["node"] is None
    assert (await org.ok(NODE, {"id": kept["id"]}))["node"] is not None
    async with org.state.db.reader(org.organization_id) as session:
        assert await session.scalar(select(func.count()).select_from(models.Activity)) == 1

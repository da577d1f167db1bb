"""Who may do what with someone else's activity (docs/activities-rules.md): follow-up
tasks by its assignee, creator, a manager or an admin; teams one belongs to (any team for
managers and admins)."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from tests.plugins.activities.fixtures import ACTIVITY_CREATE, activity, customer, type_ids
from tests.support import TestOrg

FOLLOW_UP = """
mutation ($input: ActivityFollowUpInput!) {
  activityCreateFollowUpTask(input: $input) { task { id } errors { code message path } }
}
"""
UPDATE = """
mutation ($input: ActivityUpdateInput!) { activityUpdate(input: $input) { activity { team { name } } errors { code path } } }
"""


def team(org: TestOrg, name: str) -> str:
    return encode_id("Team", org.teams[name].id)


async def follow_up(org: TestOrg, activity_id: str, as_: str) -> dict[str, Any]:
    return dict((await org.ok(FOLLOW_UP, {"input": {"activityId": activity_id}}, as_=as_))["activityCreateFollowUpTask"])


async def test_a_colleague_cannot_create_a_follow_up_task_from_your_activity(org: TestOrg) -> None:
    # given
    visit = await activity(org, await customer(org), as_="member")
    # when
    payload = await follow_up(org, visit["id"], as_="member2")
    # then
    assert payload["task"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("FORBIDDEN", ["input", "activityId"])]


async def test_the_assignee_and_a_manager_create_follow_up_tasks(org: TestOrg) -> None:
    # given: the admin created a visit and assigned it to member
    visit = await activity(org, await customer(org), assigneeId=encode_id("User", org.users["member"].id))
    # when
    assignee = await follow_up(org, visit["id"], as_="member")
    manager = await follow_up(org, visit["id"], as_="manager")
    # then
    assert assignee["errors"] == [] and manager["errors"] == [] and assignee["task"] and manager["task"]


async def test_a_member_cannot_set_a_team_they_are_not_in(org: TestOrg) -> None:
    # given: member is in North, not in South
    location = await customer(org)
    values = {"typeId": (await type_ids(org))["visit"], "locationId": location, "startsNow": True, "teamId": team(org, "south")}
    # when
    payload = (await org.ok(ACTIVITY_CREATE, {"input": values}, as_="member"))["activityCreate"]
    # then
    assert payload["activity"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("FORBIDDEN", ["input", "teamId"])]


async def test_a_member_sets_their_own_team_and_a_manager_any_team(org: TestOrg) -> None:
    # given
    visit = await activity(org, await customer(org), as_="member", teamId=team(org, "north"))
    # when
    refused = (await org.ok(UPDATE, {"input": {"id": visit["id"], "teamId": team(org, "south")}}, as_="member"))["activityUpdate"]
    moved = (await org.ok(UPDATE, {"input": {"id": visit["id"], "teamId": team(org, "south")}}, as_="manager"))["activityUpdate"]
    # then
    assert visit["team"]["name"] == "North" and [(e["code"], e["path"]) for e in refused["errors"]] == [("FORBIDDEN", ["input", "teamId"])]
    assert moved == {"activity": {"team": {"name": "South"}}, "errors": []}


async def test_a_member_keeps_a_team_set_by_a_manager_when_changing_something_else(org: TestOrg) -> None:
    # given: a manager put member's visit in South
    visit = await activity(org, await customer(org), as_="member")
    await org.ok(UPDATE, {"input": {"id": visit["id"], "teamId": team(org, "south")}}, as_="manager")
    # when
    payload = (await org.ok(UPDATE, {"input": {"id": visit["id"], "teamId": team(org, "south"), "durationMinutes": 30}}, as_="member"))["activityUpdate"]
    # then
    assert payload == {"activity": {"team": {"name": "South"}}, "errors": []}

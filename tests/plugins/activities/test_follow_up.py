"""Follow-up tasks (A9): created from an activity through the gateway's ``create_task``
hook (the notes plugin answers it), targeted at the activity's customer; a clear error
when no installed plugin provides tasks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from fiche.relay import encode_id
from fiche.settings import Settings
from tests.plugins.activities.fixtures import activity, ago, customer, iso
from tests.support import TestOrg

FOLLOW_UP = """
mutation ($input: ActivityFollowUpInput!) {
  activityCreateFollowUpTask(input: $input) {
    task { id ... on Note { body isTask dueAt assignee { id } author { id } target { id } } }
    activity { id }
    errors { code message path }
  }
}
"""


async def follow_up(org: TestOrg, values: dict[str, Any], as_: str = "admin") -> dict[str, Any]:
    return dict((await org.ok(FOLLOW_UP, {"input": values}, as_=as_))["activityCreateFollowUpTask"])


async def test_follow_up_task_targets_the_activitys_customer_and_is_yours_by_default(org: TestOrg) -> None:
    # given
    location = await customer(org)
    start = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    created = await activity(org, location, type="meeting", starts_at=start, as_="member")
    # when
    payload = await follow_up(org, {"activityId": created["id"]}, as_="member")
    # then
    task = payload["task"]
    member = encode_id("User", org.users["member"].id)
    assert payload["errors"] == [] and payload["activity"] == {"id": created["id"]}
    assert (task["isTask"], task["body"], task["assignee"]["id"], task["author"]["id"], task["target"]["id"]) == (
        True, "Follow-up: Meeting of 2026-03-02", member, member, location,
    )  # fmt: skip


async def test_follow_up_with_a_body_an_assignee_and_a_due_date(org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org))
    due = ago(days=-3).replace(microsecond=0)
    assignee = encode_id("User", org.users["member2"].id)
    # when
    payload = await follow_up(org, {"activityId": created["id"], "body": "Send the quote", "assigneeId": assignee, "dueAt": iso(due)})
    # then
    task = payload["task"]
    assert (task["body"], task["assignee"]["id"], dt.datetime.fromisoformat(task["dueAt"])) == ("Send the quote", assignee, due)


async def test_follow_up_of_a_branch_activity_targets_the_branch(org: TestOrg) -> None:
    # given
    branch = await customer(org, "Branch", parent=await customer(org, "Main"))
    created = await activity(org, branch)
    # when
    payload = await follow_up(org, {"activityId": created["id"]})
    # then
    assert payload["task"]["target"]["id"] == branch


async def test_follow_up_of_an_unknown_activity_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = await activity(other_org, await customer(other_org))
    # when
    payload = await follow_up(org, {"activityId": theirs["id"]})
    # then
    assert payload["task"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "activityId"])]


async def test_the_task_plugins_refusal_is_returned_in_the_payload(org: TestOrg, other_org: TestOrg) -> None:
    # given
    created = await activity(org, await customer(org))
    stranger = encode_id("User", other_org.users["member"].id)
    # when
    payload = await follow_up(org, {"activityId": created["id"], "assigneeId": stranger})
    # then
    assert payload["task"] is None and [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]


class TestWithoutTheNotesPlugin:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, disabled_plugins=("notes",))

    async def test_follow_up_gives_a_clear_error(self, org: TestOrg) -> None:
        # given
        created = await activity(org, await customer(org))
        # when
        result = await org.gql(
            "mutation ($id: ID!) { activityCreateFollowUpTask(input: {activityId: $id}) { task { id } errors { code message } } }",
            {"id": created["id"]},
        )
        # then
        payload = result.data["activityCreateFollowUpTask"]
        assert payload["task"] is None and [e["code"] for e in payload["errors"]] == ["CONFLICT"]
        assert "notes plugin" in payload["errors"][0]["message"]

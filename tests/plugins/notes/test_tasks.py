"""Tasks (N6): creation, completion, reopening, reassignment, the viewer's task list, and
who is notified of each (TASK_ASSIGNED / TASK_REASSIGNED / TASK_COMPLETED), exactly once."""

from __future__ import annotations

import datetime as dt

from fiche.relay import encode_id
from tests.plugins.notes.support import (
    NOTE_FIELDS,
    NOTE_UPDATE,
    add_note,
    add_task,
    create_customer,
    inbox,
    inboxes,
    kinds,
    nobody_but,
    task_create,
    user_id,
)
from tests.support import TestOrg

COMPLETE = f"mutation($id: ID!) {{ taskComplete(id: $id) {{ task {{ {NOTE_FIELDS} }} errors {{ code message path }} }} }}"
REOPEN = f"mutation($id: ID!) {{ taskReopen(id: $id) {{ task {{ {NOTE_FIELDS} }} errors {{ code message path }} }} }}"
REASSIGN = f"""
mutation($id: ID!, $assigneeId: ID!) {{
  taskReassign(id: $id, assigneeId: $assigneeId) {{ task {{ {NOTE_FIELDS} }} errors {{ code message path }} }}
}}
"""
MY_TASKS = """
query($filter: TaskFilter, $first: Int, $after: String) {
  viewer { tasks(filter: $filter, first: $first, after: $after) {
    edges { node { body isDone isOverdue } } pageInfo { hasNextPage endCursor }
  } }
}
"""
PREFERENCE = """
mutation($kind: String!, $enabled: Boolean!) { notificationPreferenceSet(kind: $kind, enabled: $enabled) { errors { code } } }
"""


def days(n: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(days=n)).isoformat()


async def my_tasks(org: TestOrg, who: str, **variables: object) -> list[str]:
    data = await org.ok(MY_TASKS, variables, as_=who)
    return [edge["node"]["body"] for edge in data["viewer"]["tasks"]["edges"]]


# -- creation ------------------------------------------------------------------------------


async def test_a_task_is_a_note_with_an_assignee_and_a_due_date(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    due = days(3)
    # when
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"), targetId=customer, dueAt=due)
    # then
    assert task["isTask"] is True
    assert task["assignee"] == {"handle": "member"}
    assert task["author"] == {"handle": "manager"}
    assert task["target"] == {"id": customer}
    assert dt.datetime.fromisoformat(task["dueAt"]) == dt.datetime.fromisoformat(due)
    assert (task["isDone"], task["isOverdue"]) == (False, False)


async def test_the_assignee_is_notified_of_a_task(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"), targetId=customer)
    # then
    [notification] = await inbox(org, "member")
    assert (notification["kind"], notification["subject"], notification["target"]) == ("TASK_ASSIGNED", task["id"], customer)
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"]}, org)


async def test_a_task_without_assignee_is_yours_and_notifies_nobody(org: TestOrg) -> None:
    # when
    task = await add_task(org, "Pour moi", as_="member")
    # then
    assert task["assignee"] == {"handle": "member"}
    assert await inboxes(org) == nobody_but({}, org)


async def test_a_self_assigned_task_notifies_nobody(org: TestOrg) -> None:
    # when
    await add_task(org, "Pour moi", as_="member", assigneeId=user_id(org, "member"))
    # then
    assert await inboxes(org) == nobody_but({}, org)


async def test_an_assignee_who_is_also_mentioned_gets_one_notification(org: TestOrg) -> None:
    # when
    await add_task(org, "@member rappelle-le, merci @member2", as_="manager", assigneeId=user_id(org, "member"))
    # then
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"], "member2": ["MENTION"]}, org)


async def test_task_assigned_honours_the_preference(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE, {"kind": "TASK_ASSIGNED", "enabled": False}, as_="member")
    # when
    await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # then
    assert await inbox(org, "member") == []


async def test_assigning_to_a_user_of_another_organisation_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # when
    payload = await task_create(org, "Rappeler", assigneeId=user_id(other_org, "member"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "assigneeId"])]
    assert await inbox(other_org, "member") == []


async def test_assigning_to_a_deactivated_user_is_invalid(org: TestOrg) -> None:
    # given
    await org.ok(
        "mutation($input: UserUpdateInput!) { userUpdate(input: $input) { errors { code } } }",
        {"input": {"id": user_id(org, "member2"), "isActive": False}},
    )
    # when
    payload = await task_create(org, "Rappeler", assigneeId=user_id(org, "member2"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "assigneeId"])]


async def test_an_assignee_id_that_is_not_a_user_is_invalid(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    payload = await task_create(org, "Rappeler", assigneeId=customer)
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "assigneeId"])]


async def test_a_due_date_without_time_zone_is_invalid(org: TestOrg) -> None:
    # when
    payload = await task_create(org, "Rappeler", dueAt="2030-01-02T09:00:00")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "dueAt"])]


async def test_a_task_with_an_empty_body_is_invalid(org: TestOrg) -> None:
    # when
    payload = await task_create(org, " ", assigneeId=user_id(org, "member"))
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "body"])]
    assert await inbox(org, "member") == []


# -- completion ----------------------------------------------------------------------------


async def test_completing_a_task_notifies_whoever_assigned_it(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    data = await org.ok(COMPLETE, {"id": task["id"]}, as_="member")
    # then
    done = data["taskComplete"]["task"]
    assert (done["isDone"], done["completedBy"]) == (True, {"handle": "member"})
    [notification] = await inbox(org, "manager")
    assert (notification["kind"], notification["subject"], notification["actor"]) == ("TASK_COMPLETED", task["id"], "member")
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"], "manager": ["TASK_COMPLETED"]}, org)


async def test_completing_a_task_you_assigned_notifies_nobody(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(COMPLETE, {"id": task["id"]}, as_="manager")
    # then
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"]}, org)


async def test_task_completed_honours_the_preference(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE, {"kind": "TASK_COMPLETED", "enabled": False}, as_="manager")
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(COMPLETE, {"id": task["id"]}, as_="member")
    # then
    assert await inbox(org, "manager") == []


async def test_completing_twice_is_a_conflict(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    await org.ok(COMPLETE, {"id": task["id"]}, as_="member")
    # when
    data = await org.ok(COMPLETE, {"id": task["id"]}, as_="member")
    # then
    assert [e["code"] for e in data["taskComplete"]["errors"]] == ["CONFLICT"]
    assert await kinds_of(org, "manager") == ["TASK_COMPLETED"]


async def test_a_plain_note_cannot_be_completed(org: TestOrg) -> None:
    # given
    note = await add_note(org, "juste une note")
    # when
    data = await org.ok(COMPLETE, {"id": note["id"]})
    # then
    assert [(e["code"], e["path"]) for e in data["taskComplete"]["errors"]] == [("INVALID", ["id"])]


async def test_a_colleague_cannot_complete_someone_elses_task(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    data = await org.ok(COMPLETE, {"id": task["id"]}, as_="member2")
    # then
    assert [e["code"] for e in data["taskComplete"]["errors"]] == ["FORBIDDEN"]


async def test_reopening_a_task_makes_it_open_again(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    await org.ok(COMPLETE, {"id": task["id"]}, as_="member")
    # when
    data = await org.ok(REOPEN, {"id": task["id"]}, as_="member")
    # then
    reopened = data["taskReopen"]["task"]
    assert (reopened["isDone"], reopened["completedAt"], reopened["completedBy"]) == (False, None, None)


async def test_reopening_an_open_task_is_a_conflict(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="member")
    # when
    data = await org.ok(REOPEN, {"id": task["id"]}, as_="member")
    # then
    assert [e["code"] for e in data["taskReopen"]["errors"]] == ["CONFLICT"]


# -- reassignment --------------------------------------------------------------------------


async def test_reassigning_notifies_the_new_assignee_and_the_assigner(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    data = await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "member2")}, as_="member")
    # then
    assert data["taskReassign"]["task"]["assignee"] == {"handle": "member2"}
    expected = {"member": ["TASK_ASSIGNED"], "member2": ["TASK_REASSIGNED"], "manager": ["TASK_REASSIGNED"]}
    assert await inboxes(org) == nobody_but(expected, org)
    [to_manager] = await inbox(org, "manager")
    assert "Member2 Test" in to_manager["message"] and to_manager["subject"] == task["id"]


async def test_reassigning_your_own_assignment_notifies_the_new_and_the_previous_assignee(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "member2")}, as_="manager")
    # then
    expected = {"member": ["TASK_REASSIGNED", "TASK_ASSIGNED"], "member2": ["TASK_REASSIGNED"]}
    assert await inboxes(org) == nobody_but(expected, org)
    to_previous = (await inbox(org, "member"))[0]
    assert to_previous["message"] == "Manager Test reassigned a task you held to Member2 Test: “Rappeler”"
    assert to_previous["subject"] == task["id"]


async def test_a_previous_assignee_who_can_no_longer_read_the_task_hears_nothing(org: TestOrg) -> None:
    # given: a task for managers only, held by member (an assignee always reads it)
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"), visibility="MANAGERS")
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "admin")}, as_="manager")
    # then
    assert await kinds(org, "member") == ["TASK_ASSIGNED"]


async def test_reassigning_back_to_the_assigner_notifies_them_once(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "manager")}, as_="member")
    # then
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"], "manager": ["TASK_REASSIGNED"]}, org)


async def test_reassigning_to_the_current_assignee_is_a_conflict(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    data = await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "member")}, as_="manager")
    # then
    assert [(e["code"], e["path"]) for e in data["taskReassign"]["errors"]] == [("CONFLICT", ["assigneeId"])]


async def test_reassigning_to_another_organisations_user_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    data = await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(other_org, "member2")}, as_="manager")
    # then
    assert [(e["code"], e["path"]) for e in data["taskReassign"]["errors"]] == [("NOT_FOUND", ["assigneeId"])]


async def test_task_reassigned_honours_the_preference(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE, {"kind": "TASK_REASSIGNED", "enabled": False}, as_="member2")
    task = await add_task(org, "Rappeler", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "member2")}, as_="manager")
    # then
    assert await inbox(org, "member2") == []


# -- the viewer's tasks --------------------------------------------------------------------


async def test_viewer_tasks_lists_tasks_assigned_to_me_newest_first(org: TestOrg) -> None:
    # given
    await add_task(org, "a", assigneeId=user_id(org, "member"))
    await add_task(org, "pas pour moi", assigneeId=user_id(org, "member2"))
    await add_note(org, "une note")
    await add_task(org, "b", assigneeId=user_id(org, "member"))
    # when
    bodies = await my_tasks(org, "member")
    # then
    assert bodies == ["b", "a"]


async def test_viewer_tasks_filters_open_ones_soonest_due_first_undated_last(org: TestOrg) -> None:
    # given
    me = user_id(org, "member")
    await add_task(org, "undated", assigneeId=me)
    await add_task(org, "later", assigneeId=me, dueAt=days(5))
    await add_task(org, "soon", assigneeId=me, dueAt=days(1))
    done = await add_task(org, "done", assigneeId=me, dueAt=days(2))
    await org.ok(COMPLETE, {"id": done["id"]}, as_="member")
    # when
    bodies = await my_tasks(org, "member", filter={"status": "OPEN"})
    # then
    assert bodies == ["soon", "later", "undated"]


async def test_viewer_tasks_open_pages_continue_past_undated_tasks(org: TestOrg) -> None:
    # given
    me = user_id(org, "member")
    for body, due in (("u1", None), ("d1", days(1)), ("u2", None), ("d2", days(2))):
        await add_task(org, body, assigneeId=me, dueAt=due)
    data = await org.ok(MY_TASKS, {"filter": {"status": "OPEN"}, "first": 3}, as_="member")
    cursor = data["viewer"]["tasks"]["pageInfo"]["endCursor"]
    # when
    rest = await my_tasks(org, "member", filter={"status": "OPEN"}, first=3, after=cursor)
    # then
    assert [edge["node"]["body"] for edge in data["viewer"]["tasks"]["edges"]] == ["d1", "d2", "u1"]
    assert rest == ["u2"]


async def test_viewer_tasks_filters_overdue_ones(org: TestOrg) -> None:
    # given
    me = user_id(org, "member")
    await add_task(org, "late", assigneeId=me, dueAt=days(-2))
    await add_task(org, "later", assigneeId=me, dueAt=days(2))
    done_late = await add_task(org, "done late", assigneeId=me, dueAt=days(-1))
    await org.ok(COMPLETE, {"id": done_late["id"]}, as_="member")
    # when
    data = await org.ok(MY_TASKS, {"filter": {"status": "OVERDUE"}}, as_="member")
    # then
    assert [edge["node"] for edge in data["viewer"]["tasks"]["edges"]] == [{"body": "late", "isDone": False, "isOverdue": True}]


async def test_viewer_tasks_filters_done_ones_latest_first(org: TestOrg) -> None:
    # given
    me = user_id(org, "member")
    first = await add_task(org, "first done", assigneeId=me)
    second = await add_task(org, "second done", assigneeId=me)
    await add_task(org, "open", assigneeId=me)
    await org.ok(COMPLETE, {"id": first["id"]}, as_="member")
    await org.ok(COMPLETE, {"id": second["id"]}, as_="member")
    # when
    bodies = await my_tasks(org, "member", filter={"status": "DONE"})
    # then
    assert bodies == ["second done", "first done"]


async def test_the_due_date_of_a_task_can_be_changed_and_cleared(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler", as_="member", dueAt=days(1))
    # when
    moved = await org.ok(NOTE_UPDATE, {"input": {"id": task["id"], "dueAt": days(-1)}}, as_="member")
    cleared = await org.ok(NOTE_UPDATE, {"input": {"id": task["id"], "dueAt": None}}, as_="member")
    # then
    assert moved["noteUpdate"]["note"]["isOverdue"] is True
    assert cleared["noteUpdate"]["note"]["dueAt"] is None


async def test_a_plain_note_has_no_due_date(org: TestOrg) -> None:
    # given
    note = await add_note(org, "note", as_="member")
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "dueAt": days(1)}}, as_="member")
    # then
    assert [(e["code"], e["path"]) for e in data["noteUpdate"]["errors"]] == [("INVALID", ["input", "dueAt"])]


async def test_another_organisations_task_cannot_be_completed(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await add_task(other_org, "Rappeler", assigneeId=user_id(other_org, "member"))
    # when
    data = await org.ok(COMPLETE, {"id": foreign["id"]})
    # then
    assert [e["code"] for e in data["taskComplete"]["errors"]] == ["NOT_FOUND"]


async def test_a_task_id_must_be_a_note_id(org: TestOrg) -> None:
    # when
    data = await org.ok(COMPLETE, {"id": encode_id("User", org.users["member"].id)})
    # then
    assert [(e["code"], e["path"]) for e in data["taskComplete"]["errors"]] == [("INVALID", ["id"])]


async def kinds_of(org: TestOrg, who: str) -> list[str]:
    return [item["kind"] for item in await inbox(org, who)]

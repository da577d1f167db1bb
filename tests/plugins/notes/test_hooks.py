"""The plugin's hooks seen from the host: ``create_task`` for other plugins, customer
merges and deletions, registered kinds, loaders and node types."""

from __future__ import annotations

import datetime as dt

import pytest

from fiche.context import operation_context
from fiche.errors import UserErrors
from fiche.relay import decode_id
from tests.plugins.notes.support import FOLLOW, NODE, add_note, add_task, create_customer, inbox, inboxes, nobody_but, user_id
from tests.support import TestOrg

MERGE = """
mutation($keep: ID!, $duplicate: ID!) { customerMerge(keepId: $keep, duplicateId: $duplicate) { errors { code message } } }
"""
DELETE = "mutation($id: ID!) { customerDelete(id: $id) { errors { code message } } }"
CUSTOMER = """
query($id: ID!) { node(id: $id) { ... on Customer {
  notes { edges { node { id target { id } } } } followers { edges { node { handle } } }
} } }
"""
FOLLOWED = "{ viewer { followedCustomers { edges { node { id } } } } }"
MY_TASKS = "{ viewer { tasks { edges { node { id body dueAt target { id } author { handle } } } } } }"


async def test_hook_create_task_creates_a_task_and_notifies_the_assignee(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    due = dt.datetime(2030, 1, 2, 9, 0, tzinfo=dt.UTC)
    # when
    async with operation_context(org.state, org.viewer("manager")) as context:
        task_id = await org.state.pm.hook.create_task(
            context=context, body="Suite de la visite", assignee_id=org.users["member"].id, target_id=customer, due_at=due
        )
        await context.commit()
    # then
    data = await org.ok(MY_TASKS, as_="member")
    [task] = [edge["node"] for edge in data["viewer"]["tasks"]["edges"]]
    assert task["id"] == task_id
    assert (task["body"], task["target"], task["author"]) == ("Suite de la visite", {"id": customer}, {"handle": "manager"})
    assert dt.datetime.fromisoformat(task["dueAt"]) == due
    assert await inboxes(org) == nobody_but({"member": ["TASK_ASSIGNED"]}, org)


async def test_hook_create_task_refuses_bad_input_with_user_errors(org: TestOrg, other_org: TestOrg) -> None:
    # given
    async with operation_context(org.state, org.viewer("manager")) as context:
        # when / then
        with pytest.raises(UserErrors) as caught:
            await org.state.pm.hook.create_task(
                context=context, body="x", assignee_id=other_org.users["member"].id, target_id=None, due_at=None
            )
        await context.rollback()
    assert [error.code.name for error in caught.value.errors] == ["NOT_FOUND"]


async def test_hook_merge_customers_moves_notes_tasks_and_followers(org: TestOrg) -> None:
    # given
    keep = await create_customer(org, "Dupont SA")
    duplicate = await create_customer(org, "Dupont S.A.")
    note = await add_note(org, "@member2 sur le doublon", targetId=duplicate)
    await add_task(org, "tâche du doublon", targetId=duplicate, assigneeId=user_id(org, "member"))
    for who in ("member", "member2"):
        await org.ok(FOLLOW, {"id": duplicate}, as_=who)
    await org.ok(FOLLOW, {"id": keep}, as_="member")
    # when
    merged = await org.ok(MERGE, {"keep": keep, "duplicate": duplicate})
    # then
    assert merged["customerMerge"]["errors"] == []
    kept = (await org.ok(CUSTOMER, {"id": keep}))["node"]
    assert len(kept["notes"]["edges"]) == 2
    assert {edge["node"]["target"]["id"] for edge in kept["notes"]["edges"]} == {keep}
    assert [edge["node"]["handle"] for edge in kept["followers"]["edges"]] == ["member", "member2"]
    assert (await org.ok(NODE, {"id": note["id"]}))["node"]["target"] == {"id": keep}
    [mention] = await inbox(org, "member2")
    assert (mention["target"], mention["link"]) == (keep, f"/customers/{keep}#note-{note['id']}")


async def test_after_a_merge_followers_hear_of_the_kept_customer_once(org: TestOrg) -> None:
    # given: member followed both records
    keep = await create_customer(org, "Dupont SA")
    duplicate = await create_customer(org, "Dupont S.A.")
    await org.ok(FOLLOW, {"id": keep}, as_="member")
    await org.ok(FOLLOW, {"id": duplicate}, as_="member")
    await org.ok(MERGE, {"keep": keep, "duplicate": duplicate})
    # when
    await add_note(org, "après la fusion", targetId=keep)
    # then
    assert await inboxes(org) == nobody_but({"member": ["FOLLOWED_CUSTOMER_NOTE"]}, org)


async def test_hook_customer_deleted_removes_its_notes_tasks_and_follows(org: TestOrg) -> None:
    # given
    customer = await create_customer(org, "Éphémère")
    other = await create_customer(org, "Reste")
    note = await add_note(org, "@member à supprimer", targetId=customer)
    task = await add_task(org, "à supprimer", targetId=customer, assigneeId=user_id(org, "member"))
    kept = await add_note(org, "reste", targetId=other)
    await org.ok(FOLLOW, {"id": customer}, as_="member")
    # when
    deleted = await org.ok(DELETE, {"id": customer})
    # then
    assert deleted["customerDelete"]["errors"] == []
    assert (await org.ok(NODE, {"id": note["id"]}))["node"] is None
    assert (await org.ok(NODE, {"id": task["id"]}))["node"] is None
    assert (await org.ok(NODE, {"id": kept["id"]}))["node"] is not None
    assert (await org.ok(FOLLOWED, as_="member"))["viewer"]["followedCustomers"]["edges"] == []
    assert (await org.ok(MY_TASKS, as_="member"))["viewer"]["tasks"]["edges"] == []
    # the notifications stay in the inbox but neither quote nor lead to what is gone
    assert {(item["kind"], item["subject"], item["message"], item["link"]) for item in await inbox(org, "member")} == {
        ("MENTION", None, "A note you were notified about was deleted.", None),
        ("TASK_ASSIGNED", None, "A task you were notified about was deleted.", None),
    }


async def test_hook_register_notification_kinds_adds_the_five_kinds(org: TestOrg) -> None:
    # when
    data = await org.ok("{ notificationPreferences { kind enabled } }", as_="member")
    # then
    kinds = {item["kind"]: item["enabled"] for item in data["notificationPreferences"]}
    for kind in ("MENTION", "FOLLOWED_CUSTOMER_NOTE", "TASK_ASSIGNED", "TASK_REASSIGNED", "TASK_COMPLETED"):
        assert kinds[kind] is True


async def test_hook_register_node_types_resolves_notes_and_categories(org: TestOrg) -> None:
    # given
    created = await org.ok('mutation { noteCategoryCreate(input: {name: "Visite"}) { category { id } } }')
    category = created["noteCategoryCreate"]["category"]["id"]
    # when
    data = await org.ok("query($id: ID!) { node(id: $id) { ... on NoteCategory { name colour } } }", {"id": category})
    # then
    assert data["node"] == {"name": "Visite", "colour": "#607d8b"}
    assert decode_id(category)[0] == "NoteCategory"

"""Demo data: notes, mentions, tasks (overdue and done), categories and follows on the demo
customers, readable through the API as a demo user."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.auth import Identity, load_viewer
from fiche.context import AppState, ConnectionContext
from fiche.demo import create_demo

DEMO_VIEW = """
{
  noteCategories { name }
  notes(first: 100) { edges { node { body isTask isOverdue isDone target { id } mentions { user { handle } } } } }
  viewer { followedCustomers { edges { node { id } } } }
}
"""


async def test_hook_seed_demo_adds_notes_tasks_mentions_categories_and_follows(
    state: AppState, schema: strawberry.Schema
) -> None:
    # given
    result = await create_demo(state.settings, state.db, state.pm, size=12, seed=3)
    async with state.db.reader(result.organization_id) as session:
        camille = await session.scalar(select(accounts.User.id).where(accounts.User.handle == "camille"))
    viewer = await load_viewer(state.db, Identity(user_id=camille, organization_id=result.organization_id))
    # when
    answer = await schema.execute(DEMO_VIEW, context_value=ConnectionContext(state, viewer=viewer))
    # then
    assert answer.errors is None, answer.errors
    data = answer.data
    assert [c["name"] for c in data["noteCategories"]] == ["Mise en place de compte", "Relance", "Visite"]
    notes = [edge["node"] for edge in data["notes"]["edges"]]
    plain = [note for note in notes if not note["isTask"]]
    tasks = [note for note in notes if note["isTask"]]
    assert any(note["target"] is not None for note in plain) and any(note["target"] is None for note in plain)
    assert any(note["mentions"] for note in plain)
    assert any(task["isOverdue"] for task in tasks) and any(task["isDone"] for task in tasks)
    assert data["viewer"]["followedCustomers"]["edges"]


INBOX = "{ notifications(first: 100) { edges { node { kind message subject { id } actor { handle } } } } }"


async def test_demo_inboxes_hold_the_notifications_the_demo_data_implies(state: AppState, schema: strawberry.Schema) -> None:
    # given
    result = await create_demo(state.settings, state.db, state.pm, size=12, seed=3)
    async with state.db.reader(result.organization_id) as session:
        people = (await session.execute(select(accounts.User.id, accounts.User.handle))).all()
    inboxes = {}
    for user_id, handle in people:
        viewer = await load_viewer(state.db, Identity(user_id=user_id, organization_id=result.organization_id))
        # when
        answer = await schema.execute(INBOX, context_value=ConnectionContext(state, viewer=viewer))
        assert answer.errors is None, answer.errors
        inboxes[handle] = [edge["node"] for edge in answer.data["notifications"]["edges"]]
    # then: every inbox has something, each a mention or a task assignment by a colleague, about a readable note
    assert all(inboxes.values()), {handle: len(items) for handle, items in inboxes.items()}
    items = [item for items in inboxes.values() for item in items]
    assert {item["kind"] for item in items} == {"MENTION", "TASK_ASSIGNED"}
    assert all(item["subject"] is not None and item["actor"] is not None for item in items)
    assert all(handle != item["actor"]["handle"] for handle, items in inboxes.items() for item in items)

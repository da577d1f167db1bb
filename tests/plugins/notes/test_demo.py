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

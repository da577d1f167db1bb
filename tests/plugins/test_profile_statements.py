"""The customer profile page (issue 10): its SQL statements do not grow with its page
sizes — one statement per list whatever ``first``; on SQLite one for all the timeline's
sources (a UNION ALL of each plugin's statement), whose entries are those the plugins give
one statement at a time (PostgreSQL runs the sources' statements side by side)."""

from __future__ import annotations

import datetime as dt

import strawberry

from fiche.auth import decode_token, load_viewer
from fiche.context import AppState, ConnectionContext, operation_context
from fiche.demo import create_demo
from fiche.relay import decode_id
from fiche.timeline import TimelineQuery
from tests.support import count_statements

FIRST_CUSTOMER = "{ customers(first: 1) { nodes { id } } }"
PROFILE = """
query Profile($id: ID!, $n: Int!) {
  customer(id: $id) {
    id displayName
    preferredContact { name }
    contacts(first: $n) { nodes { id name } }
    addresses { id city }
    timeline(first: $n) {
      edges { node { __typename kind summary
        ... on ActivityTimelineEntry { activity { id assignee { name } } }
        ... on NoteTimelineEntry { note { id author { name } } } } }
      pageInfo { hasNextPage }
    }
    notes(first: $n, filter: { kind: NOTE }) { nodes { id author { name } } }
    tasks: notes(first: $n, filter: { kind: TASK }) { nodes { id assignee { name } } }
  }
}
"""
# The page's statements (viewer and users excluded): customer, preferred contact, contacts,
# addresses, notes, tasks, the notes' categories, the organisation's time zone and the
# timeline: on SQLite one statement for every source, on PostgreSQL one per source (8: the
# notes about the customer and those about its activities, interventions... are two).
MOST = {"sqlite": 9, "postgresql": 16}
TIMELINE = """
query Timeline($id: ID!) {
  customer(id: $id) { timeline(first: 50, filter: { includePlanned: true }) { edges { node { kind summary occurredAt } } } }
}
"""


async def test_the_profile_page_costs_the_same_statements_whatever_its_page_size(state: AppState, schema: strawberry.Schema) -> None:
    # given: a demo organisation and its admin
    demo = await create_demo(state.settings, state.db, state.pm, size=12, seed=3)
    identity = decode_token(state.settings, next(iter(demo.tokens.values())))
    assert identity is not None
    context = ConnectionContext(state, viewer=await load_viewer(state.db, identity))
    first = await schema.execute(FIRST_CUSTOMER, context_value=context)
    assert first.data is not None, first.errors
    customer = first.data["customers"]["nodes"][0]["id"]
    # when: the page at three page sizes
    counts: dict[int, int] = {}
    users: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for n in (1, 5, 50):
        with count_statements(state.db) as counter:
            result = await schema.execute(PROFILE, variable_values={"id": customer, "n": n}, context_value=ConnectionContext(state, viewer=context.viewer))
        assert not result.errors, result.errors
        assert result.data is not None
        # Users by id are read once per batch: the notes' authors and the timeline's people
        # share one batch or not depending on which list arrives first, never more than two.
        users[n] = sum(1 for statement in counter.statements if statement.lstrip().startswith("SELECT users.id"))
        counts[n] = counter.count - users[n]
        sizes[n] = len(result.data["customer"]["timeline"]["edges"])
    # then: the same statements, while the pages did grow; the timeline's sources in one
    assert counts[1] == counts[5] == counts[50] <= MOST[state.db.engine.dialect.name], counts
    assert all(1 <= count <= 2 for count in users.values()), users
    assert sizes[1] == 1 and sizes[50] > sizes[5] >= 1, sizes
    timeline = [statement for statement in counter.statements if "latest" in statement]
    if state.db.is_sqlite:
        assert len(timeline) == 1 and "_branch" in timeline[0], timeline
    else:
        assert len(timeline) == 8 and not any("_branch" in statement for statement in timeline), timeline


async def test_the_merged_timeline_has_the_entries_each_plugin_reads_on_its_own(state: AppState, schema: strawberry.Schema) -> None:
    # given: a demo organisation, its admin and a customer with entries from several plugins
    demo = await create_demo(state.settings, state.db, state.pm, size=12, seed=5)
    identity = decode_token(state.settings, next(iter(demo.tokens.values())))
    assert identity is not None
    viewer = await load_viewer(state.db, identity)
    first = await schema.execute("{ customers(first: 12) { nodes { id } } }", context_value=ConnectionContext(state, viewer=viewer))
    assert first.data is not None, first.errors
    # when: each customer's timeline through the schema (one statement for every source),
    # and each plugin's hook called on its own (its statements one at a time)
    for node in first.data["customers"]["nodes"]:
        result = await schema.execute(TIMELINE, variable_values={"id": node["id"]}, context_value=ConnectionContext(state, viewer=viewer))
        assert not result.errors and result.data is not None, result.errors
        merged = [(edge["node"]["kind"], edge["node"]["summary"]) for edge in result.data["customer"]["timeline"]["edges"]]
        pk = decode_id(node["id"], "Customer")[1]
        alone = []
        async with operation_context(state, viewer) as context:
            for answer in state.pm.hook.timeline_entries(context=context, location_ids=[pk], query=TimelineQuery(), limit=51):
                alone += await answer
        alone.sort(key=lambda entry: (entry.occurred_at, entry.source, entry.source_pk), reverse=True)
        # then: the same entries, in the same order
        assert merged == [(entry.kind, entry.summary) for entry in alone[:50]]
        assert all(isinstance(entry.occurred_at, dt.datetime) for entry in alone)

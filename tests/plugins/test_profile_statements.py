"""The customer profile page (issue 10): its SQL statements do not grow with its page
sizes — one statement per list whatever ``first``, one per timeline source."""

from __future__ import annotations

import strawberry

from fiche.auth import decode_token, load_viewer
from fiche.context import AppState, ConnectionContext
from fiche.demo import create_demo
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
# The page's statements (viewer excluded): customer, preferred contact, contacts,
# addresses, notes, tasks, users, the organisation's time zone and the timeline's sources.
MOST = 16


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
    sizes: dict[int, int] = {}
    for n in (1, 5, 50):
        with count_statements(state.db) as counter:
            result = await schema.execute(PROFILE, variable_values={"id": customer, "n": n}, context_value=ConnectionContext(state, viewer=context.viewer))
        assert not result.errors, result.errors
        assert result.data is not None
        counts[n] = counter.count
        sizes[n] = len(result.data["customer"]["timeline"]["edges"])
    # then: the same statements, while the pages did grow
    assert counts[1] == counts[5] == counts[50] <= MOST, counts
    assert sizes[1] == 1 and sizes[50] > sizes[5] >= 1, sizes

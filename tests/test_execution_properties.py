"""Property: on demo data, every query generated from Fiche's own schema (hypothesis-graphql,
derandomised, a bounded number of examples) gets the same answer — data, key order,
errors with their paths and codes — from the breadth-first executor as from
graphql-core's executor."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import hypothesis
import strawberry
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

from fiche.auth import decode_token, load_viewer
from fiche.context import AppState, ConnectionContext
from fiche.demo import create_demo
from fiche.schema import build_schema
from fiche.settings import Settings
from tests.differential import comparable

# Root fields whose answers are lists of objects with nested edges: where the executors
# could disagree. Field arguments are generated too (IDs, filters, page sizes).
ROOT_FIELDS = ["viewer", "users", "teams", "customers", "customer", "notes", "noteCategories", "activityTypes", "reportForms"]
EXAMPLES = 150
CUSTOM_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "DateTime": st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)).map(
        lambda value: nodes.String(value.isoformat())
    ),
    "Date": st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2030, 1, 1)).map(lambda value: nodes.String(value.isoformat())),
    "JSON": st.just(nodes.String("{}")),
}
VIEWER_CHECK = "{ viewer { user { handle } } }"


def generated_queries(schema: strawberry.Schema) -> list[str]:
    """The first EXAMPLES queries hypothesis generates for ROOT_FIELDS, always the same ones."""
    found: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(queries(schema._schema, fields=ROOT_FIELDS, custom_scalars=CUSTOM_SCALARS))
    def collect(query: str) -> None:
        found.append(query)

    collect()
    return found


async def test_generated_queries_get_the_same_answer_from_both_executors(state: AppState, settings: Settings) -> None:
    # given: a demo organisation, and the same schema with each executor
    demo = await create_demo(settings, state.db, state.pm, size=6)
    identity = decode_token(settings, next(iter(demo.tokens.values())))
    assert identity is not None
    viewer = await load_viewer(state.db, identity)
    # The limits (cost, depth) are not under test here: generated nestings would mostly be
    # refused before either executor ran.
    settings = dataclasses.replace(settings, max_query_cost=10**30, max_query_depth=100)
    breadth = build_schema(state.pm, settings)
    reference = build_schema(state.pm, dataclasses.replace(settings, executor="graphql-core"))
    documents = generated_queries(breadth)
    check = await breadth.execute(VIEWER_CHECK, context_value=ConnectionContext(state, viewer=viewer))
    assert check.data == {"viewer": {"user": {"handle": viewer.handle if viewer else None}}}
    executed = 0
    for document in documents:
        # when
        ours = await breadth.execute(document, context_value=ConnectionContext(state, viewer=viewer))
        theirs = await reference.execute(document, context_value=ConnectionContext(state, viewer=viewer))
        # then
        assert comparable(ours.data, ours.errors or []) == comparable(theirs.data, theirs.errors or []), document
        executed += ours.data is not None
    assert executed >= EXAMPLES // 2  # most generated queries pass validation and run

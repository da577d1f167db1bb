"""Property-based fuzzing of the real application over HTTP, shared by
``tests/gateway/test_fuzz.py`` (a bounded, deterministic run) and ``bench/fuzz.py`` (a long
one).

Requests come from the schema itself (``hypothesis-graphql``: valid operations, and
operations with one schema violation) with values aimed at the edges that break servers:
global IDs of real demo objects next to forged ones (keys 0, -1, 2^31, 10^30), datetimes
without a time zone or in year 9999, strings with NUL bytes. Next to them, request bodies
of the wrong shape (garbage bytes, a list, a query that is a number, variables of the wrong
type, JSON nested too deep). A *failure* is what the client cannot have caused: an HTTP 5xx,
a 200 that is not JSON, or a masked "Unexpected error.".
"""

from __future__ import annotations

import asyncio
import base64
import collections
import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

import graphql
import httpx
import orjson
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from fiche.app import build_state, create_app
from fiche.context import AppState
from fiche.demo import create_demo
from fiche.plugin_host import get_plugin_manager
from fiche.schema import build_schema, export_sdl
from fiche.settings import Settings

__all__ = ["FuzzTarget", "Failure", "Outcome", "bodies", "operations"]

MASKED = "Unexpected error."

# IDs and cursors of the demo data, fetched once: the fuzzer then reaches real rows.
HARVEST = """
{
  viewer { user { id } }
  users(first: 10) { edges { cursor node { id } } }
  teams { id }
  customers(first: 15) {
    edges {
      cursor
      node {
        id
        contacts(first: 3) { edges { cursor node { id } } }
        addresses { id }
        activities(first: 3) { edges { cursor node { id } } }
        timeline(first: 3) { edges { cursor } }
      }
    }
  }
  notes(first: 15) { edges { cursor node { id } } }
  activityTypes { id }
  noteCategories { id }
  customFields { id }
}
"""

OUT_OF_RANGE_KEYS = (0, -1, 2**31 - 1, 2**31, 2**63, 10**30)
NODE_TYPES = ("Customer", "Note", "Activity", "User", "Team", "Contact", "Address", "ActivityType", "NoteCategory", "Report")


def _raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _string(value: str) -> graphql.StringValueNode:
    return graphql.StringValueNode(value=value)


def id_values(real_ids: Sequence[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """Real IDs, forged ones with keys out of any column's range or in a non-canonical
    spelling, IDs of the wrong type and plain text."""
    forged = st.builds(
        lambda name, key: _raw_id(f"{name}:{key}"),
        st.sampled_from(NODE_TYPES),
        st.sampled_from(OUT_OF_RANGE_KEYS) | st.integers(min_value=-(2**70), max_value=2**70),
    )
    misspelt = st.builds(
        lambda name, key: _raw_id(f"{name}:{key}"), st.sampled_from(NODE_TYPES), st.sampled_from(("05", "+5", " 5", "1_0", "5 ", "٥"))
    )
    wrong = st.one_of(forged, misspelt, st.text(max_size=12))
    # Half real IDs: a mutation gets past its IDs only with real ones, to reach the rest.
    return (st.one_of(st.sampled_from(sorted(real_ids)), wrong) if real_ids else wrong).map(_string)


def _cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


CURSOR_VALUES = (
    2**31,
    2**63,
    -(2**63) - 1,
    10**30,
    1.5,
    True,
    None,
    "a\x00b",
    {"d": "9999-12-31T23:59:59-05:00"},
    {"d": "0001-01-01T00:00:00+01:00"},
    {"d": "2026-05-04T09:30:00"},
    {"d": "2026-05-04T09:30:00+00:00"},
    {"D": "9999-12-31"},
    {"n": "NaN"},
    {"n": "1e999999"},
)


def string_values(real_cursors: Sequence[str]) -> st.SearchStrategy[graphql.ValueNode]:
    """Text (NUL characters included), real cursors, and forged cursors holding values no
    column can: integers past 32 and 64 bits, naive or overflowing date-times, NaN."""
    forged = st.lists(st.sampled_from(CURSOR_VALUES) | st.integers(min_value=1, max_value=50), min_size=1, max_size=4).map(_cursor)
    with_nul = st.builds(lambda head, tail: f"{head}\x00{tail}", st.text(max_size=6), st.text(max_size=6))
    pools = [st.text(max_size=12), with_nul, forged]
    if real_cursors:
        pools.append(st.sampled_from(sorted(real_cursors)))
    return st.one_of(*pools).map(_string)


def datetime_values() -> st.SearchStrategy[graphql.ValueNode]:
    aware = st.datetimes(timezones=st.just(dt.UTC)).map(dt.datetime.isoformat)
    naive = st.datetimes().map(dt.datetime.isoformat)
    edges = st.sampled_from(("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59", "2026-02-30T00:00:00Z", "now"))
    return st.one_of(aware, naive, edges, st.text(max_size=10)).map(_string)


def date_values() -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(st.dates().map(dt.date.isoformat), st.sampled_from(("9999-12-31", "0001-01-01", "2026-13-01")), st.text(max_size=6)).map(_string)


def decimal_values() -> st.SearchStrategy[graphql.ValueNode]:
    """Exact amounts as strings, awkward ones (10^30, many decimals, exponents, NaN), and
    the JSON numbers and text the scalar must refuse."""
    exact = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**12), max_value=10**12).map(str)
    edges = st.sampled_from(("0", "-0.00", "1e30", "NaN", "Infinity", "0.1", "999999999999999999999999999999.123456", "1/3"))
    numbers = st.one_of(
        st.integers(min_value=-(2**40), max_value=2**40).map(lambda n: graphql.IntValueNode(value=str(n))),
        st.floats(allow_nan=False, allow_infinity=False).map(lambda f: graphql.FloatValueNode(value=repr(f))),
    )
    return st.one_of(st.one_of(exact, edges, st.text(max_size=6)).map(_string), numbers)


def json_values() -> st.SearchStrategy[graphql.ValueNode]:
    leaves = st.one_of(
        st.text(max_size=8).map(_string),
        st.integers(min_value=-(2**40), max_value=2**40).map(lambda n: graphql.IntValueNode(value=str(n))),
        st.booleans().map(lambda b: graphql.BooleanValueNode(value=b)),
        st.just(graphql.NullValueNode()),
    )
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3).map(lambda items: graphql.ListValueNode(values=tuple(items))),
            st.dictionaries(st.from_regex(r"\A[a-z]{1,6}\Z"), children, max_size=3).map(
                lambda fields: graphql.ObjectValueNode(
                    fields=tuple(graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v) for k, v in fields.items())
                )
            ),
        ),
        max_leaves=6,
    )


def operations(schema_sdl: str, real_ids: Sequence[str], real_cursors: Sequence[str] = ()) -> st.SearchStrategy[str]:
    """Queries and mutations of the schema: valid ones, and ones with one violation."""
    scalars: dict[str, st.SearchStrategy[graphql.ValueNode]] = {
        "ID": id_values(real_ids),
        "String": string_values(real_cursors),
        "DateTime": datetime_values(),
        "Date": date_values(),
        "JSON": json_values(),
        "ExactDecimal": decimal_values(),
        "Upload": st.just(graphql.NullValueNode()),
    }
    return st.one_of(
        from_schema(schema_sdl, custom_scalars=scalars, mode=Mode.POSITIVE),
        from_schema(schema_sdl, custom_scalars=scalars, mode=Mode.NEGATIVE),
    )


def _nested(query: str, depth: int) -> bytes:
    """A body whose ``id`` variable nests ``depth`` objects (written by hand: encoders stop
    long before such depths)."""
    return b'{"query": %s, "variables": {"id": %s1%s}}' % (orjson.dumps(query), b'{"a": ' * depth, b"}" * depth)


def bodies(real_ids: Sequence[str]) -> st.SearchStrategy[bytes]:
    """Request bodies of every wrong shape next to well-formed ones with wrong variables."""
    with_variables = "query Q($id: ID!, $ids: [ID!]!, $first: Int, $after: String) { node(id: $id) { id } nodes(ids: $ids) { id } customers(first: $first, after: $after) { nodes { id } } }"
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=8,
    )
    variables = st.fixed_dictionaries(
        {},
        optional={
            "id": json_values | id_values(real_ids).map(lambda node: node.value),
            "ids": json_values,
            "first": json_values,
            "after": json_values,
        },
    )
    documents = st.one_of(
        st.builds(lambda v: {"query": with_variables, "variables": v}, variables),
        st.builds(lambda q, v: {"query": q, "variables": v}, json_values, json_values),
        st.builds(lambda v: {"query": "{ viewer { user { id } } }", "extensions": v, "operationName": v}, json_values),
        json_values,
    )
    deep = st.integers(min_value=60, max_value=3000).map(lambda depth: _nested(with_variables, depth))
    garbage = st.binary(max_size=40) | st.sampled_from((b"", b"{", b"[]", b"null", b'{"query": "{", "variables": {"a": [1, 2}', b"\xff\xfe"))
    # The standard encoder: orjson refuses integers past 64 bits, which clients do send.
    return st.one_of(documents.map(lambda document: json.dumps(document).encode()), deep, garbage)


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    """One request the server answered as if the client could not have caused it."""

    request: str
    status: int
    detail: str
    kind: str  # what failed, to count alike failures together: "HTTP 500", "masked at node"


@dataclasses.dataclass
class Outcome:
    """Counts of one fuzzing run."""

    requests: int = 0
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    failures: list[Failure] = dataclasses.field(default_factory=list)


def failure_of(request: str, response: httpx.Response) -> Failure | None:
    """The :class:`Failure` a response shows, if any."""
    if response.status_code >= 500:
        return Failure(request, response.status_code, response.text[:300], f"HTTP {response.status_code}")
    if response.status_code != 200:
        return None
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return Failure(request, 200, f"not JSON: {response.text[:200]}", "HTTP 200 not JSON")
    errors = payload.get("errors") if isinstance(payload, dict) else None
    masked = [error for error in errors or () if error.get("message") == MASKED]
    if masked:
        where = ".".join(str(part) for part in masked[0].get("path") or () if isinstance(part, str))
        return Failure(request, 200, orjson.dumps(masked[0]).decode(), f"masked at {where or 'the operation'}")
    return None


class FuzzTarget:
    """The real application on a database with a demo organisation, an admin's token and
    an HTTP client (httpx's ASGI transport), driven from synchronous code (Hypothesis)."""

    def __init__(self, database_url: str, *, secret_key: str, demo_size: int = 5, upload_dir: str = "") -> None:
        self.settings = Settings(database_url=database_url, secret_key=secret_key, log_json=False, log_level="CRITICAL", upload_dir=upload_dir)
        self.runner = asyncio.Runner()
        self.demo_size = demo_size
        self.outcome = Outcome()
        self.real_ids: list[str] = []
        self.real_cursors: list[str] = []
        self.schema_sdl = ""
        self._state: AppState | None = None
        self._client: httpx.AsyncClient | None = None
        self._token = ""

    def __enter__(self) -> FuzzTarget:
        # Strawberry logs every GraphQL error it returns; thousands of them say nothing here.
        logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
        self.runner.__enter__()
        self.runner.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.runner.run(self._stop())
        finally:
            self.runner.__exit__(None, None, None)

    async def _start(self) -> None:
        pm = get_plugin_manager(self.settings)
        self._state = build_state(self.settings, pm)
        await self._state.broker.connect()
        self.schema_sdl = export_sdl(build_schema(pm, self.settings))
        demo = await create_demo(self.settings, self._state.db, pm, size=self.demo_size)
        self._token = next(iter(demo.tokens.values()))  # the first demo user is an admin
        app = create_app(self.settings, state=self._state)
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://fuzz",
            headers={"Authorization": f"Bearer {self._token}"},
        )
        harvested = (await self._client.post("/graphql", json={"query": HARVEST})).json()
        if harvested.get("errors"):
            raise RuntimeError(f"cannot collect the demo's IDs: {harvested['errors']}")
        data = harvested["data"]
        self.real_ids = sorted(_strings_under(data, ("id",)))
        self.real_cursors = sorted(_strings_under(data, ("cursor",)))

    async def _stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._state is not None:
            await self._state.broker.disconnect()
            await self._state.db.dispose()

    def _record(self, request: str, response: httpx.Response) -> Failure | None:
        self.outcome.requests += 1
        self.outcome.statuses[response.status_code] += 1
        failure = failure_of(request, response)
        if failure is not None:
            self.outcome.failures.append(failure)
        return failure

    def operation(self, document: str) -> Failure | None:
        """POST one GraphQL document."""
        assert self._client is not None
        response = self.runner.run(self._client.post("/graphql", json={"query": document}))
        return self._record(document, response)

    def body(self, body: bytes) -> Failure | None:
        """POST raw bytes as an ``application/json`` body."""
        assert self._client is not None
        response = self.runner.run(self._client.post("/graphql", content=body, headers={"Content-Type": "application/json"}))
        return self._record(body[:500].decode(errors="replace"), response)


def _strings_under(value: Any, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in keys and isinstance(child, str):
                    found.add(child)
                else:
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return found

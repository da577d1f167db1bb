"""OpenTelemetry traces, captured with the SDK's in-memory exporter: a span per HTTP
request, the GraphQL operation and its phases as children, each SQL statement and Redis
command below them; a WebSocket operation is a span of its own. Off unless the OTEL_*
variables ask, and the gateway runs without OpenTelemetry installed."""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from fiche.app import create_app
from fiche.context import AppState
from fiche.tracing import Tracing, tracing_requested
from tests.gateway.conftest import PROBE
from tests.gateway.test_notifications_live import PROBE_NOTIFY
from tests.gateway.ws_client import open_socket
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.support import TestOrg, live_server
from fiche.relay import encode_id

VIEWER = "query Viewer { viewer { user { handle } } }"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(state: AppState, exporter: InMemorySpanExporter) -> Iterator[AppState]:
    """The test's state with a tracer provider of its own, exporting in memory."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    traced_state = dataclasses.replace(state, tracing=Tracing(provider))
    yield traced_state
    provider.shutdown()


@pytest.fixture
async def traced_client(traced: AppState) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(traced.settings, state=traced)), base_url="http://test") as http:
        yield http


def children(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [span for span in spans if span.parent is not None and span.parent.span_id == parent.context.span_id]


def descendants(spans: list[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    found = children(spans, parent)
    return found + [span for child in found for span in descendants(spans, child)]


def named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


async def test_an_http_operation_is_a_tree_of_spans(org: TestOrg, traced_client: httpx.AsyncClient, exporter: InMemorySpanExporter) -> None:
    # when
    response = await traced_client.post(
        "/graphql", json={"query": VIEWER, "operationName": "Viewer"}, headers={"Authorization": f"Bearer {org.token('member')}", "traceparent": TRACEPARENT}
    )
    # then
    assert response.json()["data"]["viewer"]["user"]["handle"] == "member"
    spans = list(exporter.get_finished_spans())
    [request] = named(spans, "POST /graphql")
    assert format(request.context.trace_id, "032x") == TRACEPARENT.split("-")[1]  # the caller's trace goes on
    assert request.attributes is not None and request.attributes["http.response.status_code"] == 200
    # (the token's user is loaded before the operation, by the request)
    [operation] = [span for span in children(spans, request) if span.name.startswith("query")]
    assert operation.name == "query Viewer"
    assert operation.attributes is not None
    assert (operation.attributes["graphql.operation.name"], operation.attributes["graphql.operation.type"]) == ("Viewer", "query")
    assert operation.attributes["fiche.organization_id"] == org.organization_id
    phases = {span.name: span for span in children(spans, operation)}
    assert {"graphql.parse", "graphql.validate", "graphql.execute"} <= set(phases)
    sql = [span for span in descendants(spans, phases["graphql.execute"]) if (span.attributes or {}).get("db.system") or (span.attributes or {}).get("db.system.name")]
    assert sql, [span.name for span in spans]


async def test_a_mutation_s_redis_publish_is_a_child_span(org: TestOrg, traced: AppState, exporter: InMemorySpanExporter, broker_kind: str) -> None:
    # given
    app = create_app(traced.settings, state=traced)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        # when
        variables = {"to": [encode_id("User", org.users["member"].id)]}
        response = await http.post("/graphql", json={"query": PROBE_NOTIFY, "variables": variables}, headers={"Authorization": f"Bearer {org.token('admin')}"})
    # then
    assert response.json()["data"]["probeNotify"]["errors"] == []
    spans = list(exporter.get_finished_spans())
    [operation] = [span for span in spans if span.name == "mutation Notify"]
    below = descendants(spans, operation)
    assert any((span.attributes or {}).get("db.system") or (span.attributes or {}).get("db.system.name") for span in below)
    redis_spans = [span for span in below if span.attributes and span.attributes.get("db.system") == "redis"]
    assert bool(redis_spans) == (broker_kind == "redis"), [span.name for span in below]


async def test_a_websocket_operation_is_a_span_of_its_own(org: TestOrg, traced: AppState, exporter: InMemorySpanExporter) -> None:
    async with live_server(create_app(traced.settings, state=traced)) as address, open_socket(address) as socket:
        await socket.init({"Authorization": f"Bearer {org.token('member')}"})
        # when
        await socket.subscribe("one", VIEWER)
        assert await socket.next("one") == {"data": {"viewer": {"user": {"handle": "member"}}}}
    # then
    spans = list(exporter.get_finished_spans())
    [operation] = named(spans, "query Viewer")
    assert operation.parent is None
    assert operation.attributes is not None and operation.attributes["fiche.organization_id"] == org.organization_id
    assert {"graphql.parse", "graphql.validate", "graphql.execute"} <= {span.name for span in children(spans, operation)}


def test_traces_are_off_unless_the_otel_variables_ask() -> None:
    assert not tracing_requested({})
    assert not tracing_requested({"OTEL_SERVICE_NAME": "fiche"})
    assert tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing_requested({"OTEL_TRACES_EXPORTER": "console"})
    assert not tracing_requested({"OTEL_TRACES_EXPORTER": "none"})
    assert not tracing_requested({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"})
    assert Tracing.from_env({}) is None


def test_otel_variables_configure_a_provider() -> None:
    tracing = Tracing.from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "fiche-test"})
    assert tracing is not None
    try:
        assert tracing.provider.resource.attributes["service.name"] == "fiche-test"
    finally:
        tracing.shutdown()
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        Tracing.from_env({"OTEL_TRACES_EXPORTER": "zipkin-of-my-own"})


async def test_the_gateway_runs_without_opentelemetry_installed(
    org: TestOrg, state: AppState, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given: OTEL variables set, but no opentelemetry package importable
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    for module in [name for name in sys.modules if name == "opentelemetry" or name.startswith("opentelemetry.")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    bare = dataclasses.replace(state)
    # The app sends the `fiche` loggers to stderr without propagating to the root logger,
    # where caplog listens: listen on `fiche` itself, whichever test configured it first.
    fiche_logger = logging.getLogger("fiche")
    fiche_logger.addHandler(caplog.handler)
    # when
    try:
        app = create_app(bare.settings, state=bare)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            response = await http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {org.token('member')}"})
    finally:
        fiche_logger.removeHandler(caplog.handler)
    # then
    assert response.json()["data"]["viewer"]["user"]["handle"] == "member"
    assert bare.tracing is None
    assert "pip install 'fiche[otel]'" in caplog.text

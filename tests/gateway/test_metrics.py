"""``GET /metrics``: off by default; with ``FICHE_METRICS=1`` a Prometheus scrape after a
known workload shows what ran (operations, durations, SQL statements, WebSockets,
subscriptions, notifications, broker, pool), with bounded labels only."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from fiche.app import create_app
from fiche.context import AppState
from fiche.metrics import ANONYMOUS, MAX_OPERATION_NAMES, OTHER
from fiche.relay import encode_id
from tests.gateway.conftest import PROBE
from tests.gateway.test_notifications_live import PROBE_NOTIFY, SUBSCRIBE, connect_as, listening
from tests.gateway.ws_client import open_socket
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.support import REDIS_URL, TestOrg, live_server
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

VIEWER = "query Viewer { viewer { user { handle } } }"
TYPO = "query Typo { viewer { usr { handle } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def with_metrics(state: AppState) -> AppState:
    return dataclasses.replace(state, settings=dataclasses.replace(state.settings, metrics=True))


@pytest.fixture
async def metered(state: AppState) -> AsyncIterator[tuple[AppState, str]]:
    """A live server of an app with metrics on, and its state."""
    metered_state = with_metrics(state)
    async with live_server(create_app(metered_state.settings, state=metered_state)) as address:
        yield metered_state, address


def scrape(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Sample name → [(labels, value)] of a Prometheus text exposition."""
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if all(found.get(k) == want for k, want in labels.items()))


async def post(http: httpx.AsyncClient, org: TestOrg, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {org.token('admin')}"})
    return dict(response.json())


async def test_metrics_are_off_unless_asked_for(org: TestOrg, client: httpx.AsyncClient) -> None:
    # when
    response = await client.get("/metrics")
    # then
    assert response.status_code == 404


async def test_scrape_after_a_known_workload(org: TestOrg, metered: tuple[AppState, str]) -> None:
    state, address = metered
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        # given: two named queries, one that fails validation, one anonymous, over HTTP
        assert (await post(http, org, VIEWER))["data"]["viewer"]["user"]["handle"] == "admin"
        assert (await post(http, org, VIEWER))["data"]
        assert (await post(http, org, TYPO))["errors"]
        assert (await post(http, org, "{ viewer { user { handle } } }"))["data"]
        # and a live subscription that receives one notification
        async with open_socket(address) as socket:
            await connect_as(socket, org, "member")
            await socket.subscribe("live", SUBSCRIBE)
            await listening(org, "member")
            during = scrape((await http.get("/metrics")).text)
            notified = await post(http, org, PROBE_NOTIFY, {"to": [encode_id("User", org.users["member"].id)]})
            assert notified["data"]["probeNotify"]["errors"] == []
            assert await socket.next("live") is not None
        for _ in range(100):  # the server sees the socket close a moment later
            after = scrape((await http.get("/metrics")).text)
            if value(after, "fiche_websockets_open") == 0:
                break
            await asyncio.sleep(0.02)
    # then: operations by name, type, transport and outcome
    operations = "fiche_graphql_operations_total"
    assert value(after, operations, operation_name="Viewer", operation_type="query", transport="http", outcome="OK") == 2
    assert value(after, operations, operation_name="Typo", outcome="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(after, operations, operation_name=ANONYMOUS, operation_type="query", outcome="OK") == 1
    assert value(after, operations, operation_name="Notify", operation_type="mutation", outcome="OK") == 1
    assert value(after, operations, operation_name="Live", operation_type="subscription", transport="ws") == 1
    # durations and SQL statements per operation
    assert value(after, "fiche_graphql_operation_duration_seconds_count", operation_name="Viewer") == 2
    assert value(after, "fiche_graphql_operation_sql_statements_count", operation_name="Viewer") == 2
    assert value(after, "fiche_graphql_operation_sql_statements_sum", operation_name="Notify") >= 2
    # HTTP requests by route and status
    assert value(after, "fiche_http_requests_total", route="/graphql", method="POST", status="200") == 5
    assert value(after, "fiche_http_request_duration_seconds_count", route="/graphql") == 5
    # WebSockets and subscriptions: one of each while the socket was open, none after
    assert (value(during, "fiche_websockets_open"), value(during, "fiche_subscriptions_active")) == (1, 1)
    assert (value(after, "fiche_websockets_open"), value(after, "fiche_subscriptions_active")) == (0, 0)
    # notifications published and delivered, with their lag
    assert value(after, "fiche_notifications_published_total") == 1
    assert value(after, "fiche_notifications_delivered_total") == 1
    assert value(after, "fiche_notification_delivery_lag_seconds_count") == 1
    # snapshot values
    assert value(after, "fiche_broker_reconnects_total") == 0
    assert "fiche_db_pool_connections_in_use" in after
    # no label carries a user, an organisation or query text
    labels = {key for samples in after.values() for found, _ in samples for key in found}
    assert labels <= {"operation_name", "operation_type", "transport", "outcome", "route", "method", "status", "le"}


async def test_operation_name_labels_stay_bounded_under_hostile_names(org: TestOrg, state: AppState) -> None:
    # given: an app with metrics
    metered = with_metrics(state)
    app = create_app(metered.settings, state=metered)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        # when: a client sends more distinct operation names than the cap
        for index in range(MAX_OPERATION_NAMES + 10):
            await post(http, org, f"query Op{index} {{ viewer {{ user {{ handle }} }} }}")
        samples = scrape((await http.get("/metrics")).text)
    # then: the first names have a label each, every later one shares "other"
    names = {found["operation_name"] for found, _ in samples["fiche_graphql_operations_total"]}
    assert len(names) == MAX_OPERATION_NAMES + 1
    assert {"Op0", f"Op{MAX_OPERATION_NAMES - 1}", OTHER} <= names
    assert value(samples, "fiche_graphql_operations_total", operation_name=OTHER) == 10
    assert metered.metrics is not None
    assert metered.metrics.operation_label("Op0") == "Op0"
    assert metered.metrics.operation_label(None) == ANONYMOUS


@pytest.mark.redis
async def test_broker_reconnections_are_counted(state: AppState) -> None:
    # given: a Redis broker whose Pub/Sub connection has a name of its own
    import redis.asyncio as redis

    from fiche.broker import RedisBroker

    name = f"fiche-metrics-{uuid.uuid4().hex[:8]}"
    broker = RedisBroker(f"{REDIS_URL}?client_name={name}", namespace=name)
    try:
        await broker.connect()
    except (OSError, redis.RedisError) as exc:
        from tests.conftest import _unavailable

        _unavailable("redis", exc)
    metered = with_metrics(dataclasses.replace(state, broker=broker))
    app = create_app(metered.settings, state=metered)
    admin = redis.Redis.from_url(REDIS_URL)
    try:
        # when: Redis drops that connection
        clients = await admin.client_list(_type="pubsub")
        killed = [client["id"] for client in clients if client.get("name") == name]
        assert killed
        for client_id in killed:
            await admin.client_kill_filter(_id=client_id)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
            for _ in range(200):
                samples = scrape((await http.get("/metrics")).text)
                if value(samples, "fiche_broker_reconnects_total") >= 1:
                    break
                await asyncio.sleep(0.02)
        # then
        assert value(samples, "fiche_broker_reconnects_total") >= 1
    finally:
        await admin.aclose()
        await broker.disconnect()

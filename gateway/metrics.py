"""Prometheus metrics (``GET /metrics``), off unless ``FICHE_METRICS=1``.

Each application owns a :class:`Metrics` with its own ``CollectorRegistry`` (several apps
can live in one process: tests, a host embedding Fiche). Every label is bounded: no user,
organisation or raw query text; an operation name is kept only when it is a GraphQL name
and one of the first :data:`MAX_OPERATION_NAMES` seen, otherwise it becomes ``other``
(``anonymous`` when absent). Values that already exist elsewhere (the pool's checked-out
connections, the broker's reconnections) are read at scrape time.

The rest of the gateway reports through the module functions (:func:`operation_finished`,
:func:`notifications_published`, ...), which do nothing when metrics are off.

With several worker processes (``fiche serve --workers N``) each worker keeps its own
counters and a scrape reaches one of them: scrape each worker, or run one per container.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import event
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fiche.asgi import ResponseStatus

if TYPE_CHECKING:
    from fiche.context import AppState

__all__ = [
    "ANONYMOUS",
    "MAX_OPERATION_NAMES",
    "OTHER",
    "Metrics",
    "MetricsMiddleware",
    "metrics_endpoint",
    "notification_delivered",
    "notifications_delivered",
    "notifications_published",
    "operation_finished",
    "statement_counter",
    "statement_counter_done",
    "subscription_ended",
    "subscription_started",
]

MAX_OPERATION_NAMES = 200
ANONYMOUS = "anonymous"
OTHER = "other"
_GRAPHQL_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,99}$")
# Paths that get a label of their own; every other path (404s, plugin routes) is "other".
_KNOWN_ROUTES = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_STATEMENT_BUCKETS = (0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0)

# SQL statements sent by the current operation (set by the operation, counted by the engine).
_STATEMENTS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("fiche_metrics_statements", default=None)


class _Snapshot(Collector):
    """Values read when Prometheus scrapes: pool connections in use, broker reconnections."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Any]:
        pool = self.state.db.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        in_use = GaugeMetricFamily("fiche_db_pool_connections_in_use", "Database connections checked out of the pool now.")
        in_use.add_metric([], float(checked_out()) if callable(checked_out) else 0.0)
        yield in_use
        reconnects = CounterMetricFamily("fiche_broker_reconnects", "Times the broker lost its connection and reconnected.")
        reconnects.add_metric([], float(getattr(self.state.broker, "reconnects", 0)))
        yield reconnects


class _LagHistogram(Collector):
    """A histogram that takes an observation with a count: the recipients of one event are
    sent their frames in one pass, and their lag is observed once for them all (a
    ``Histogram.observe`` per recipient costs more than the rest of a delivery)."""

    def __init__(self, name: str, documentation: str, buckets: tuple[float, ...]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = (*buckets, float("inf"))
        self.counts = [0] * len(self.bounds)
        self.sum = 0.0

    def observe(self, amount: float, count: int = 1) -> None:
        """``count`` observations of ``amount`` (the event loop's thread only)."""
        self.sum += amount * count
        for index, bound in enumerate(self.bounds):
            if amount <= bound:
                self.counts[index] += count
                return

    def collect(self) -> Iterator[Any]:
        family = HistogramMetricFamily(self.name, self.documentation, unit="")
        cumulative, total = [], 0
        for bound, count in zip(self.bounds, self.counts, strict=True):
            total += count
            cumulative.append((floatToGoString(bound), total))
        family.add_metric([], cumulative, self.sum)
        yield family


class Metrics:
    """The metrics of one application, in a registry of its own."""

    def __init__(self, state: AppState) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._names: set[str] = set()
        r = self.registry
        self.http_requests = Counter(
            "fiche_http_requests", "HTTP requests by route, method and status.", ["route", "method", "status"], registry=r
        )
        self.http_duration = Histogram(
            "fiche_http_request_duration_seconds", "HTTP request duration.", ["route", "method"], buckets=_DURATION_BUCKETS, registry=r
        )
        self.operations = Counter(
            "fiche_graphql_operations",
            "GraphQL operations by name, type, transport and outcome (OK, CANCELLED or the first error code).",
            ["operation_name", "operation_type", "transport", "outcome"],
            registry=r,
        )
        self.operation_duration = Histogram(
            "fiche_graphql_operation_duration_seconds",
            "GraphQL operation duration (a subscription: from start to stop).",
            ["operation_name", "operation_type", "transport"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.operation_statements = Histogram(
            "fiche_graphql_operation_sql_statements",
            "SQL statements sent by one GraphQL operation.",
            ["operation_name", "operation_type"],
            buckets=_STATEMENT_BUCKETS,
            registry=r,
        )
        self.websockets = Gauge("fiche_websockets_open", "WebSocket connections open now.", registry=r)
        self.subscriptions = Gauge("fiche_subscriptions_active", "GraphQL subscriptions running now.", registry=r)
        self.published = Counter("fiche_notifications_published", "Notifications published to the broker.", registry=r)
        self.delivered = Counter("fiche_notifications_delivered", "Notifications sent to a subscriber.", registry=r)
        self.delivery_lag = _LagHistogram(
            "fiche_notification_delivery_lag_seconds",
            "From a notification's commit to its sending to a subscriber.",
            _LAG_BUCKETS,
        )
        r.register(self.delivery_lag)
        r.register(_Snapshot(state))
        event.listen(state.db.sync_engine, "before_cursor_execute", _count_statement)

    def operation_label(self, name: str | None) -> str:
        """A bounded label for a client-chosen operation name."""
        if not name:
            return ANONYMOUS
        if name in self._names:
            return name
        if not _GRAPHQL_NAME.match(name) or len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER
        self._names.add(name)
        return name

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _count_statement(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    counter = _STATEMENTS.get()
    if counter is not None:
        counter[0] += 1


def statement_counter() -> tuple[list[int], contextvars.Token[list[int] | None]]:
    """Start counting the current operation's SQL statements (reset the token when done)."""
    counter = [0]
    return counter, _STATEMENTS.set(counter)


def statement_counter_done(token: contextvars.Token[list[int] | None]) -> None:
    try:
        _STATEMENTS.reset(token)
    except ValueError:  # a subscription generator closed from another context
        pass


def _of(state: Any) -> Metrics | None:
    return getattr(state, "metrics", None)


def operation_finished(
    state: Any, *, name: str | None, operation_type: str | None, transport: str, outcome: str, seconds: float, statements: int
) -> None:
    metrics = _of(state)
    if metrics is None:
        return
    label = metrics.operation_label(name)
    kind = operation_type or "unknown"
    metrics.operations.labels(label, kind, transport, outcome).inc()
    metrics.operation_duration.labels(label, kind, transport).observe(seconds)
    metrics.operation_statements.labels(label, kind).observe(statements)


def subscription_started(state: Any) -> None:
    metrics = _of(state)
    if metrics is not None:
        metrics.subscriptions.inc()


def subscription_ended(state: Any) -> None:
    metrics = _of(state)
    if metrics is not None:
        metrics.subscriptions.dec()


def notifications_published(state: Any, count: int) -> None:
    metrics = _of(state)
    if metrics is not None:
        metrics.published.inc(count)


def notification_delivered(state: Any, created_at: dt.datetime) -> None:
    notifications_delivered(state, created_at, 1)


def notifications_delivered(state: Any, created_at: dt.datetime, count: int) -> None:
    """``count`` notifications of the moment ``created_at`` sent to subscribers just now."""
    metrics = _of(state)
    if metrics is not None and count:
        metrics.delivered.inc(count)
        metrics.delivery_lag.observe(max(0.0, (dt.datetime.now(dt.UTC) - created_at).total_seconds()), count)


class MetricsMiddleware:
    """Counts and times HTTP requests and keeps the number of open WebSockets."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        route = path if path in _KNOWN_ROUTES else OTHER
        method = scope.get("method", "GET") if scope.get("method") in {"GET", "POST", "OPTIONS", "HEAD"} else OTHER
        started = time.perf_counter()
        watched = ResponseStatus(send)
        try:
            await self.app(scope, receive, watched)
        finally:
            self.metrics.http_requests.labels(route, method, str(watched.status)).inc()
            self.metrics.http_duration.labels(route, method).observe(time.perf_counter() - started)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def watched(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.metrics.websockets.inc()
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            if accepted:
                self.metrics.websockets.dec()


def metrics_endpoint(metrics: Metrics) -> Any:
    async def endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return endpoint

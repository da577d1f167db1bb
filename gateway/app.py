"""The ASGI application: ``/graphql`` (POST, GET, WebSocket, GraphiQL), ``/healthz``,
``/readyz``, the GraphiQL assets and plugin routes."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import orjson
import pluggy
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from sqlalchemy import exc as sa_exc
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET

from fiche import graphiql, jsonlimits, persisted
from fiche.auth import authenticate_token, bearer_token
from fiche.broker import broker_from_url
from fiche.context import AppState, ConnectionContext
from fiche.notifications.kinds import MAX_NOTIFICATION_KINDS
from fiche.org_settings import MAX_SETTINGS, PRELOADED_SETTINGS
from fiche.db import Database
from fiche.errors import SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, is_unavailable, once_more_if_stale
from fiche.logs import REQUEST_ID_HEADER, RequestId, configure_logging
from fiche.plugin_host import get_plugin_manager
from fiche.schema import build_schema
from fiche.settings import Settings
from fiche.tracing import Tracing, TracingMiddleware
from fiche.websocket import LegacyWSHandler, TransportWSHandler

__all__ = ["FicheGraphQL", "build_state", "create_app"]

log = logging.getLogger("fiche.app")


def build_state(settings: Settings, pm: pluggy.PluginManager, db: Database | None = None) -> AppState:
    """Registries collected once from the plugins, plus the database and broker handles."""
    node_resolvers: dict[str, Any] = {}
    for contributed in pm.hook.register_node_types():
        clash = node_resolvers.keys() & contributed.keys()
        if clash:
            raise RuntimeError(f"node types registered twice: {sorted(clash)}")
        node_resolvers.update(contributed)
    subject_types = frozenset(name for names in pm.hook.register_subject_types() for name in names)
    missing = subject_types - node_resolvers.keys()
    if missing:
        raise RuntimeError(f"subject types without a node resolver: {sorted(missing)}")
    kinds = {kind.name: kind for kinds in pm.hook.register_notification_kinds() for kind in kinds}
    specs = {spec.key: spec for specs in pm.hook.register_settings() for spec in specs}
    # Both are returned as whole lists whose size the query cost counts.
    if len(kinds) > MAX_NOTIFICATION_KINDS or len(specs) > MAX_SETTINGS:
        raise RuntimeError(f"at most {MAX_NOTIFICATION_KINDS} notification kinds and {MAX_SETTINGS} settings may be registered")
    return AppState(
        settings=settings,
        db=db or Database(settings.database_url),
        broker=broker_from_url(settings.broker_url, settings.broker_namespace),
        pm=pm,
        node_resolvers=node_resolvers,
        subject_types=subject_types,
        notification_kinds=kinds,
        setting_specs=specs,
        storage=pm.hook.file_storage(settings=settings),
    )


class TextFrameAdapter(ASGIWebSocketAdapter):
    """Sends every WebSocket message as a text frame.

    Strawberry sends ``bytes`` from ``encode_json`` as binary frames, and the reference
    ``graphql-ws`` client (like every browser client built on it) reads only text frames:
    it closes the socket with 4004 right after ``connection_ack``."""

    async def send_json(self, message: Any) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


class FicheGraphQL(GraphQL):
    """Strawberry's ASGI view with Fiche's authentication, context, WebSocket protocol
    handlers (:mod:`fiche.websocket`) and offline GraphiQL."""

    websocket_adapter_class = TextFrameAdapter
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, state: AppState, schema: Any) -> None:
        settings = state.settings
        super().__init__(
            schema,
            graphql_ide="graphiql",
            allow_queries_via_get=True,
            keep_alive=True,
            keep_alive_interval=20,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            multipart_uploads_enabled=True,
            allowed_origins=settings.allowed_origins,
        )
        self.state = state

    async def get_context(self, request: Any, response: Any) -> ConnectionContext:  # type: ignore[override]
        context = ConnectionContext(self.state, request, response)
        if request.scope["type"] == "http":
            token = bearer_token(request.headers.get("authorization"))
            preloaded: dict[str, Any] = {}
            # The settings most pages need come with the viewer, in the same statement.
            context.viewer = await once_more_if_stale(
                lambda: authenticate_token(
                    self.state.pm, self.state.settings, self.state.db, token, preload=PRELOADED_SETTINGS, found=preloaded
                )
            )
            if context.viewer is not None:
                context.organization_settings = preloaded
        return context

    async def on_ws_connect(self, context: Any) -> Any:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        raw = params.get("Authorization") or params.get("authorization")
        token = bearer_token(raw) or (params.get("token") if isinstance(params.get("token"), str) else None)
        # Authenticates, then keeps the socket's access current (fiche.live_access).
        if not await self.state.live.connect(context, token):
            raise ConnectionRejectionError({"message": "Authentication required: send a valid token in connection_init."})
        return await super().on_ws_connect(context)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)
        finally:
            if isinstance(request, Request):
                # Closes a multipart form's uploaded files (spooled temporary files) once
                # the operation that read them is over; Starlette does it only for the
                # endpoints it wraps itself, and this view is a raw ASGI app.
                await request.close()

    async def execute_operation(  # noqa: PLR0917
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Any,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        result = await super().execute_operation(request, request_adapter, request_data, context, root_value, sub_response)
        errors = getattr(result, "errors", None) or ()
        if any((error.extensions or {}).get("code") in persisted.CODES for error in errors):
            # "Not found, send the text" must not be kept by an HTTP cache in front of a GET.
            sub_response.headers["Cache-Control"] = "no-store"
        return result

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A persisted query over GET carries no `query` (only `extensions`), and Apollo
        # Client accepts `*/*`: that is an operation, not a browser asking for GraphiQL.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql.graphiql_html(request.url.path))

    def encode_json(self, data: object) -> bytes:
        # HTTP responses only: WebSocket messages go through TextFrameAdapter.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        # Every client JSON goes through here: HTTP bodies, GET variables and extensions,
        # multipart operations and map, WebSocket messages. Each must be an object (batches
        # are not enabled), and Strawberry indexes them unchecked. A JSONDecodeError is a
        # 400 over HTTP and a 4400 close over graphql-transport-ws (legacy graphql-ws
        # ignores the message).
        return jsonlimits.loads_object(data)

    def parse_json(self, data: str | bytes) -> Any:
        # Strawberry's own 400 for bad JSON does not say what is wrong; this one does.
        try:
            return self.decode_json(data)
        except json.JSONDecodeError as exc:
            raise HTTPException(400, f"Unable to parse request JSON: {exc.msg}.") from exc

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        # Strawberry follows each `map` path into `operations` unchecked: a path through a
        # string, a list index that is not a number or out of range, a map that is not
        # {field: [paths]} fail there with these errors, and only with them (the form and
        # the JSON are already parsed; its own 400s are HTTPExceptions).
        try:
            return await super().parse_multipart(request)
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            raise HTTPException(400, "The multipart `map` must map each file to paths of `operations`.") from exc


class _BodyTooLarge(Exception):
    """Raised from ``receive`` when a streamed body passes the limit."""


class UploadLimit:
    """Refuse request bodies larger than the upload limit (HTTP 413): up front from
    ``Content-Length``, and while reading a body sent without one (chunked), so that no
    client can stream an unbounded body into the parsers."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            {"errors": [{"message": f"Request body larger than {self.max_bytes} bytes.", "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
            status_code=413,
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if started:  # too late for a clean answer; drop the connection
                raise
            await self._refuse(scope, receive, send)


# How long a client is asked to wait before it tries again when the database is out of reach.
RETRY_AFTER_SECONDS = 5


async def _unavailable_response(connection: Request | WebSocket, exc: Exception) -> Response | None:
    """503 with a GraphQL-shaped SERVICE_UNAVAILABLE error when the database could not be
    reached before an operation ran (authenticating the request, a download's lookup); a
    WebSocket (its ``connection_init``) is closed with 1013, "try again later", which
    ``graphql-ws`` clients retry. Anything else stays the bug it is."""
    if not is_unavailable(exc):
        raise exc
    log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
    if isinstance(connection, WebSocket):
        with contextlib.suppress(Exception):  # the socket may be gone already
            await connection.close(code=1013, reason="Database unavailable: try again.")
        return None
    body = {"errors": [{"message": UNAVAILABLE_MESSAGE, "extensions": {"code": SERVICE_UNAVAILABLE}}]}
    return JSONResponse(body, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def create_app(settings: Settings | None = None, *, pm: pluggy.PluginManager | None = None, state: AppState | None = None) -> Starlette:
    # With a prepared state, its settings rule everything (CORS, limits, WebSocket origins).
    settings = state.settings if state is not None else (settings or Settings.from_env())
    configure_logging(settings)
    pm = pm or (state.pm if state else get_plugin_manager(settings))
    state = state or build_state(settings, pm)
    schema = build_schema(pm, settings)
    view = FicheGraphQL(state, schema)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        checks: dict[str, str] = {}
        for name, probe in (("database", state.db.ping), ("broker", state.broker.ping)):
            try:
                await probe()
                checks[name] = "ok"
            except Exception as exc:  # readiness reports, it does not crash
                checks[name] = f"unavailable: {type(exc).__name__}"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.broker.connect()
        try:
            yield
        finally:
            await state.broker.disconnect()
            await state.db.dispose()
            if state.tracing is not None:
                state.tracing.shutdown()  # exports the spans still batched

    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *graphiql.asset_routes(),
    ]
    for contributed in pm.hook.register_routes(settings=settings):
        routes.extend(contributed)
    middleware = [Middleware(RequestId), Middleware(UploadLimit, max_bytes=settings.max_upload_bytes + 64 * 1024)]
    if settings.metrics:
        from fiche.metrics import Metrics, MetricsMiddleware, metrics_endpoint

        # One registry per state: an app rebuilt around the same state counts on.
        state.metrics = state.metrics or Metrics(state)
        routes.insert(0, Route("/metrics", metrics_endpoint(state.metrics), methods=["GET"]))
        middleware.insert(0, Middleware(MetricsMiddleware, metrics=state.metrics))
    if state.tracing is None:
        state.tracing = Tracing.from_env()
    if state.tracing is not None:
        state.tracing.instrument(state)
        middleware.insert(0, Middleware(TracingMiddleware, tracing=state.tracing))
    if settings.allowed_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.allowed_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                expose_headers=[REQUEST_ID_HEADER],
                max_age=600,
            )
        )
    unavailable: dict[Any, Any] = dict.fromkeys((ConnectionError, sa_exc.DBAPIError, sa_exc.TimeoutError), _unavailable_response)
    app = Starlette(debug=settings.debug, routes=routes, middleware=middleware, lifespan=lifespan, exception_handlers=unavailable)
    app.state.fiche = state
    app.state.schema = schema
    app.state.graphql_view = view  # the lean WebSocket layer answers with it (fiche.leanws)
    return app

"""OpenTelemetry traces, configured by the standard ``OTEL_*`` variables, off unless set.

With ``pip install 'fiche[otel]'`` and, say, ``OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318``
(or ``OTEL_TRACES_EXPORTER=console``), each application gets its own tracer provider and:

- a span per HTTP request (``POST /graphql``), continuing the caller's trace when the
  request carries a W3C ``traceparent`` header;
- a span per GraphQL operation (over HTTP the child of the request's span; over a
  WebSocket each operation is a span of its own), named ``<type> <name>``, with the
  attributes ``graphql.operation.name``, ``graphql.operation.type`` and
  ``fiche.organization_id``, and the ``graphql.parse``, ``graphql.validate`` and
  ``graphql.execute`` phases as children;
- a span per SQL statement (``opentelemetry-instrumentation-sqlalchemy``) and per Redis
  command of the broker (``opentelemetry-instrumentation-redis``), children of the phase
  that sent them.

The service name, resource attributes, sampler and batching come from the SDK's own
variables (``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_TRACES_SAMPLER``,
``OTEL_BSP_*``); the OTLP exporter reads ``OTEL_EXPORTER_OTLP_*``. ``OTEL_SDK_DISABLED=true``
or ``OTEL_TRACES_EXPORTER=none`` keeps traces off. OpenTelemetry is imported only when
traces are on: the default install does not have it and does not need it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from strawberry.extensions import SchemaExtension
from starlette.types import ASGIApp, Receive, Scope, Send

from fiche.asgi import ResponseStatus

if TYPE_CHECKING:
    from fiche.context import AppState

__all__ = ["OperationTracing", "Tracing", "TracingMiddleware", "tracing_requested"]

log = logging.getLogger("fiche.tracing")

# Any of these turns traces on (the exporter defaults to OTLP, as in the SDK).
_SWITCHES = ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(env.get(name, "").strip() for name in _SWITCHES)


class Tracing:
    """One application's tracer provider and tracer, and what it instruments."""

    def __init__(self, provider: Any) -> None:
        from opentelemetry import trace

        self.provider = provider
        self.tracer = trace.get_tracer("fiche", tracer_provider=provider)
        self._instrumented = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Tracing | None:
        """A provider exporting as the ``OTEL_*`` variables say; None when they ask for
        nothing or when the ``otel`` extra is not installed (said once in the log)."""
        if not tracing_requested(environ):
            return None
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
        except ImportError:
            log.warning("OTEL_* variables are set but OpenTelemetry is not installed: pip install 'fiche[otel]'. Traces are off.")
            return None
        env = os.environ if environ is None else environ
        provider = TracerProvider(resource=Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "fiche"}))
        exporters = [name.strip().lower() for name in env.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if name.strip()]
        for name in exporters:
            exporter: SpanExporter
            if name == "console":
                exporter = ConsoleSpanExporter()
            elif name == "otlp":
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

                exporter = OTLPSpanExporter()
            else:
                raise ValueError(f"OTEL_TRACES_EXPORTER: Fiche knows `otlp`, `console` and `none`, not {name!r}")
            provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    def instrument(self, state: AppState) -> None:
        """SQL statements of the state's database and Redis commands of its broker."""
        if self._instrumented:
            return
        self._instrumented = True
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import get_meter

        tracer = self._library_tracer("opentelemetry.instrumentation.sqlalchemy")
        usage = get_meter("fiche.tracing").create_up_down_counter("db.client.connections.usage")
        EngineTracer(tracer, state.db.sync_engine, usage)
        client = getattr(state.broker, "_redis", None)
        if client is not None:
            from opentelemetry.instrumentation.redis import RedisInstrumentor

            RedisInstrumentor.instrument_client(client, tracer_provider=self.provider)

    def _library_tracer(self, name: str) -> Any:
        from opentelemetry import trace

        return trace.get_tracer(name, tracer_provider=self.provider)

    def shutdown(self) -> None:
        shutdown = getattr(self.provider, "shutdown", None)
        if callable(shutdown):
            shutdown()


def _tracing_of(context: Any) -> Tracing | None:
    app = getattr(getattr(context, "connection", context), "app", None)
    return getattr(app, "tracing", None)


class OperationTracing(SchemaExtension):
    """A span per GraphQL operation, with its parse, validate and execute phases."""

    def on_operation(self) -> Iterator[None]:
        tracing = _tracing_of(self.execution_context.context)
        if tracing is None:
            yield
            return
        from opentelemetry import trace

        with tracing.tracer.start_as_current_span("graphql.operation", kind=trace.SpanKind.SERVER) as span:
            self._tracing = tracing
            try:
                yield
            finally:
                context = self.execution_context
                try:
                    operation_type: str | None = context.operation_type.value
                except Exception:  # a document that does not parse names no operation
                    operation_type = None
                name = context.operation_name
                span.update_name(f"{operation_type or 'operation'} {name or '(anonymous)'}")
                if operation_type:
                    span.set_attribute("graphql.operation.type", operation_type)
                if name:
                    span.set_attribute("graphql.operation.name", name)
                viewer = getattr(getattr(context.context, "connection", context.context), "viewer", None)
                organization_id = getattr(viewer, "organization_id", None)
                if organization_id is not None:
                    span.set_attribute("fiche.organization_id", organization_id)
                result = context.result
                if getattr(result, "errors", None):
                    span.set_status(trace.Status(trace.StatusCode.ERROR))

    def _phase(self, name: str) -> Iterator[None]:
        tracing: Tracing | None = getattr(self, "_tracing", None)
        if tracing is None:
            yield
            return
        with tracing.tracer.start_as_current_span(name):
            yield

    def on_parse(self) -> Iterator[None]:
        yield from self._phase("graphql.parse")

    def on_validate(self) -> Iterator[None]:
        yield from self._phase("graphql.validate")

    def on_execute(self) -> Iterator[None]:
        yield from self._phase("graphql.execute")


class TracingMiddleware:
    """A span per HTTP request, continuing the caller's trace (W3C ``traceparent``)."""

    def __init__(self, app: ASGIApp, tracing: Tracing) -> None:
        self.app = app
        self.tracing = tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from opentelemetry import propagate, trace

        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers") or []}
        method = scope.get("method", "GET")
        path = scope.get("path", "")
        watched = ResponseStatus(send)
        with self.tracing.tracer.start_as_current_span(
            f"{method} {path}",
            context=propagate.extract(headers),
            kind=trace.SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:
            try:
                await self.app(scope, receive, watched)
            finally:
                span.set_attribute("http.response.status_code", watched.status)
                if watched.status >= 500:
                    span.set_status(trace.Status(trace.StatusCode.ERROR))

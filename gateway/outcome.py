"""What an operation ends with: the errors its client sees and the one line it logs.

:class:`OperationOutcome` is a schema extension that sees every result of every operation
(HTTP, both WebSocket protocols, each event of a subscription) before it leaves:

- the database out of reach (:func:`fiche.errors.is_unavailable`) is SERVICE_UNAVAILABLE,
  "try again", logged as a warning: the client did nothing wrong and nothing is broken;
- a bug (:func:`fiche.errors.is_unexpected`) is masked as "Unexpected error." outside
  debug mode, and its exception goes to the log;
- every error gets an ``extensions.code`` (:func:`fiche.errors.error_code`);
- with introspection switched off, "Did you mean ...?" hints are cut from messages, so the
  schema cannot be guessed through typos either;
- when the operation ends (a query's answer, a subscription's last event or its stop),
  one log line says who ran what, how long it took and how it ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import PreExecutionError

from fiche import metrics
from fiche.errors import (
    INTERNAL_SERVER_ERROR,
    SERVICE_UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    error_code,
    exception_code,
    is_unavailable,
    is_unexpected,
    without_suggestions,
)
from fiche.logs import request_id_of

__all__ = ["MASKED_MESSAGE", "OperationOutcome"]

MASKED_MESSAGE = "Unexpected error."
log = logging.getLogger("fiche.graphql")


class OperationOutcome(SchemaExtension):
    """Shapes each result's errors and logs the operation once it is over (see module)."""

    def __init__(self, *, mask: bool = True, hide_suggestions: bool = False) -> None:
        self.mask = mask
        self.hide_suggestions = hide_suggestions
        self._streamed = False
        self._codes: dict[str, None] = {}  # ordered set of the codes sent to the client
        self._unexpected: BaseException | None = None
        self._unavailable: BaseException | None = None
        self._subscribed = False

    # -- hooks ---------------------------------------------------------------------------
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        cancelled = False
        statements, token = metrics.statement_counter()
        try:
            yield
        except (GeneratorExit, asyncio.CancelledError):  # a stopped subscription, a closed socket
            cancelled = True
            raise
        except Exception as exc:  # raised by a hook (e.g. UNAUTHENTICATED): Strawberry builds the result
            code = self._note(exc)
            if code == SERVICE_UNAVAILABLE:
                raise GraphQLError(UNAVAILABLE_MESSAGE, extensions={"code": SERVICE_UNAVAILABLE}) from exc
            if code == INTERNAL_SERVER_ERROR and self.mask:
                raise GraphQLError(MASKED_MESSAGE, extensions={"code": INTERNAL_SERVER_ERROR}) from exc
            raise
        else:
            if not self._streamed:
                self._shape(self.execution_context.result)
        finally:
            metrics.statement_counter_done(token)
            if self._subscribed:
                metrics.subscription_ended(self._app_state())
            self._log(time.perf_counter() - started, cancelled, statements[0])

    def on_execute(self) -> Iterator[None]:
        # A subscription runs until on_operation ends; it is counted as active till then.
        if self._operation_type() == "subscription":
            self._subscribed = True
            metrics.subscription_started(self._app_state())
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        self._shape(result)
        yield

    # -- shaping -------------------------------------------------------------------------
    def _shape(self, result: Any) -> None:
        errors = getattr(result, "errors", None)
        if errors:
            before_execution = isinstance(result, PreExecutionError)
            result.errors = [self._shape_error(error, before_execution) for error in errors]

    def _shape_error(self, error: GraphQLError, before_execution: bool) -> GraphQLError:
        code = error_code(error, before_execution=before_execution)
        self._codes[code or "ERROR"] = None
        if code == SERVICE_UNAVAILABLE and is_unavailable(error.original_error):
            self._unavailable = self._unavailable or error.original_error
            # The original stays attached (never shown): a query may be run again on it.
            return GraphQLError(
                UNAVAILABLE_MESSAGE, error.nodes, error.source, error.positions, error.path, error.original_error, {"code": code}
            )
        if is_unexpected(error):
            if self._unexpected is None:
                self._unexpected = error.original_error
            if self.mask:
                return GraphQLError(MASKED_MESSAGE, error.nodes, error.source, error.positions, error.path, extensions={"code": code})
        message = without_suggestions(error.message) if self.hide_suggestions else error.message
        extensions = error.extensions or {}
        if message == error.message and extensions.get("code") == code:
            return error
        if code is not None:
            extensions = {**extensions, "code": code}
        return GraphQLError(message, error.nodes, error.source, error.positions, error.path, error.original_error, extensions)

    def _note(self, exc: Exception) -> str:
        """The code of an exception that ended the operation, remembered for the log."""
        code = exception_code(exc)
        if code == SERVICE_UNAVAILABLE:
            self._unavailable = self._unavailable or exc
        elif code == INTERNAL_SERVER_ERROR:
            self._unexpected = self._unexpected or exc
        self._codes[code] = None
        return code

    # -- logging -------------------------------------------------------------------------
    def _operation_type(self) -> str | None:
        try:
            return self.execution_context.operation_type.value
        except Exception:  # no document (a syntax error) or no operation to run
            return None

    def _app_state(self) -> Any:
        context = self.execution_context.context
        return getattr(getattr(context, "connection", context), "app", None)

    def _log(self, seconds: float, cancelled: bool, statements: int) -> None:
        context = self.execution_context
        operation_type = self._operation_type()
        connection = getattr(context.context, "connection", context.context)
        request = getattr(connection, "request", None)
        scope = getattr(request, "scope", None) or {}
        transport = "ws" if scope.get("type") == "websocket" else "http"
        codes = list(self._codes)
        outcome = "CANCELLED" if cancelled and not codes else (codes[0] if codes else "OK")
        metrics.operation_finished(
            getattr(connection, "app", None),
            name=context.operation_name,
            operation_type=operation_type,
            transport=transport,
            outcome=outcome,
            seconds=seconds,
            statements=statements,
        )
        level = logging.ERROR if self._unexpected is not None else logging.WARNING if self._unavailable is not None else logging.INFO
        if not log.isEnabledFor(level):
            return
        viewer = getattr(connection, "viewer", None)
        fields = {
            "request_id": request_id_of(scope),
            "transport": transport,
            "operation_type": operation_type,
            "operation_name": context.operation_name,
            "user_id": getattr(viewer, "user_id", None),
            "organization_id": getattr(viewer, "organization_id", None),
            "duration_ms": round(seconds * 1000, 2),
            "outcome": outcome,
            "error_codes": codes,
        }
        if self._unavailable is not None:
            fields["cause"] = f"{type(self._unavailable).__name__}: {self._unavailable}"[:300]
        exc_info = None
        if self._unexpected is not None:
            exc_info = (type(self._unexpected), self._unexpected, self._unexpected.__traceback__)
        log.log(
            level,
            "%s %s %s in %.1f ms",
            operation_type or "operation",
            context.operation_name or "(anonymous)",
            outcome,
            seconds * 1000,
            extra={"fields": fields},
            exc_info=exc_info,
        )

"""GraphQL over WebSocket: Strawberry's two protocol handlers, made to answer every
operation in a way its client can read.

- ``graphql-transport-ws``: every error found before execution (syntax, limits,
  validation, an unknown operation name) is an ``error`` message with the GraphQL errors,
  where Strawberry closes the socket on some of them (4400), killing the client's other
  subscriptions for one bad document.
- ``graphql-ws`` (legacy): queries and mutations run and answer ``data`` then
  ``complete``, as the protocol's reference server does; Strawberry runs only
  subscriptions there and refused the rest with a masked error.
- Both: an operation that fails outside GraphQL's own error handling ends with an
  ``error`` message (masked, ``INTERNAL_SERVER_ERROR``), never a bare ``complete`` or
  silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from graphql import GraphQLError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import CompleteMessage, ErrorMessage
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from fiche.errors import INTERNAL_SERVER_ERROR
from fiche.outcome import MASKED_MESSAGE

__all__ = ["LegacyWSHandler", "TransportWSHandler"]

log = logging.getLogger("fiche.websocket")


def _internal_error() -> GraphQLError:
    return GraphQLError(MASKED_MESSAGE, extensions={"code": INTERNAL_SERVER_ERROR})


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """``graphql-transport-ws`` answering pre-execution errors with ``error`` messages."""

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        return None  # never close the socket for one operation's errors: answer them

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception:
            log.exception("graphql-transport-ws operation failed outside GraphQL")
            with contextlib.suppress(WebSocketDisconnected):
                await operation.send_initial_errors([_internal_error()])


def _start_problem(message: Any) -> str | None:
    """Why a legacy ``start`` message cannot run, or None when its shape is right."""
    payload = message.get("payload")
    if not isinstance(message.get("id"), str):
        return "A start message needs a string `id`."
    if not isinstance(payload, dict):
        return "A start message needs a `payload` object."
    if not isinstance(payload.get("query"), str):
        return "The payload needs a `query` string."
    if not isinstance(payload.get("variables"), dict | None):
        return "`variables` must be an object."
    if not isinstance(payload.get("operationName"), str | None):
        return "`operationName` must be a string."
    return None


class LegacyWSHandler(BaseGraphQLWSHandler[Any, Any]):
    """``graphql-ws`` running queries, mutations and subscriptions alike."""

    async def handle_start(self, message: Any) -> None:
        # Strawberry indexes the payload as it comes: a payload that is not an object (or an
        # id that is not a string) crashed the handler. Answer the client's mistake instead.
        problem = _start_problem(message) if self.connection_acknowledged else None
        if problem is not None:
            operation_id = message.get("id") if isinstance(message.get("id"), str) else ""
            error = {"message": problem, "extensions": {"code": "BAD_USER_INPUT"}}
            await self.send_message(ErrorMessage(type="error", id=operation_id, payload=error))  # type: ignore[typeddict-item]
            return
        await super().handle_start(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        try:
            result_source = await self.schema.stream(
                query=query,
                variable_values=variables,
                operation_name=operation_name,
                context_value=self.context,
                root_value=self.root_value,
            )
            self.subscriptions[operation_id] = result_source
            first = True
            async for result in result_source:
                if first and isinstance(result, PreExecutionError) and result.errors:
                    # The protocol's GQL_ERROR carries one error object.
                    await self.send_message(ErrorMessage(type="error", id=operation_id, payload=result.errors[0].formatted))
                    return
                await self.send_data_message(result, operation_id)  # type: ignore[arg-type]
                first = False
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:  # stopped by the client
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except Exception:
            log.exception("graphql-ws operation failed outside GraphQL")
            with contextlib.suppress(WebSocketDisconnected):
                await self.send_message(ErrorMessage(type="error", id=operation_id, payload=_internal_error().formatted))
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

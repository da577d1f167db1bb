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
- Both: a ``notifications`` subscription whose selection compiles into a projection
  (:mod:`fiche.notifications.projection`) is handed to the process's delivery hub
  (:mod:`fiche.notifications.hub`) instead of a task and a generator of its own; any
  other operation, and any such subscription that would be refused, runs as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from collections.abc import Callable, Coroutine
from typing import Any

import orjson

from graphql import GraphQLError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler, Operation
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import CompleteMessage, ErrorMessage
from strawberry.types.execution import PreExecutionError
from strawberry.utils.aio import aclosing

from fiche.context import ConnectionContext, OperationContext, _take_subscription_slot
from fiche.errors import INTERNAL_SERVER_ERROR, PublicError
from fiche.notifications.hub import Delivery, hub_of
from fiche.notifications.projection import Projection, compile_plan
from fiche.notifications.schema import seq_of
from fiche.outcome import MASKED_MESSAGE

__all__ = ["HubSubscriptions", "LegacyWSHandler", "TransportWSHandler", "head_of", "internal_error"]

log = logging.getLogger("fiche.websocket")


def internal_error() -> GraphQLError:
    return GraphQLError(MASKED_MESSAGE, extensions={"code": INTERNAL_SERVER_ERROR})


class _Fallback(Exception):
    """The subscription is refused, or cannot start here: let Strawberry run it (and give
    the exact refusal)."""


class HubSubscriptions:
    """What both protocol handlers share to hand ``notifications`` subscriptions to the hub:
    ``deliveries`` by operation id (None while one starts)."""

    __slots__ = ("_hub_starting", "deliveries")

    context: Any
    schema: Any
    websocket: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deliveries: dict[str, Delivery | None] = {}
        self._hub_starting: dict[str, asyncio.Future[None]] = {}

    def _hub_projection(self, payload: Any) -> Projection | None:
        """The projection of a subscribe payload the hub can deliver, or None."""
        connection = self.context
        if not isinstance(connection, ConnectionContext) or not isinstance(payload, dict):
            return None
        hub = hub_of(connection.app)
        if not hub.enabled:
            return None
        variables = payload.get("variables")
        if not isinstance(variables, dict | None):
            return None
        try:
            plan = compile_plan(self.schema, connection.app.settings, payload.get("query"), payload.get("operationName"))
            projection = plan.projection(variables) if plan is not None else None
        except Exception:  # a bug here must not cost the client its socket: Strawberry runs it
            log.exception("could not plan a notifications subscription")
            hub.fallbacks += 1
            return None
        if plan is None:
            return None
        if projection is None:
            hub.fallbacks += 1
        return projection

    def _hub_start(self, operation_id: str, projection: Projection, head: bytes, fallback: Any) -> None:
        self.deliveries[operation_id] = None
        task = asyncio.ensure_future(self._hub_run(operation_id, projection, head, fallback))
        self._hub_starting[operation_id] = task
        task.add_done_callback(lambda _task: self._hub_starting.pop(operation_id, None))

    async def _hub_run(self, operation_id: str, projection: Projection, head: bytes, fallback: Any) -> None:
        connection: ConnectionContext = self.context
        app = connection.app
        hub = hub_of(app)
        deliveries = self.deliveries
        try:
            try:
                delivery = await self._hub_prepare(connection, projection, head)
            except _Fallback:
                if deliveries.get(operation_id, 0) is None:  # not completed meanwhile
                    del deliveries[operation_id]
                    hub.fallbacks += 1
                    await fallback()
                return
            if delivery is None:
                deliveries.pop(operation_id, None)  # the socket is being closed (4403)
                return
            if deliveries.get(operation_id, 0) is not None:  # the client completed meanwhile
                if delivery.slot is not None:
                    await app.broker.release(*delivery.slot)
                return
            deliveries[operation_id] = delivery
            await hub.add(delivery, from_latest=projection.after is None)
        except Exception:
            log.exception("notifications subscription failed to start")
            deliveries.pop(operation_id, None)
            with contextlib.suppress(Exception):
                await self._hub_failed(operation_id)

    async def _hub_failed(self, operation_id: str) -> None:
        raise NotImplementedError

    async def _hub_prepare(self, connection: ConnectionContext, projection: Projection, head: bytes) -> Delivery | None:
        """Check the socket's access, take the user's subscription slot, fix where delivery
        starts (``after``; without it the hub reads the latest number once it listens):
        the steps of the per-socket path, in its order."""
        if connection.live:
            await connection.app.live.check(connection)
            if connection.viewer is None:
                return None  # closed with 4403
        viewer = connection.viewer
        if viewer is None:
            raise _Fallback
        context = OperationContext(connection)
        try:
            # Shielded: a socket closed while the broker counts would otherwise leave a
            # slot taken on the broker with nobody to give it back (until its lease ends).
            # (``holder`` keeps the slot for the callback: nothing else touches it.)
            holder = OperationContext(connection)
            taking = asyncio.ensure_future(_take_subscription_slot(holder, viewer))
            try:
                await asyncio.shield(taking)
            except PublicError as exc:
                raise _Fallback from exc
            except asyncio.CancelledError:
                taking.add_done_callback(partial(_give_back, holder))
                raise
            slot = holder.subscription_slot
            last = 0
            try:
                if projection.after is not None:
                    last = await seq_of(context, viewer.user_id, projection.after)
            except BaseException as exc:
                if slot is not None:
                    await context.broker.release(*slot)
                if isinstance(exc, PublicError):
                    raise _Fallback from exc
                raise
        finally:
            context.subscription_slot = None
            await context.close()
        return Delivery(connection, viewer, projection, head, self._hub_sender(), slot, last, self._hub_writer())

    def _hub_sender(self) -> Callable[[bytes], Coroutine[Any, Any, None]]:
        """How the hub writes this socket a text frame of a UTF-8 message, waiting if need be."""
        send_text = self.websocket.ws.send_text

        def send(message: bytes) -> Coroutine[Any, Any, None]:
            return send_text(message.decode())

        return send

    def _hub_writer(self) -> Callable[[bytes], bool] | None:
        """How the hub writes this socket a text frame without waiting (see
        :attr:`fiche.notifications.hub.Delivery.write`); None: through the sender only."""
        return None

    async def _hub_stop(self, operation_id: str) -> bool:
        """Stop a hub subscription; False when ``operation_id`` is not one."""
        deliveries = self.deliveries
        if operation_id not in deliveries:
            return False
        delivery = deliveries.pop(operation_id)
        if delivery is not None:
            await hub_of(self.context.app).remove(delivery)
        return True

    async def _hub_shutdown(self) -> None:
        for task in tuple(self._hub_starting.values()):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for operation_id in tuple(self.deliveries):
            await self._hub_stop(operation_id)


def _give_back(context: OperationContext, taking: asyncio.Future[None]) -> None:
    """Release the slot a cancelled start took after all."""
    slot = context.subscription_slot
    if not taking.cancelled() and taking.exception() is None and slot is not None:
        context.subscription_slot = None
        _releases.add(task := asyncio.ensure_future(context.broker.release(*slot)))
        task.add_done_callback(_releases.discard)


_releases: set[asyncio.Future[None]] = set()


def head_of(operation_id: str, kind: str) -> bytes:
    """A frame of ``kind`` for ``operation_id`` up to its data (the hub adds the rest)."""
    return b'{"id":' + orjson.dumps(operation_id) + b',"type":"' + kind.encode() + b'","payload":{"data":'


class TransportWSHandler(HubSubscriptions, BaseGraphQLTransportWSHandler[Any, Any]):
    """``graphql-transport-ws`` answering pre-execution errors with ``error`` messages."""

    async def handle_subscribe(self, message: Any) -> None:
        operation_id = message.get("id")
        if isinstance(operation_id, str) and self.connection_acknowledged:
            if operation_id in self.deliveries:
                await self.websocket.close(code=4409, reason=f"Subscriber for {operation_id} already exists")
                return
            if operation_id not in self.operations:
                projection = self._hub_projection(message.get("payload"))
                if projection is not None:
                    self._hub_start(operation_id, projection, head_of(operation_id, "next"), lambda: super(TransportWSHandler, self).handle_subscribe(message))
                    return
        await super().handle_subscribe(message)

    async def handle_complete(self, message: Any) -> None:
        if not await self._hub_stop(message["id"]):
            await super().handle_complete(message)

    async def shutdown(self) -> None:
        await self._hub_shutdown()
        await super().shutdown()

    async def _hub_failed(self, operation_id: str) -> None:
        await self.send_message({"id": operation_id, "type": "error", "payload": [internal_error().formatted]})

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
                await operation.send_initial_errors([internal_error()])


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


class LegacyWSHandler(HubSubscriptions, BaseGraphQLWSHandler[Any, Any]):
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
        if self.connection_acknowledged:
            operation_id = message["id"]
            # A start with the id of a running operation replaces it (as Strawberry does).
            await self._hub_stop(operation_id)
            if operation_id not in self.tasks:
                projection = self._hub_projection(message["payload"])
                if projection is not None:
                    self._hub_start(operation_id, projection, head_of(operation_id, "data"), lambda: super(LegacyWSHandler, self).handle_start(message))
                    return
        await super().handle_start(message)

    async def handle_stop(self, message: Any) -> None:
        if await self._hub_stop(message["id"]):
            await self.send_message(CompleteMessage(type="complete", id=message["id"]))
            return
        await super().handle_stop(message)

    async def cleanup(self) -> None:
        await self._hub_shutdown()
        await super().cleanup()

    async def _hub_failed(self, operation_id: str) -> None:
        await self.send_message(ErrorMessage(type="error", id=operation_id, payload=internal_error().formatted))

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
                await self.send_data_message(result, operation_id)
                first = False
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except asyncio.CancelledError:  # stopped by the client
            await self.send_message(CompleteMessage(type="complete", id=operation_id))
        except Exception:
            log.exception("graphql-ws operation failed outside GraphQL")
            with contextlib.suppress(WebSocketDisconnected):
                await self.send_message(ErrorMessage(type="error", id=operation_id, payload=internal_error().formatted))
        finally:
            self.subscriptions.pop(operation_id, None)
            self.tasks.pop(operation_id, None)

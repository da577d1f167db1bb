"""``graphql-transport-ws`` spoken by the lean WebSocket layer, message by message.

:class:`TransportSession` is the protocol side of one lean connection
(:mod:`fiche.leanws.protocol` is the transport side): the same answers as Strawberry's
handler with Fiche's changes (:class:`fiche.websocket.TransportWSHandler`), in the same
order, with the same close codes and reasons, but no task while the socket is idle:

- ``ping`` / ``pong`` are answered at once; every other message runs in a short task that
  ends once the messages waiting are handled (one at a time, in order, as Strawberry does);
- ``connection_init`` authenticates with the view's ``on_ws_connect`` (the live access
  checks of :mod:`fiche.live_access` included);
- a ``notifications`` subscription the hub can deliver is handed to the process's hub
  (:class:`fiche.websocket.HubSubscriptions`), whose frames are written straight to the
  transport;
- any other operation (queries, mutations, other subscriptions, a refused
  ``notifications``) runs through Strawberry's own handler, made on first use for the
  socket, so its messages are exactly today's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.unset import UnsetType

from fiche.errors import is_unavailable
from fiche.websocket import HubSubscriptions, TransportWSHandler, head_of, internal_error

if TYPE_CHECKING:
    from fiche.context import ConnectionContext

__all__ = ["TransportSession"]

log = logging.getLogger("fiche.leanws")
UNAVAILABLE_REASON = "Database unavailable: try again."  # as fiche.app closes the ASGI path's socket

_closing: set[asyncio.Future[Any]] = set()  # shutdowns running after their socket closed


def spawn(work: Any) -> asyncio.Future[Any]:
    task = asyncio.ensure_future(work)
    _closing.add(task)
    task.add_done_callback(_closing.discard)
    return task


class TransportSession(HubSubscriptions):
    """The ``graphql-transport-ws`` state of one lean connection (a mixin of the protocol,
    which provides ``close``, ``send_text``, ``send_json``, ``pause`` and ``resume``)."""

    __slots__ = ("acknowledged", "context", "handler", "inbox", "init_received", "init_timer", "pump", "schema", "timed_out", "view")

    view: Any
    schema: Any
    context: ConnectionContext | None
    handler: TransportWSHandler | None
    inbox: collections.deque[str | None] | None
    pump: asyncio.Future[None] | None
    init_timer: asyncio.TimerHandle | None
    init_received: bool
    acknowledged: bool
    timed_out: bool
    ended: bool  # (the protocol's)
    close_sent: bool  # (the protocol's)

    # What the protocol provides -----------------------------------------------------------
    async def close(self, code: int = 1000, reason: str = "") -> None:
        raise NotImplementedError

    async def send_text(self, text: str) -> None:
        raise NotImplementedError

    async def send_json(self, message: Any) -> None:
        raise NotImplementedError

    def send_now(self, data: bytes) -> None:
        raise NotImplementedError

    async def send_frame(self, data: bytes) -> None:
        raise NotImplementedError

    def write_frame(self, data: bytes) -> bool:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError

    # Messages -----------------------------------------------------------------------------
    def received(self, text: str | None) -> None:
        """A whole message from the client (None: a binary one)."""
        if self.close_sent or self.ended:
            return  # past the close: dropped, as uvicorn drops them for the ASGI app
        if self.pump is None and text is not None and self._is_ping(text):
            self.send_now(b'{"type":"pong"}')
            return
        inbox = self.inbox
        if inbox is None:
            inbox = self.inbox = collections.deque()
        inbox.append(text)
        if self.pump is None:
            self.pump = asyncio.ensure_future(self._handle_inbox())
        elif len(inbox) > 1:
            self.pause()  # the client sends faster than the messages are handled

    async def _handle_inbox(self) -> None:
        inbox = self.inbox
        try:
            while inbox and not (self.close_sent or self.ended):
                await self._handle(inbox.popleft())
        except Exception as exc:
            await self._failed(exc)
        finally:
            self.pump = None
            self.inbox = None
            self.resume()

    async def _failed(self, exc: Exception) -> None:
        """An exception out of a handler: what the ASGI path does with it (fiche.app)."""
        if is_unavailable(exc):
            log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
            await self.close(1013, UNAVAILABLE_REASON)
            return
        log.error("Exception in ASGI application\n", exc_info=exc)
        self.abort()

    async def _handle(self, text: str | None) -> None:
        if text is None:
            await self.close(4400, "WebSocket message type must be text")
            return
        try:
            message = self.view.decode_json(text)
        except json.JSONDecodeError:
            await self.close(4400, "WebSocket message must be valid JSON")
            return
        try:
            kind = message["type"]
            if kind == "connection_init":
                await self._connection_init(message)
            elif kind == "ping":
                await self.send_json({"type": "pong"})
            elif kind == "pong":
                pass
            elif kind == "subscribe":
                await self._subscribe(message)
            elif kind == "complete":
                await self._complete(message)
            else:
                await self.close(4400, f"Unknown message type: {kind}")
        except KeyError:
            await self.close(4400, "Failed to parse message")

    def init_timed_out(self) -> None:
        self.init_timer = None
        if self.init_received or self.close_sent or self.ended:
            return
        self.timed_out = True
        spawn(self.close(4408, "Connection initialisation timeout"))

    async def _connection_init(self, message: Any) -> None:
        if self.timed_out:
            return
        if self.init_timer is not None:
            self.init_timer.cancel()
            self.init_timer = None
        payload = message.get("payload", {})
        if not isinstance(payload, dict):
            await self.close(4400, "Invalid connection init payload")
            return
        if self.init_received:
            await self.close(4429, "Too many initialisation requests")
            return
        self.init_received = True
        context = self.context
        assert context is not None
        context.connection_params = payload
        try:
            ack = await self.view.on_ws_connect(context)
        except ConnectionRejectionError:
            await self.close(4403, "Forbidden")
            return
        if isinstance(ack, UnsetType):
            await self.send_json({"type": "connection_ack"})
        else:
            await self.send_json({"type": "connection_ack", "payload": ack})
        self.acknowledged = True

    async def _subscribe(self, message: Any) -> None:
        operation_id = message.get("id")
        if isinstance(operation_id, str) and self.acknowledged:
            if operation_id in self.deliveries:
                await self.close(4409, f"Subscriber for {operation_id} already exists")
                return
            if self.handler is None or operation_id not in self.handler.operations:
                projection = self._hub_projection(message.get("payload"))
                if projection is not None:
                    self._hub_start(operation_id, projection, head_of(operation_id, "next"), lambda: self._strawberry_subscribe(message))
                    return
        await self._strawberry_subscribe(message)

    async def _strawberry_subscribe(self, message: Any) -> None:
        if not self.acknowledged:
            await self.close(4401, "Unauthorized")
            return
        await BaseGraphQLTransportWSHandler.handle_subscribe(await self._handler(), message)

    async def _handler(self) -> TransportWSHandler:
        """Strawberry's handler for this socket (operations the hub does not deliver)."""
        handler = self.handler
        if handler is None:
            view = self.view
            handler = self.handler = TransportWSHandler(
                view=view,
                websocket=self,
                context=self.context,
                root_value=await view.get_root_value(self),
                schema=view.schema,
                connection_init_wait_timeout=view.connection_init_wait_timeout,
                max_subscriptions_per_connection=view.max_subscriptions_per_connection,
            )
            handler.connection_init_received = handler.connection_acknowledged = True
        return handler

    async def _complete(self, message: Any) -> None:
        operation_id = message["id"]
        if not await self._hub_stop(operation_id) and self.handler is not None:
            await self.handler.handle_complete(message)

    async def _hub_failed(self, operation_id: str) -> None:
        await self.send_json({"id": operation_id, "type": "error", "payload": [internal_error().formatted]})

    def _hub_sender(self) -> Any:
        return self.send_frame

    def _hub_writer(self) -> Any:
        return self.write_frame

    def _is_ping(self, text: str) -> bool:
        """Whether ``text`` is a plain ``ping`` (answered at once, without a task)."""
        if "ping" not in text:
            return False
        try:
            message = self.view.decode_json(text)
        except json.JSONDecodeError:
            return False
        return message.get("type") == "ping"

    # The end ------------------------------------------------------------------------------
    async def shut_down(self) -> None:
        """Once the socket is closing: stop every operation, give back every slot."""
        pump = self.pump
        if pump is not None and pump is not asyncio.current_task():
            with contextlib.suppress(BaseException):
                await pump
        await self._hub_shutdown()
        if self.handler is not None:
            await self.handler.shutdown()
        # The context's ``request`` and the handler's ``websocket`` are this connection:
        # dropped, reference counting frees it all once the transport lets go.
        self.handler = None
        self.context = None


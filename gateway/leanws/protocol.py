"""The lean WebSocket layer: a uvicorn WebSocket protocol class that speaks
``graphql-transport-ws`` on ``/graphql`` itself.

uvicorn hands a WebSocket upgrade to its ``ws`` protocol class. Through the ASGI path an
idle subscriber costs uvicorn's protocol (with the handshake's request and response kept),
its receive queue, the connection's ASGI task and the await chain of Starlette's middleware
and Strawberry's handler: ~36 kB and a frame stack per socket (bench/RESULTS.md). Here a
connection is one slotted object holding websockets' sans-I/O :class:`ServerProtocol` (the
framing, the closing handshake, size limits: no framing written by hand), the
:class:`~fiche.context.ConnectionContext` and its timers, with NO task, queue or coroutine
while it is idle (:mod:`fiche.leanws.session` handles the messages), the handshake dropped
once answered. The hub writes each frame straight to the transport.

Everything else is handed, at the handshake, to uvicorn's own ``websockets-sansio``
protocol and so to the unchanged ASGI application: other paths, the legacy ``graphql-ws``
subprotocol, a refused ``Origin`` (answered 403 there), compression
(``FICHE_WS_COMPRESSION=1``), tracing (its spans wrap the ASGI path).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import struct
from typing import Any
from urllib.parse import unquote

import orjson

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.websocket_origin import is_same_origin
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from fiche.context import ConnectionContext
from fiche.leanws.session import TransportSession, spawn
from fiche.logs import REQUEST_ID_HEADER, request_id_for

__all__ = ["LeanWebSocketProtocol"]

log = logging.getLogger("uvicorn.error")  # the lines uvicorn's own protocol writes
SUBPROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
CLOSE_TIMEOUT = 10.0  # as uvicorn: how long the client has to answer our close


def fiche_app(app: Any) -> Any:
    """The Starlette app of ``create_app`` inside uvicorn's wrappers, or None."""
    for _ in range(16):
        if app is None:
            return None
        if getattr(getattr(app, "state", None), "fiche", None) is not None:
            return app
        app = getattr(app, "app", None)
    return None


class LeanWebSocketProtocol(TransportSession, asyncio.Protocol):
    """One WebSocket connection (``FICHE_WS_SERVER=lean``)."""

    __slots__ = (
        "app_state", "binary", "close_sent", "close_timer", "config", "conn", "connections", "delegate", "drained",
        "ended", "fragments", "lost", "metrics", "paused", "pending", "ping_payload", "ping_timer", "pong_timer",
        "request_id", "server_state", "transport", "writable",
    )

    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: Any = None) -> None:
        if not config.loaded:
            config.load()
        self.deliveries = {}
        self._hub_starting = {}
        self.binary = False
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.connections = server_state.connections
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.conn: ServerProtocol | None = ServerProtocol(max_size=config.ws_max_size, logger=log)
        self.pending: list[bytes] | None = []  # the raw handshake, until it is decided
        self.delegate: WebSocketsSansIOProtocol | None = None
        self.view: Any = None
        self.schema: Any = None
        self.context: ConnectionContext | None = None
        self.handler = None
        self.inbox = None
        self.pump = None
        self.fragments: list[bytes] | None = None  # a message in several frames (None: text)
        self.init_timer: asyncio.TimerHandle | None = None
        self.ping_timer: asyncio.TimerHandle | None = None
        self.pong_timer: asyncio.TimerHandle | None = None
        self.close_timer: asyncio.TimerHandle | None = None
        self.ping_payload: bytes | None = None
        self.drained: asyncio.Future[None] | None = None
        self.request_id = ""
        self.metrics: Any = None
        self.init_received = self.acknowledged = self.timed_out = False
        self.close_sent = self.ended = self.lost = self.paused = False
        self.writable = True

    # -- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.delegate is not None:
            self.delegate.data_received(data)
            return
        conn = self.conn
        if conn is None:
            return
        if self.pending is not None:
            self.pending.append(data)
        conn.receive_data(data)
        for event in conn.events_received():
            if isinstance(event, Request):
                if not self._handshake(conn, event):
                    return
            elif isinstance(event, Frame):
                self._frame(event)
        if conn.parser_exc is not None:  # too large, not UTF-8, bad framing: closed by websockets
            self._flush()
            self.close_sent = True
            self.transport.close()
            self._end()
            return
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.delegate is not None:
            self.delegate.connection_lost(exc)
            return
        self.connections.discard(self)
        self.lost = True
        self._wake_writers()
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self._end()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> None:
        if self.delegate is not None:
            self.delegate.eof_received()

    def pause_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.pause_writing()
            return
        self.writable = False

    def resume_writing(self) -> None:
        if self.delegate is not None:
            self.delegate.resume_writing()
            return
        self.writable = True
        self._wake_writers()

    def shutdown(self) -> None:
        """The server is stopping (uvicorn calls it on every connection): 1012."""
        if self.delegate is not None:
            self.delegate.shutdown()
            return
        if self.conn is not None and not self.close_sent and self.context is not None:
            self.conn.send_close(1012)
            self._flush()
        self.close_sent = True
        self.transport.close()
        self._end()

    # -- the handshake ---------------------------------------------------------------------
    def _handshake(self, conn: ServerProtocol, request: Request) -> bool:
        """Answer the upgrade here (True) or hand the connection to uvicorn's protocol."""
        app = fiche_app(self.config.loaded_app)
        headers = request.headers
        offered = [token.strip() for header in headers.get_all("Sec-WebSocket-Protocol") for token in header.split(",")]
        chosen = next((name for name in offered if name in SUBPROTOCOLS), None)  # the client's order, as Strawberry
        if (
            app is None
            or chosen != GRAPHQL_TRANSPORT_WS_PROTOCOL
            or (self.config.ws_per_message_deflate and "Sec-WebSocket-Extensions" in headers)
            or self.config.root_path
            or unquote(request.path.partition("?")[0]) != "/graphql"
            or app.state.fiche.tracing is not None
            or not _origin_allowed(app.state.graphql_view, headers)
        ):
            self._hand_over()
            return False
        response = conn.accept(request)
        self.pending = None
        if response.status_code != 101:  # not a valid upgrade: answered and closed, as uvicorn does
            conn.send_response(response)
            self._flush()
            self.close_sent = self.ended = True
            self.transport.close()
            return False
        state = app.state.fiche
        self.request_id = request_id_for(headers.get(REQUEST_ID_HEADER, ""))
        del response.headers["Date"]
        for name, value in self.server_state.default_headers:
            response.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        response.headers[REQUEST_ID_HEADER.lower()] = self.request_id
        response.headers["Sec-WebSocket-Protocol"] = GRAPHQL_TRANSPORT_WS_PROTOCOL
        conn.send_response(response)
        self._flush()
        client = self.transport.get_extra_info("peername")
        log.info('%s - "WebSocket %s" [accepted]', f"{client[0]}:{client[1]}" if client else "-", request.path)
        self.view = app.state.graphql_view
        self.schema = self.view.schema
        self.context = ConnectionContext(state, self)
        self.metrics = state.metrics
        if self.metrics is not None:
            self.metrics.websockets.inc()
        loop = asyncio.get_running_loop()
        self.init_timer = loop.call_later(self.view.connection_init_wait_timeout.total_seconds(), self.init_timed_out)
        self._schedule_ping()
        return True

    def _hand_over(self) -> None:
        """uvicorn's own protocol takes the connection, from its first byte."""
        delegate = WebSocketsSansIOProtocol(config=self.config, server_state=self.server_state, app_state=self.app_state)
        self.connections.discard(self)
        self.delegate = delegate
        raw, self.pending, self.conn = b"".join(self.pending or ()), None, None
        delegate.connection_made(self.transport)
        delegate.data_received(raw)
        # uvicorn's HTTP protocol installs this object once this call returns: after that,
        # the transport talks to the delegate directly (until then, through this one).
        asyncio.get_running_loop().call_soon(self._install_delegate)

    def _install_delegate(self) -> None:
        if self.delegate is not None and not self.transport.is_closing() and self.transport.get_protocol() is self:
            self.transport.set_protocol(self.delegate)

    @property
    def scope(self) -> dict[str, Any]:
        """What the operation log reads of a connection (fiche.outcome)."""
        return {"type": "websocket", "state": {"request_id": self.request_id}}

    # -- frames ----------------------------------------------------------------------------
    def _frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
            if frame.fin:
                self._message(bytes(frame.data), opcode is Opcode.TEXT)
            else:
                self.fragments = [bytes(frame.data)]
                self.binary = opcode is Opcode.BINARY
        elif opcode is Opcode.CONT:
            if self.fragments is not None:
                self.fragments.append(bytes(frame.data))
                if frame.fin:
                    data, self.fragments = b"".join(self.fragments), None
                    self._message(data, not self.binary)
        elif opcode is Opcode.PONG:
            if self.ping_payload is not None and bytes(frame.data) == self.ping_payload:
                self.ping_payload = None
                if self.pong_timer is not None:
                    self.pong_timer.cancel()
                    self.pong_timer = None
                self._schedule_ping()
        elif opcode is Opcode.CLOSE:
            if self.close_sent:  # the client answered our close: the handshake is over
                if self.close_timer is not None:
                    self.close_timer.cancel()
                    self.close_timer = None
                self.transport.close()
            else:  # websockets queued the answer; it is written, then the socket closed
                self._flush()
                self.close_sent = True
                self.transport.close()
            self._end()
        # PING: websockets queued the pong (written with this read's other output)

    def _message(self, data: bytes, text: bool) -> None:
        if not text:
            self.received(None)
            return
        try:
            decoded = data.decode()
        except UnicodeDecodeError:
            log.exception("Invalid UTF-8 sequence received from client.")
            self._fail(1007, "")
            return
        self.received(decoded)

    # -- writing ---------------------------------------------------------------------------
    def _flush(self) -> None:
        conn = self.conn
        if conn is not None:
            output = conn.data_to_send()
            if output and not self.transport.is_closing():
                self.transport.write(b"".join(output))

    def send_now(self, data: bytes) -> None:
        """Write a text frame now (the transport buffers it when the client is slow)."""
        if self.close_sent or self.lost or self.conn is None:
            raise WebSocketDisconnected
        try:
            self.conn.send_text(data)
        except InvalidState as exc:
            raise WebSocketDisconnected from exc
        self.transport.write(b"".join(self.conn.data_to_send()))

    def write_frame(self, data: bytes) -> bool:
        """Write a text frame of the UTF-8 message ``data`` now, or answer False while the
        transport's buffer is above its limit (the hub's notifications: the frame's header
        is websockets', made once per length, and no copy of the payload is made on the
        way but the one into the frame)."""
        conn = self.conn
        if self.close_sent or self.lost or conn is None or conn.state is not State.OPEN or conn.expect_continuation_frame:
            raise WebSocketDisconnected
        if not self.writable:
            return False
        if conn.writes:  # (never: what websockets queues is flushed at once) kept in order
            self._flush()
        self.transport.write(_text_header(len(data)) + data)
        return True

    async def send_frame(self, data: bytes) -> None:
        """Write a text frame of the UTF-8 message ``data``, once the transport's buffer is
        below its limit."""
        await self._writable()
        self.write_frame(data)

    async def send_text(self, text: str) -> None:
        """Write a text frame, once the transport's buffer is below its limit."""
        await self._writable()
        self.send_now(text.encode())

    async def _writable(self) -> None:
        while not self.writable and not (self.lost or self.close_sent):
            if self.drained is None:
                self.drained = asyncio.get_running_loop().create_future()
            await asyncio.shield(self.drained)

    async def send_json(self, message: Any) -> None:
        await self.send_text(orjson.dumps(message).decode())

    def _wake_writers(self) -> None:
        drained, self.drained = self.drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # -- closing ---------------------------------------------------------------------------
    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (what ``websocket.close`` does through ASGI)."""
        if self.close_sent or self.lost or self.conn is None or self.transport.is_closing():
            return
        self.conn.send_close(code, reason)
        self._flush()
        self.close_sent = True
        self.resume()
        self.close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self.transport.close)
        self._end()

    def _fail(self, code: int, reason: str) -> None:
        assert self.conn is not None
        self.conn.fail(code, reason)
        self._flush()
        self.close_sent = True
        self.transport.close()
        self._end()

    def abort(self) -> None:
        """What uvicorn does when the application raised: the socket is dropped."""
        self.close_sent = True
        self.transport.close()
        self._end()

    def _end(self) -> None:
        """The socket is closing: timers off, operations stopped (once)."""
        if self.ended:
            return
        self.ended = True
        for timer in (self.init_timer, self.ping_timer, self.pong_timer):
            if timer is not None:
                timer.cancel()
        self.init_timer = self.ping_timer = self.pong_timer = None
        if self.metrics is not None:
            self.metrics.websockets.dec()
        if self.handler is not None:  # as the ASGI path: nothing more is sent once closing
            for operation in tuple(self.handler.operations.values()):
                if operation.task is not None:
                    operation.task.cancel()
        if self.context is not None:
            spawn(self.shut_down())

    # -- reading back-pressure ---------------------------------------------------------------
    def pause(self) -> None:
        if not self.paused and not self.close_sent:
            self.paused = True
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            if not self.transport.is_closing():
                self.transport.resume_reading()

    # -- keepalive (as uvicorn's: a ping every ws_ping_interval, closed 1011 without pong) ---
    def _schedule_ping(self) -> None:
        interval = self.config.ws_ping_interval
        if interval and not self.ended:
            self.ping_timer = asyncio.get_running_loop().call_later(interval, self._ping)

    def _ping(self) -> None:
        self.ping_timer = None
        if self.close_sent or self.transport.is_closing() or self.conn is None:
            return
        self.ping_payload = struct.pack("!I", random.getrandbits(32))
        self.conn.send_ping(self.ping_payload)
        self._flush()
        timeout = self.config.ws_ping_timeout
        if timeout is not None:
            self.pong_timer = asyncio.get_running_loop().call_later(timeout, self._pong_missing)
        else:
            self._schedule_ping()

    def _pong_missing(self) -> None:
        self.pong_timer = None
        self.ping_payload = None
        if not (self.close_sent or self.transport.is_closing()):
            self._fail(1011, "keepalive ping timeout")


@functools.lru_cache(maxsize=4096)
def _text_header(length: int) -> bytes:
    """The header websockets writes before a server's (unmasked, final, uncompressed)
    text frame of ``length`` bytes."""
    frame = Frame(Opcode.TEXT, bytes(length)).serialize(mask=False, extensions=[])
    return frame[: len(frame) - length]


def _origin_allowed(view: Any, headers: Any) -> bool:
    """Strawberry's check (cross-site WebSocket hijacking): without an ``Origin`` or from
    the same origin, or from an allowed one. A refused one is answered by the ASGI path."""
    origin = headers.get("origin")
    if origin is None:
        return True
    if headers.get("sec-fetch-site") == "same-origin" or is_same_origin(origin, headers.get("host")):
        return True
    return bool(view.is_websocket_origin_allowed(None, origin))

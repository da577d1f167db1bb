"""A small GraphQL-over-WebSocket client for tests, speaking ``graphql-transport-ws`` or the
legacy ``graphql-ws`` protocol with the ``websockets`` library."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

__all__ = ["GraphQLSocket", "open_socket", "receive_text"]

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
TIMEOUT = 5.0


async def receive_text(connection: ClientConnection, timeout: float = TIMEOUT) -> str:
    """The next frame, which must be a text frame: the reference ``graphql-ws`` client and
    every browser client built on it close the socket on a binary frame, so a test client
    that accepted one would hide a server no real client can use."""
    frame = await asyncio.wait_for(connection.recv(), timeout=timeout)
    if not isinstance(frame, str):
        raise AssertionError(f"the server sent a binary frame ({len(frame)} bytes); graphql-ws clients read only text frames")
    return frame


class GraphQLSocket:
    """One WebSocket connection; ``subscribe`` / ``next`` speak the chosen protocol."""

    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol
        self.pending: list[dict[str, Any]] = []  # messages read while waiting for another operation

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The next protocol message, skipping keep-alives."""
        while True:
            raw = await receive_text(self.connection, timeout)
            message = json.loads(raw)
            if message.get("type") not in ("ka", "ping", "pong"):
                return dict(message)

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        """Send ``connection_init`` and return the server's answer."""
        await self.send({"type": "connection_init", **({"payload": payload} if payload is not None else {})})
        return await self.receive()

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        await self.send({"id": operation_id, "type": kind, "payload": {"query": query, "variables": variables or {}}})

    async def stop(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "complete" if self.protocol == TRANSPORT_WS else "stop"})

    async def next(self, operation_id: str, timeout: float = TIMEOUT) -> dict[str, Any] | None:
        """The next result of ``operation_id`` (``{"data": ..., "errors": ...}``), None once complete."""
        for index, message in enumerate(self.pending):
            if message.get("id") == operation_id:
                del self.pending[index]
                return self.result_of(message)
        while True:
            message = await self.receive(timeout)
            if message.get("id") != operation_id:
                self.pending.append(message)
                continue
            return self.result_of(message)

    @staticmethod
    def result_of(message: dict[str, Any]) -> dict[str, Any] | None:
        """The result a ``next``/``data``/``error`` message carries (``{"errors": [...]}`` for
        an error), None for ``complete``."""
        if message["type"] == "complete":
            return None
        if message["type"] in ("next", "data"):
            return dict(message["payload"])
        if message["type"] == "error":
            # graphql-transport-ws sends a list of errors, the legacy graphql-ws one error.
            payload = message["payload"]
            return {"errors": payload if isinstance(payload, list) else [payload]}
        raise AssertionError(f"unexpected message {message}")

    async def results(self, operation_id: str, count: int, timeout: float = TIMEOUT) -> list[dict[str, Any]]:
        results = []
        for _ in range(count):
            result = await self.next(operation_id, timeout)
            assert result is not None, f"{operation_id} completed after {len(results)} results"
            results.append(result)
        return results

    async def nothing_more(self, operation_id: str, wait: float = 0.3) -> bool:
        """True when no message for ``operation_id`` arrives within ``wait`` seconds."""
        try:
            message = await self.next(operation_id, timeout=wait)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected result {message}")

    async def query(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A query or mutation over the socket: its single result."""
        await self.subscribe(operation_id, query, variables)
        result = await self.next(operation_id)
        assert result is not None
        assert await self.next(operation_id) is None  # then complete
        return result


@contextlib.asynccontextmanager
async def open_socket(
    address: str,
    *,
    protocol: str = TRANSPORT_WS,
    origin: str | None = None,
    path: str = "/graphql",
) -> AsyncIterator[GraphQLSocket]:
    """A WebSocket to ``ws://<address><path>`` with the protocol's subprotocol."""
    async with connect(
        f"ws://{address}{path}",
        subprotocols=[Subprotocol(protocol)],
        origin=origin,  # type: ignore[arg-type]
        open_timeout=TIMEOUT,
        close_timeout=1,
    ) as connection:
        yield GraphQLSocket(connection, protocol)

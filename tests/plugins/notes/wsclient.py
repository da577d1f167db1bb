"""A small ``graphql-transport-ws`` client over ``websockets`` for live tests, and an HTTP
helper that posts GraphQL to a running gateway."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import websockets

from tests.gateway.ws_client import receive_text

__all__ = ["NOTIFICATIONS", "WsClient", "post_graphql"]

NOTIFICATIONS = """
subscription($after: ID) { notifications(after: $after) { id kind subject { id } target { id } } }
"""


class WsClient:
    """One WebSocket connection speaking graphql-transport-ws."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self._ids = itertools.count(1)

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, host: str, token: str | None, *, expect_ack: bool = True) -> AsyncIterator[WsClient]:
        """Connect and send ``connection_init`` with the bearer token (None: no token)."""
        async with websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            payload = {"Authorization": f"Bearer {token}"} if token is not None else {}
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            client = cls(socket)
            if expect_ack:
                message = await client._receive(5.0)
                assert message["type"] == "connection_ack", message
            yield client

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        operation = str(next(self._ids))
        await self.socket.send(
            json.dumps({"id": operation, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        )
        return operation

    async def _receive(self, timeout: float) -> dict[str, Any]:
        while True:
            message = json.loads(await receive_text(self.socket, timeout))
            if message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] == "pong":
                continue
            return dict(message)

    async def next(self, timeout: float = 5.0) -> dict[str, Any]:
        """The ``data`` of the next ``next`` message; fails on ``error`` or ``complete``."""
        message = await self._receive(timeout)
        assert message["type"] == "next", message
        assert not message["payload"].get("errors"), message["payload"]["errors"]
        return dict(message["payload"]["data"])

    async def silent_for(self, seconds: float) -> bool:
        """True when nothing but keep-alives arrives for ``seconds``."""
        try:
            message = await self._receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")


async def post_graphql(host: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST one GraphQL operation to ``host`` and return its ``data`` (fails on errors)."""
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers={"Authorization": f"Bearer {token}"}
        )
    response.raise_for_status()
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return dict(body["data"])

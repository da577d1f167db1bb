"""Small ASGI helpers shared by the gateway's middlewares."""

from __future__ import annotations

from starlette.types import Message, Send

__all__ = ["ResponseStatus"]


class ResponseStatus:
    """An ASGI ``send`` that remembers the status of the response it sends (500 until a
    response starts: an exception before it becomes a server error)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        await self.send(message)

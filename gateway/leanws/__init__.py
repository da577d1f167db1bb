"""The WebSocket server layer ``fiche serve`` gives uvicorn (``FICHE_WS_SERVER``).

``lean``: :class:`~fiche.leanws.protocol.LeanWebSocketProtocol` answers
``graphql-transport-ws`` on ``/graphql`` itself and hands every other WebSocket to
uvicorn's ``websockets-sansio`` protocol and the ASGI app. ``asgi``: every WebSocket goes
through uvicorn's protocol and the ASGI app (Starlette, Strawberry's handlers): the
default until the lean layer is measured at 10,000 sockets (bench/RESULTS.md).
"""

from __future__ import annotations

from typing import Any

from fiche.settings import Settings

__all__ = ["WS_SERVERS", "ws_protocol"]

WS_SERVERS = ("lean", "asgi")


def ws_protocol(settings: Settings) -> Any:
    """uvicorn's ``ws`` option for ``settings.ws_server``."""
    if settings.ws_server not in WS_SERVERS:
        raise ValueError(f"FICHE_WS_SERVER must be one of {', '.join(WS_SERVERS)}, not {settings.ws_server!r}")
    if settings.ws_server == "asgi":
        return "websockets-sansio"
    from fiche.leanws.protocol import LeanWebSocketProtocol

    return LeanWebSocketProtocol

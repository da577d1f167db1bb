"""``GET /files/customer-documents/{id}``: download a customer document.

Authenticated like ``/graphql`` (``Authorization: Bearer``). The row is read through a
tenant-scoped session, so another organisation's document answers 404 exactly like a
missing one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from gateway.auth import authenticate_token, bearer_token
from gateway.context import AppState
from gateway.relay import InvalidID, decode_id
from plugins.customers import models

__all__ = ["DOWNLOAD_PATH", "routes"]

DOWNLOAD_PATH = "/files/customer-documents/{id}"
CHUNK = 256 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _disposition(filename: str) -> str:
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def download(request: Request) -> Response:
    state: AppState = request.app.state.fiche
    viewer = await authenticate_token(state.pm, state.settings, state.db, bearer_token(request.headers.get("authorization")))
    if viewer is None:
        return _error(401, "Authentication required: send `Authorization: Bearer <token>`.")
    try:
        _, pk = decode_id(request.path_params["id"], "CustomerDocument")
    except InvalidID:
        return _error(404, "No such document.")
    document = models.CustomerDocument
    async with state.db.reader(viewer.organization_id) as session:
        row = (
            await session.execute(
                select(document.filename, document.content_type, document.storage_key).where(document.id == pk)
            )
        ).one_or_none()
    if row is None:
        return _error(404, "No such document.")
    try:
        data = await state.storage.read(row.storage_key)
    except FileNotFoundError:
        return _error(404, "No such document.")

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    return StreamingResponse(
        chunks(),
        media_type=row.content_type,
        headers={
            "Content-Disposition": _disposition(row.filename),
            "Content-Length": str(len(data)),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def routes() -> list[BaseRoute]:
    return [Route(DOWNLOAD_PATH, download, methods=["GET"])]

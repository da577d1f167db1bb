"""``GET /activities/attachments/{id}``: download an activity's attachment with the bearer
token; an ID of another organisation answers 404 like a missing one."""

from __future__ import annotations

from urllib.parse import quote

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.auth import authenticate_token, bearer_token
from gateway.relay import InvalidID, decode_id
from plugins.activities import models

__all__ = ["routes"]


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def download(request: Request) -> Response:
    state = request.app.state.fiche
    viewer = await authenticate_token(state.pm, state.settings, state.db, bearer_token(request.headers.get("authorization")))
    if viewer is None:
        return _error(401, "Authentication required: send `Authorization: Bearer <token>`.")
    try:
        _, pk = decode_id(request.path_params["id"], "ActivityAttachment")
    except InvalidID:
        return _error(404, "No such attachment.")
    attachment = models.ActivityAttachment
    async with state.db.reader(viewer.organization_id) as session:
        row = (
            await session.execute(
                select(attachment.filename, attachment.content_type, attachment.storage_key).where(attachment.id == pk)
            )
        ).one_or_none()
    if row is None:
        return _error(404, "No such attachment.")
    try:
        data = await state.storage.read(row.storage_key)
    except FileNotFoundError:
        return _error(404, "The file is missing from the storage.")
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=row.content_type, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route("/activities/attachments/{id}", download, methods=["GET"])]

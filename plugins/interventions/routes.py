"""Authenticated downloads of the plugin: report photos, signatures, equipment pictures and
thumbnails, and the signed report as a PDF. Each is tenant-checked (the reader session is
the viewer's organisation) and role-checked (a technician reads only the files of the
interventions assigned to them): anything else answers 404, like a missing file."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fiche.documents import document_route
from fiche.files import StoredFile, content_disposition, error_response, viewer_and_pk
from fiche.plugins.interventions import models
from fiche.plugins.interventions.document import render_report
from fiche.plugins.interventions.services.access import visible_condition

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.auth import Viewer

__all__ = ["routes"]

Finder = Callable[["AsyncSession", "Viewer", int], Awaitable[StoredFile | None]]
I = models.Intervention


def _file_route(path: str, type_name: str, find: Finder) -> Route:
    missing = f"No such {type_name}."

    async def download(request: Request) -> Response:
        state = request.app.state.fiche
        asked = await viewer_and_pk(request, type_name)
        if isinstance(asked, Response):
            return asked
        viewer, pk = asked
        async with state.db.reader(viewer.organization_id) as session:
            stored = await find(session, viewer, pk)
        if stored is None:
            return error_response(404, missing)
        try:
            data = await state.storage.read(stored.storage_key)
        except FileNotFoundError:
            return error_response(404, missing)
        return Response(
            data,
            media_type=stored.content_type,
            headers={
                "Content-Disposition": content_disposition(stored.filename, "inline"),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    return Route(path, download, methods=["GET"])


def _visible(stmt: object, viewer: Viewer) -> object:
    condition = visible_condition(viewer)
    return stmt if condition is None else stmt.where(condition)  # type: ignore[attr-defined]


async def _photo(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
    P = models.InterventionPhoto
    stmt = _visible(select(P.filename, P.content_type, P.storage_key).join(I, I.id == P.intervention_id).where(P.id == pk), viewer)
    row = (await session.execute(stmt)).one_or_none()  # type: ignore[call-overload]
    return StoredFile(row.filename, row.content_type, row.storage_key) if row else None


async def _signature(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
    stmt = _visible(select(I.number, I.signature_type, I.signature_key).where(I.id == pk, I.signature_key.is_not(None)), viewer)
    row = (await session.execute(stmt)).one_or_none()  # type: ignore[call-overload]
    return StoredFile(f"signature-{row.number}", row.signature_type, row.signature_key) if row else None


def _equipment_file(thumbnail: bool) -> Finder:
    async def find(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
        E = models.Equipment
        key, kind = (E.thumbnail_key, E.thumbnail_type) if thumbnail else (E.picture_key, E.picture_type)
        row = (await session.execute(select(key.label("key"), kind.label("kind")).where(E.id == pk, key.is_not(None)))).one_or_none()
        name = f"equipment-{pk}-{'thumbnail' if thumbnail else 'picture'}"
        return StoredFile(name, row.kind, row.key) if row else None

    return find


def routes() -> list[BaseRoute]:
    return [
        _file_route("/interventions/photos/{id}", "InterventionPhoto", _photo),
        _file_route("/interventions/{id}/signature", "Intervention", _signature),
        _file_route("/interventions/equipment/{id}/picture", "Equipment", _equipment_file(thumbnail=False)),
        _file_route("/interventions/equipment/{id}/thumbnail", "Equipment", _equipment_file(thumbnail=True)),
        document_route("/interventions/{id}/report.pdf", "Intervention", render_report),
    ]

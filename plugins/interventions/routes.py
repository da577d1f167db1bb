"""Authenticated downloads of the plugin: report photos, signatures, equipment pictures and
thumbnails, and the signed report as a PDF. Each is tenant-checked (the reader session is
the viewer's organisation) and role-checked (a technician reads only the files of the
interventions assigned to them): anything else answers 404, like a missing file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.routing import BaseRoute

from fiche.documents import document_route
from fiche.files import FileFinder, StoredFile, download_route
from fiche.plugins.interventions import models
from fiche.plugins.interventions.document import render_report
from fiche.plugins.interventions.services.access import visible_condition

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.auth import Viewer

__all__ = ["routes"]

I = models.Intervention


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


def _equipment_file(thumbnail: bool) -> FileFinder:
    async def find(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
        E = models.Equipment
        key, kind = (E.thumbnail_key, E.thumbnail_type) if thumbnail else (E.picture_key, E.picture_type)
        row = (await session.execute(select(key.label("key"), kind.label("kind")).where(E.id == pk, key.is_not(None)))).one_or_none()
        name = f"equipment-{pk}-{'thumbnail' if thumbnail else 'picture'}"
        return StoredFile(name, row.kind, row.key) if row else None

    return find


def routes() -> list[BaseRoute]:
    return [
        download_route("/interventions/photos/{id}", "InterventionPhoto", _photo, disposition="inline"),
        download_route("/interventions/{id}/signature", "Intervention", _signature, disposition="inline"),
        download_route("/interventions/equipment/{id}/picture", "Equipment", _equipment_file(thumbnail=False), disposition="inline"),
        download_route("/interventions/equipment/{id}/thumbnail", "Equipment", _equipment_file(thumbnail=True), disposition="inline"),
        document_route("/interventions/{id}/report.pdf", "Intervention", render_report),
    ]

"""``GET /files/customer-documents/{id}``: download a customer document (authenticated,
tenant-checked by :func:`fiche.files.download_route`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from fiche.auth import Viewer
from fiche.files import StoredFile, download_route
from fiche.plugins.customers import models

__all__ = ["DOWNLOAD_PATH", "routes"]

DOWNLOAD_PATH = "/files/customer-documents/{id}"


async def _find(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
    document = models.CustomerDocument
    row = (
        await session.execute(select(document.filename, document.content_type, document.storage_key).where(document.id == pk))
    ).one_or_none()
    return StoredFile(row.filename, row.content_type, row.storage_key) if row else None


def routes() -> list[BaseRoute]:
    return [download_route(DOWNLOAD_PATH, "CustomerDocument", _find)]

"""``GET /activities/attachments/{id}``: download an activity's attachment (authenticated,
tenant-checked by :func:`fiche.files.download_route`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute

from fiche.auth import Viewer
from fiche.files import StoredFile, download_route
from fiche.plugins.activities import models

__all__ = ["routes"]


async def _find(session: AsyncSession, viewer: Viewer, pk: int) -> StoredFile | None:
    attachment = models.ActivityAttachment
    row = (
        await session.execute(
            select(attachment.filename, attachment.content_type, attachment.storage_key).where(attachment.id == pk)
        )
    ).one_or_none()
    return StoredFile(row.filename, row.content_type, row.storage_key) if row else None


def routes() -> list[BaseRoute]:
    return [download_route("/activities/attachments/{id}", "ActivityAttachment", _find)]

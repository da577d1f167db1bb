"""What ``node(id:)`` resolves for this plugin: activities, types, forms, reports and
attachments, through the per-operation loaders (tenant-filtered like every read)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche.plugins.activities import models
from fiche.plugins.activities.reads import ATTACHMENT_COLUMNS, attachment_from_row

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NODE_RESOLVERS"]


def _by_loader(name: str) -> Any:
    async def resolve(context: OperationContext, pks: Sequence[int]) -> list[Any]:
        return list(await context.loaders[name].load_many(list(pks)))

    return resolve


async def _attachments(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    async with context.read() as session:
        rows = (await session.execute(select(*ATTACHMENT_COLUMNS).where(models.ActivityAttachment.id.in_(list(pks))))).all()
    found = {row.id: attachment_from_row(row) for row in rows}
    return [found.get(pk) for pk in pks]


NODE_RESOLVERS: dict[str, Any] = {
    "Activity": _by_loader("activities_by_id"),
    "ActivityType": _by_loader("activity_types_by_id"),
    "ReportForm": _by_loader("report_forms_by_id"),
    "Report": _by_loader("reports_by_id"),
    "ActivityAttachment": _attachments,
}

"""Hook implementations of the notifications core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche import hookimpl
from fiche.notifications.schema import NotificationMutations, NotificationQueries, NotificationSubscriptions
from fiche.notifications.service import RECORD_COLUMNS, record_from_row
from fiche.notifications.types import Notification, notification_from_record
from fiche.notifications.visibility import shown
from fiche.notifications import models

if TYPE_CHECKING:
    from fiche.context import OperationContext


@hookimpl
def register_types() -> list[type]:
    return [Notification]


@hookimpl
def register_queries() -> list[type]:
    return [NotificationQueries]


@hookimpl
def register_mutations() -> list[type]:
    return [NotificationMutations]


@hookimpl
def register_subscriptions() -> list[type]:
    return [NotificationSubscriptions]


async def _notifications(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    viewer = context.require_viewer()
    async with context.read() as session:
        rows = (
            await session.execute(
                select(*RECORD_COLUMNS).where(models.Notification.id.in_(list(pks)), models.Notification.recipient_id == viewer.user_id)
            )
        ).all()
    records = await shown(context, [record_from_row(row) for row in rows])
    found = {record.id: notification_from_record(record) for record in records}
    return [found.get(pk) for pk in pks]


@hookimpl
def register_node_types() -> dict[str, Any]:
    # Only the recipient can fetch a notification by ID.
    return {"Notification": _notifications}

"""Inbox rows filtered at READ time by what their reader may still see.

Notifications are written for users who could read what they quote, but access changes
afterwards (a role lowered, a team left, a task reassigned away). Every read path of the
inbox passes its rows through :func:`shown`, which asks the ``notification_visibility``
hook about the page's subjects and targets in one call and redacts the rows that point at
something the reader may no longer see.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fiche.notifications.service import NotificationRecord

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["HIDDEN_MESSAGE", "hidden_ids", "redact", "shown"]

HIDDEN_MESSAGE = "You can no longer see what this notification was about."


async def hidden_ids(context: OperationContext, object_ids: Sequence[str]) -> frozenset[str]:
    """The IDs among ``object_ids`` that some plugin says the viewer may no longer see."""
    wanted = sorted(set(object_ids))
    if not wanted:
        return frozenset()
    results = context.pm.hook.notification_visibility(context=context, object_ids=wanted)
    answers: list[Mapping[str, bool] | None] = await asyncio.gather(*(_ready(result) for result in results))
    return frozenset(object_id for answer in answers for object_id, visible in (answer or {}).items() if not visible)


async def _ready(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def redact(record: NotificationRecord) -> NotificationRecord:
    """The record with nothing left of what it pointed at: kind, actor, time and read
    state stay (the reader already knew of them), the message is replaced."""
    return dataclasses.replace(record, message=HIDDEN_MESSAGE, link=None, target_id=None, subject_id=None)


async def shown(context: OperationContext, records: Sequence[NotificationRecord]) -> list[NotificationRecord]:
    """``records`` as their reader may see them now (one hook call for them all)."""
    ids = [object_id for record in records for object_id in (record.subject_id, record.target_id) if object_id]
    hidden = await hidden_ids(context, ids)
    if not hidden:
        return list(records)
    return [redact(record) if hidden & {record.subject_id, record.target_id} else record for record in records]

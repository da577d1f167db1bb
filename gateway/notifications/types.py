"""GraphQL types of the inbox."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import strawberry

from fiche.accounts.types import User
from fiche.notifications.service import NotificationRecord
from fiche.relay import InvalidID, Node

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["Notification", "NotificationPreference", "notification_from_record"]


@strawberry.type(description="An entry of your inbox: something a colleague did that concerns you.")
class Notification(Node):
    kind: str = strawberry.field(description="What happened: `MENTION`, `TASK_ASSIGNED`, ... (see `notificationPreferences`).")
    message: str = strawberry.field(description="A short sentence describing the event, ready to display.")
    link: str | None = strawberry.field(description="A deep link into the app (e.g. the customer and the note).")
    created_at: dt.datetime = strawberry.field(description="When the notification was created.")
    read_at: dt.datetime | None = strawberry.field(description="When you marked it read; null while unread.")
    actor_pk: strawberry.Private[int | None]
    target_gid: strawberry.Private[str | None]
    subject_gid: strawberry.Private[str | None]

    @strawberry.field(description="Whether you have read it.")
    def read(self) -> bool:
        return self.read_at is not None

    @strawberry.field(description="Who caused it; null when the user was removed.")
    async def actor(self, info: strawberry.Info) -> User | None:
        if self.actor_pk is None:
            return None
        context: OperationContext = info.context
        return await context.loaders["users_by_id"].load(self.actor_pk)

    @strawberry.field(description="Where it leads: the customer (or other object) concerned; null if gone or hidden.")
    async def target(self, info: strawberry.Info) -> Node | None:
        return await _node(info, self.target_gid)

    @strawberry.field(description="What it is about (the note, the task, ...); null if gone or hidden.")
    async def subject(self, info: strawberry.Info) -> Node | None:
        return await _node(info, self.subject_gid)


async def _node(info: strawberry.Info, global_id: str | None) -> Node | None:
    if global_id is None:
        return None
    context: OperationContext = info.context
    try:
        return await context.load_node(global_id)
    except InvalidID:
        return None


def notification_from_record(record: NotificationRecord) -> Notification:
    return Notification(
        pk=record.id,
        kind=record.kind,
        message=record.message,
        link=record.link,
        created_at=record.created_at,
        read_at=record.read_at,
        actor_pk=record.actor_id,
        target_gid=record.target_id,
        subject_gid=record.subject_id,
    )


@strawberry.type(description="Whether you receive one kind of notification.")
class NotificationPreference:
    kind: str = strawberry.field(description="The notification kind.")
    description: str = strawberry.field(description="What this kind of notification tells you.")
    enabled: bool = strawberry.field(description="Whether you receive it.")

"""Files attached to activities (A2): stored in the gateway's file storage with its size
and type limits; downloaded through the authenticated route of :mod:`..routes`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import func, select
from strawberry.file_uploads import Upload

from fiche.cost import ensure_room
from fiche.errors import UserError
from fiche.files import accept_upload, remove_after_commit, store_upload_for_transaction
from fiche.plugins.activities import models
from fiche.plugins.activities.common import get_row
from fiche.plugins.activities.mutations.activities import DeletePayload
from fiche.plugins.activities.reads import ATTACHMENT_COLUMNS, attachment_from_row
from fiche.plugins.activities.services.access import check_can_edit
from fiche.plugins.activities.services.bounds import MAX_ATTACHMENTS_PER_ACTIVITY
from fiche.plugins.activities.types import ActivityAttachment

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["AttachmentMutations"]


@strawberry.type(description="The outcome of `activityAttachmentAdd`.")
class ActivityAttachmentPayload:
    attachment: ActivityAttachment | None = strawberry.field(default=None, description="The file attached, when it was accepted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it was refused, if it was.")


@strawberry.type
class AttachmentMutations:
    @strawberry.mutation(description="Attach a file to an activity (GraphQL multipart request; the gateway's size and type limits apply).")
    async def activity_attachment_add(
        self,
        info: strawberry.Info,
        activity_id: Annotated[strawberry.ID, strawberry.argument(description="The activity to attach the file to.")],
        file: Annotated[Upload, strawberry.argument(description="The file (a part of the multipart request).")],
    ) -> ActivityAttachmentPayload:
        context: OperationContext = info.context
        settings = context.settings

        async def change() -> ActivityAttachmentPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, activity_id, "Activity", "activityId")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            await ensure_room(
                session,
                select(func.count()).select_from(models.ActivityAttachment).where(models.ActivityAttachment.activity_id == activity.id),
                MAX_ATTACHMENTS_PER_ACTIVITY,
                f"An activity has at most {MAX_ATTACHMENTS_PER_ACTIVITY} attached files.",
                "activityId",
                lock=select(models.Activity.id).where(models.Activity.id == activity.id).with_for_update(),
            )
            accepted = await accept_upload(file, settings, "file")
            attachment = models.ActivityAttachment(activity_id=activity.id, **await store_upload_for_transaction(context, accepted))
            session.add(attachment)
            await session.flush()
            row = (await session.execute(select(*ATTACHMENT_COLUMNS).where(models.ActivityAttachment.id == attachment.id))).one()
            return ActivityAttachmentPayload(attachment=attachment_from_row(row))

        return await context.mutate(change, ActivityAttachmentPayload)

    @strawberry.mutation(description="Remove a file from an activity (its assignee, its creator, a manager or an admin).")
    async def activity_attachment_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The attachment to remove.")]
    ) -> DeletePayload:
        context: OperationContext = info.context

        async def change() -> DeletePayload:
            viewer = context.require_viewer()
            session = await context.session()
            attachment = await get_row(session, models.ActivityAttachment, id, "ActivityAttachment", "id")
            activity = await session.get(models.Activity, attachment.activity_id)
            assert activity is not None
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            await session.delete(attachment)
            await session.flush()
            remove_after_commit(context, [attachment.storage_key])
            return DeletePayload(deleted_id=id)

        return await context.mutate(change, DeletePayload)

"""Follow-up tasks from an activity (A9), created through the gateway's ``create_task``
hook so that this plugin does not depend on the one that owns tasks."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.datetimes import instant_problem
from fiche.errors import UserError, UserErrors
from fiche.relay import Node, encode_id
from fiche.plugins.activities import models
from fiche.plugins.activities.common import decode, fetch_activity, get_row
from fiche.plugins.activities.services.access import check_can_follow_up
from fiche.plugins.activities.types import Activity

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["FollowUpMutations"]

MAX_BODY = 10_000


@strawberry.input(description="A follow-up task of an activity, about the activity's customer.")
class ActivityFollowUpInput:
    activity_id: strawberry.ID = strawberry.field(description="The activity followed up.")
    body: str | None = strawberry.field(default=None, description="What to do; by default \"Follow-up: <type> of <date>\".")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Who gets the task; you by default.")
    due_at: dt.datetime | None = strawberry.field(default=None, description="When it is due.")


@strawberry.type(description="The outcome of `activityCreateFollowUpTask`.")
class FollowUpTaskPayload:
    task_id: strawberry.Private[str | None] = None
    activity: Activity | None = strawberry.field(default=None, description="The activity followed up.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")

    @strawberry.field(description="The task created (a `Task`), once committed.")
    async def task(self, info: strawberry.Info) -> Node | None:
        if self.task_id is None:
            return None
        return await info.context.load_node(self.task_id)


@strawberry.type
class FollowUpMutations:
    @strawberry.mutation(description="Create a follow-up task from an activity, targeted at its customer or branch (needs the plugin that owns tasks). Its assignee, its creator, a manager or an admin only.")
    async def activity_create_follow_up_task(self, info: strawberry.Info, input: Annotated[ActivityFollowUpInput, strawberry.argument(description="The activity and the task.")]) -> FollowUpTaskPayload:
        context: OperationContext = info.context

        async def change() -> FollowUpTaskPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, input.activity_id, "Activity", "input", "activityId")
            check_can_follow_up(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            body = (input.body or "").strip()
            if not body:
                type_name = (await session.get(models.ActivityType, activity.type_id)).name  # type: ignore[union-attr]
                body = f"Follow-up: {type_name} of {activity.starts_at:%Y-%m-%d}"
            if len(body) > MAX_BODY:
                raise UserErrors.invalid(f"The task is longer than {MAX_BODY} characters.", "input", "body")
            assignee = viewer.user_id if input.assignee_id is None else decode(input.assignee_id, "User", "input", "assigneeId")
            problem = instant_problem(input.due_at) if input.due_at is not None else None
            if problem is not None:
                raise UserErrors.invalid(f"The due date {problem}.", "input", "dueAt")
            created = context.pm.hook.create_task(
                context=context,
                body=body,
                assignee_id=assignee,
                target_id=encode_id("Customer", activity.location_id),
                due_at=input.due_at,
            )
            if inspect.isawaitable(created):
                created = await created
            if created is None:
                raise UserErrors.conflict("Tasks are not available: no installed plugin provides them (the notes plugin is disabled).")
            return FollowUpTaskPayload(task_id=str(created), activity=await fetch_activity(session, activity.id))

        return await context.mutate(change, FollowUpTaskPayload)

"""``taskCreate``, ``taskComplete``, ``taskReopen``, ``taskReassign``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.plugins.notes import edits, writes
from fiche.plugins.notes.inputs import TaskCreateInput, TaskId, TaskPayload
from fiche.plugins.notes.types import note_from_entity, visibility_from_graphql

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["TaskMutations"]


@strawberry.type
class TaskMutations:
    @strawberry.mutation(
        description="Create a task (a note assigned to someone, yourself by default). The assignee is notified unless it is you."
    )
    async def task_create(
        self, info: strawberry.Info, input: Annotated[TaskCreateInput, strawberry.argument(description="The task to create.")]
    ) -> TaskPayload:
        context: OperationContext = info.context

        async def change() -> TaskPayload:
            draft = writes.Draft(
                body=input.body,
                target_gid=input.target_id,
                category_gid=input.category_id,
                visibility=visibility_from_graphql(input.visibility),
                team_gid=input.team_id,
                is_task=True,
                assignee=input.assignee_id,
                due_at=input.due_at,
            )
            return TaskPayload(task=note_from_entity(await writes.create_note(context, draft)))

        return await context.mutate(change, TaskPayload)

    @strawberry.mutation(description="Mark a task done. Whoever assigned it is notified unless they completed it.")
    async def task_complete(self, info: strawberry.Info, id: TaskId) -> TaskPayload:
        context: OperationContext = info.context

        async def change() -> TaskPayload:
            return TaskPayload(task=note_from_entity(await edits.complete_task(context, id, "id")))

        return await context.mutate(change, TaskPayload)

    @strawberry.mutation(description="Reopen a completed task.")
    async def task_reopen(self, info: strawberry.Info, id: TaskId) -> TaskPayload:
        context: OperationContext = info.context

        async def change() -> TaskPayload:
            return TaskPayload(task=note_from_entity(await edits.reopen_task(context, id, "id")))

        return await context.mutate(change, TaskPayload)

    @strawberry.mutation(
        description="Give a task to someone else. The new assignee and whoever assigned the task are notified (never you)."
    )
    async def task_reassign(
        self,
        info: strawberry.Info,
        id: TaskId,
        assignee_id: Annotated[strawberry.ID, strawberry.argument(description="The user who gets the task.")],
    ) -> TaskPayload:
        context: OperationContext = info.context

        async def change() -> TaskPayload:
            note = await edits.reassign_task(context, id, assignee_id, id_path=("id",), assignee_path=("assigneeId",))
            return TaskPayload(task=note_from_entity(note))

        return await context.mutate(change, TaskPayload)

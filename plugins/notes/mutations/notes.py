"""``noteCreate``, ``noteUpdate``, ``noteDelete``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.relay import encode_id
from fiche.plugins.notes import edits, writes
from fiche.plugins.notes.inputs import NoteCreateInput, NoteDeletePayload, NoteId, NotePayload, NoteUpdateInput
from fiche.plugins.notes.types import note_from_entity, visibility_from_graphql

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["NoteMutations"]


@strawberry.type
class NoteMutations:
    @strawberry.mutation(
        description=(
            "Write a note on a customer, a branch, another note target, or nothing (a general note). "
            "Mentioned colleagues and the customer's followers are notified."
        )
    )
    async def note_create(
        self, info: strawberry.Info, input: Annotated[NoteCreateInput, strawberry.argument(description="The note to write.")]
    ) -> NotePayload:
        context: OperationContext = info.context

        async def change() -> NotePayload:
            draft = writes.Draft(
                body=input.body,
                target_gid=input.target_id,
                category_gid=input.category_id,
                visibility=visibility_from_graphql(input.visibility),
                team_gid=input.team_id,
            )
            return NotePayload(note=note_from_entity(await writes.create_note(context, draft)))

        return await context.mutate(change, NotePayload)

    @strawberry.mutation(
        description="Change a note or task you wrote (admins: any). Only newly mentioned colleagues are notified."
    )
    async def note_update(
        self, info: strawberry.Info, input: Annotated[NoteUpdateInput, strawberry.argument(description="What to change.")]
    ) -> NotePayload:
        context: OperationContext = info.context

        async def change() -> NotePayload:
            note = await edits.update_note(
                context,
                input.id,
                body=input.body,
                category=input.category_id,
                visibility=visibility_from_graphql(input.visibility) if input.visibility is not None else None,
                team=input.team_id,
                due_at=input.due_at,
            )
            return NotePayload(note=note_from_entity(note))

        return await context.mutate(change, NotePayload)

    @strawberry.mutation(description="Delete a note or task you wrote (admins: any).")
    async def note_delete(self, info: strawberry.Info, id: NoteId) -> NoteDeletePayload:
        context: OperationContext = info.context

        async def change() -> NoteDeletePayload:
            pk = await edits.delete_note(context, id, "id")
            return NoteDeletePayload(deleted_note_id=strawberry.ID(encode_id("Note", pk)))

        return await context.mutate(change, NoteDeletePayload)

"""``noteCategoryCreate``, ``noteCategoryUpdate``, ``noteCategoryDelete`` (admins only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import func, select, update

from fiche.db import lock
from fiche.cost import ensure_room
from fiche.errors import UserErrors
from fiche.relay import encode_id
from fiche.text import fold
from fiche.plugins.notes import models, services
from fiche.plugins.notes.inputs import NoteCategoryCreateInput, NoteCategoryDeletePayload, NoteCategoryPayload, NoteCategoryUpdateInput
from fiche.plugins.notes.types import category_from_row
from fiche.plugins.notes.writes import decode

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["NoteCategoryMutations"]

DEFAULT_COLOUR = "#607d8b"


async def _refuse_duplicate(session: AsyncSession, name: str, keep: int | None = None) -> None:
    """Names are unique in the organisation, ignoring case and accents.

    Writers of category names take turns until their transaction ends (``fiche.db.lock``),
    so that of concurrent writers of one name the first wins and the others get a CONFLICT."""
    await lock(session, "notes.category-names")
    rows = (await session.execute(select(models.NoteCategory.id, models.NoteCategory.name))).all()
    if any(fold(row.name) == fold(name) and row.id != keep for row in rows):
        raise UserErrors.conflict(f"A category named {name!r} exists already.", "input", "name")


def _colour(colour: str | None, color: str | None) -> str | None:
    """The checked colour given as ``colour`` or as the deprecated ``color`` (not both)."""
    if colour is not None and color is not None:
        raise UserErrors.invalid("Give the colour once, as `colour` (`color` is its deprecated spelling).", "input", "color")
    if colour is not None:
        return services.check_color(colour, "input", "colour")
    if color is not None:
        return services.check_color(color, "input", "color")
    return None


async def _load(session: AsyncSession, global_id: str, *path: str) -> models.NoteCategory:
    _, pk = decode(global_id, "NoteCategory", *path)
    category = await session.scalar(select(models.NoteCategory).where(models.NoteCategory.id == pk))
    if category is None:
        raise UserErrors.not_found("No category with this ID.", *path)
    return category


@strawberry.type
class NoteCategoryMutations:
    @strawberry.mutation(description="Create a category of notes and tasks (admins only).")
    async def note_category_create(
        self,
        info: strawberry.Info,
        input: Annotated[NoteCategoryCreateInput, strawberry.argument(description="The new category.")],
    ) -> NoteCategoryPayload:
        context: OperationContext = info.context

        async def change() -> NoteCategoryPayload:
            context.require_role_error(admin=True)
            name = services.check_category_name(input.name, "input", "name")
            color = _colour(input.colour, input.color) or DEFAULT_COLOUR
            session = await context.session()
            await _refuse_duplicate(session, name)
            count = select(func.count()).select_from(models.NoteCategory)
            await ensure_room(session, count, services.MAX_CATEGORIES, f"An organisation has at most {services.MAX_CATEGORIES} categories.", "input", "name")
            category = models.NoteCategory(name=name, color=color)
            session.add(category)
            await session.flush()
            return NoteCategoryPayload(category=category_from_row(category))

        return await context.mutate(change, NoteCategoryPayload)

    @strawberry.mutation(description="Rename or recolour a category (admins only).")
    async def note_category_update(
        self, info: strawberry.Info, input: Annotated[NoteCategoryUpdateInput, strawberry.argument(description="What to change.")]
    ) -> NoteCategoryPayload:
        context: OperationContext = info.context

        async def change() -> NoteCategoryPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            category = await _load(session, input.id, "input", "id")
            if input.name is not None:
                name = services.check_category_name(input.name, "input", "name")
                await _refuse_duplicate(session, name, keep=category.id)
                category.name = name
            colour = _colour(input.colour, input.color)
            if colour is not None:
                category.color = colour
            await session.flush()
            return NoteCategoryPayload(category=category_from_row(category))

        return await context.mutate(change, NoteCategoryPayload)

    @strawberry.mutation(description="Delete a category (admins only); its notes and tasks stay, uncategorised.")
    async def note_category_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The category's global ID.")]
    ) -> NoteCategoryDeletePayload:
        context: OperationContext = info.context

        async def change() -> NoteCategoryDeletePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            category = await _load(session, id, "id")
            await session.execute(
                update(models.Note)
                .where(models.Note.category_id == category.id)
                .values(category_id=None)
                .execution_options(synchronize_session=False)
            )
            await session.delete(category)
            await session.flush()
            return NoteCategoryDeletePayload(deleted_category_id=strawberry.ID(encode_id("NoteCategory", category.id)))

        return await context.mutate(change, NoteCategoryDeletePayload)

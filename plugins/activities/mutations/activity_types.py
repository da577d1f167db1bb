"""Custom activity types and the forms linked to any type (A1; admins only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import delete, func, select

from fiche.cost import ensure_room
from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.plugins.activities import models
from fiche.plugins.activities.common import decode, get_row
from fiche.plugins.activities.mutations.activities import DeletePayload
from fiche.plugins.activities.services.bounds import MAX_ACTIVITY_TYPES, MAX_FORMS_PER_TYPE
from fiche.plugins.activities.services.builtins import ensure_builtin_types
from fiche.plugins.activities.services.catalogue import check_colour, check_icon, check_name, check_unique_name, optional_text
from fiche.plugins.activities.reads import TYPE_COLUMNS, type_from_row
from fiche.plugins.activities.types import ActivityType

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["ActivityTypeMutations"]

UNSET: Any = strawberry.UNSET
NAME_LENGTH = 80


@strawberry.input(description="A custom activity type.")
class ActivityTypeCreateInput:
    name: str = strawberry.field(description="Name shown on activities, unique in your organisation.")
    description: str | None = strawberry.field(default=None, description="When to use the type.")
    icon: str = strawberry.field(description="Icon name: lowercase letters, digits and dashes (e.g. `map-pin`).")
    colour: str = strawberry.field(description="Colour as `#RRGGBB`.")
    form_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="Report forms available to activities of this type, in order.")


@strawberry.input(description="Changes to an activity type; fields left out stay as they are. Built-in types keep their name and cannot be archived.")
class ActivityTypeUpdateInput:
    id: strawberry.ID = strawberry.field(description="The type to change.")
    name: str | None = strawberry.field(default=None, description="A new name (custom types only).")
    description: str | None = strawberry.field(default=UNSET, description="A new description; null clears it.")
    icon: str | None = strawberry.field(default=None, description="A new icon name.")
    colour: str | None = strawberry.field(default=None, description="A new colour `#RRGGBB`.")
    form_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="The linked report forms, replacing the current ones (built-in types too).")
    archived: bool | None = strawberry.field(default=None, description="Archive (true) or restore (false) a custom type.")


@strawberry.type(description="The outcome of an activity type mutation.")
class ActivityTypePayload:
    activity_type: ActivityType | None = strawberry.field(default=None, description="The type, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


async def _set_forms(session: AsyncSession, type_id: int, form_ids: Sequence[str], *path: str) -> None:
    if len(form_ids) > MAX_FORMS_PER_TYPE:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A type has at most {MAX_FORMS_PER_TYPE} report forms.", *path)
    pks: list[int] = []
    for index, global_id in enumerate(form_ids):
        pk = decode(global_id, "ReportForm", *path, str(index))
        if pk in pks:
            raise UserErrors.invalid("A form is listed twice.", *path, str(index))
        pks.append(pk)
    if pks:
        found = set((await session.scalars(select(models.ReportForm.id).where(models.ReportForm.id.in_(pks)))).all())
        for index, pk in enumerate(pks):
            if pk not in found:
                raise UserErrors.not_found("No report form with this ID.", *path, str(index))
    await session.execute(
        delete(models.ActivityTypeForm).where(models.ActivityTypeForm.type_id == type_id).execution_options(synchronize_session=False)
    )
    session.add_all(models.ActivityTypeForm(type_id=type_id, form_id=pk, position=index) for index, pk in enumerate(pks))


async def _payload(session: AsyncSession, type_id: int) -> ActivityTypePayload:
    await session.flush()
    row = (await session.execute(select(*TYPE_COLUMNS).where(models.ActivityType.id == type_id))).one()
    return ActivityTypePayload(activity_type=type_from_row(row))


@strawberry.type
class ActivityTypeMutations:
    @strawberry.mutation(description="Create a custom activity type (admins only).")
    async def activity_type_create(self, info: strawberry.Info, input: Annotated[ActivityTypeCreateInput, strawberry.argument(description="The new type.")]) -> ActivityTypePayload:
        context: OperationContext = info.context

        async def change() -> ActivityTypePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            await ensure_builtin_types(session)  # so that a custom type cannot take a built-in name
            name = check_name(input.name, NAME_LENGTH, "input", "name")
            await check_unique_name(session, models.ActivityType, name, None, "input", "name")
            count = select(func.count()).select_from(models.ActivityType)
            await ensure_room(session, count, MAX_ACTIVITY_TYPES, f"An organisation has at most {MAX_ACTIVITY_TYPES} activity types (archived ones included).", "input", "name")
            activity_type = models.ActivityType(
                name=name,
                description=optional_text(input.description, 2000, "input", "description"),
                icon=check_icon(input.icon, "input", "icon"),
                colour=check_colour(input.colour, "input", "colour"),
            )
            session.add(activity_type)
            await session.flush()
            await _set_forms(session, activity_type.id, input.form_ids, "input", "formIds")
            return await _payload(session, activity_type.id)

        return await context.mutate(change, ActivityTypePayload)

    @strawberry.mutation(description="Change an activity type or its report forms (admins only).")
    async def activity_type_update(self, info: strawberry.Info, input: Annotated[ActivityTypeUpdateInput, strawberry.argument(description="The type and the changes.")]) -> ActivityTypePayload:
        context: OperationContext = info.context

        async def change() -> ActivityTypePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            activity_type = await get_row(session, models.ActivityType, input.id, "ActivityType", "input", "id")
            built_in = activity_type.code is not None
            if input.name is not None:
                name = check_name(input.name, NAME_LENGTH, "input", "name")
                if built_in and name != activity_type.name:
                    raise UserErrors.conflict("A built-in type cannot be renamed.", "input", "name")
                await check_unique_name(session, models.ActivityType, name, activity_type.id, "input", "name")
                activity_type.name = name
            if input.description is not UNSET:
                activity_type.description = optional_text(input.description, 2000, "input", "description")
            if input.icon is not None:
                activity_type.icon = check_icon(input.icon, "input", "icon")
            if input.colour is not None:
                activity_type.colour = check_colour(input.colour, "input", "colour")
            if input.archived is not None:
                if built_in and input.archived:
                    raise UserErrors.conflict("A built-in type cannot be archived.", "input", "archived")
                activity_type.archived = input.archived
            if input.form_ids is not None:
                await _set_forms(session, activity_type.id, input.form_ids, "input", "formIds")
            return await _payload(session, activity_type.id)

        return await context.mutate(change, ActivityTypePayload)

    @strawberry.mutation(description="Delete a custom activity type no activity uses (admins only); archive it otherwise.")
    async def activity_type_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The custom type to delete.")]
    ) -> DeletePayload:
        context: OperationContext = info.context

        async def change() -> DeletePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            activity_type = await get_row(session, models.ActivityType, id, "ActivityType", "id")
            if activity_type.code is not None:
                raise UserErrors.conflict("A built-in type cannot be deleted.", "id")
            used = await session.scalar(select(func.count()).select_from(models.Activity).where(models.Activity.type_id == activity_type.id))
            if used:
                raise UserErrors.conflict(f"{used} activities use this type: archive it instead.", "id")
            await session.execute(
                delete(models.ActivityTypeForm).where(models.ActivityTypeForm.type_id == activity_type.id).execution_options(synchronize_session=False)
            )
            await session.delete(activity_type)
            await session.flush()
            return DeletePayload(deleted_id=id)

        return await context.mutate(change, DeletePayload)

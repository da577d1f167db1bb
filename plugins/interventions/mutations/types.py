"""Intervention types, managed by admins (I1)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.errors import UserError, UserErrors
from fiche.plugins.interventions import models
from fiche.plugins.interventions.common import get_row
from fiche.plugins.interventions.reads import type_from_row
from fiche.plugins.interventions.types import InterventionType

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["InterventionTypeMutations"]

COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


@strawberry.input(description="A new intervention type.")
class InterventionTypeCreateInput:
    name: str = strawberry.field(description="Its name, unique in the organisation whatever its case (at most 80 characters).")
    colour: str = strawberry.field(default="#3B82F6", description="Colour in the planning, as `#RRGGBB`.")


@strawberry.input(description="Changes to an intervention type; fields left out stay as they are.")
class InterventionTypeUpdateInput:
    id: strawberry.ID = strawberry.field(description="The type to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    colour: str | None = strawberry.field(default=None, description="A new colour, as `#RRGGBB`.")
    archived: bool | None = strawberry.field(default=None, description="Archive (true) or restore (false) the type.")


@strawberry.type(description="The outcome of an intervention type mutation.")
class InterventionTypePayload:
    intervention_type: InterventionType | None = strawberry.field(default=None, description="The type, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def _name(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > 80:
        raise UserErrors.invalid("A type's name has 1 to 80 characters.", "input", "name")
    return name


def _colour(value: str) -> str:
    if not COLOUR.fullmatch(value):
        raise UserErrors.invalid("A colour is written `#RRGGBB`.", "input", "colour")
    return value.upper()


@strawberry.type
class InterventionTypeMutations:
    @strawberry.mutation(description="Create an intervention type (admins).")
    async def intervention_type_create(
        self, info: strawberry.Info, input: Annotated[InterventionTypeCreateInput, strawberry.argument(description="The type to create.")]
    ) -> InterventionTypePayload:
        context: OperationContext = info.context

        async def change() -> InterventionTypePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            row = models.InterventionType(name=_name(input.name), colour=_colour(input.colour), archived=False)
            session.add(row)
            await session.flush()
            return InterventionTypePayload(intervention_type=type_from_row(row))

        return await context.mutate(change, InterventionTypePayload)

    @strawberry.mutation(description="Rename, recolour, archive or restore an intervention type (admins).")
    async def intervention_type_update(
        self, info: strawberry.Info, input: Annotated[InterventionTypeUpdateInput, strawberry.argument(description="The type and the changes.")]
    ) -> InterventionTypePayload:
        context: OperationContext = info.context

        async def change() -> InterventionTypePayload:
            context.require_role_error(admin=True)
            session = await context.session()
            row = await get_row(session, models.InterventionType, input.id, "InterventionType", "input", "id", noun="intervention type")
            if input.name is not None:
                row.name = _name(input.name)
            if input.colour is not None:
                row.colour = _colour(input.colour)
            if input.archived is not None:
                row.archived = input.archived
            await session.flush()
            return InterventionTypePayload(intervention_type=type_from_row(row))

        return await context.mutate(change, InterventionTypePayload)

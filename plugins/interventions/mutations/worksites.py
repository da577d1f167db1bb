"""Worksites (I4): create, change, delete (managers and admins). Interventions join a
worksite with ``worksiteId`` on create / update."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import update

from fiche.errors import UserError, UserErrors
from fiche.plugins.interventions import models
from fiche.plugins.interventions.common import check_address, check_customer, check_name, get_row
from fiche.plugins.interventions.reads import worksite_from_row, worksite_select
from fiche.plugins.interventions.services.access import check_planner
from fiche.plugins.interventions.services.recurrence import FIRST_DAY, LAST_DAY
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.types import Worksite

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["WorksiteMutations", "check_dates", "check_worksite"]

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A new worksite of a customer.")
class WorksiteCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch.")
    address_id: strawberry.ID | None = strawberry.field(default=None, description="Where: one of that customer's addresses.")
    name: str = strawberry.field(description="Its name (1 to 200 characters).")
    description: str | None = strawberry.field(default=None, description="A description.")
    starts_on: dt.date = strawberry.field(description="First day.")
    ends_on: dt.date | None = strawberry.field(default=None, description="Last day planned (not before the first).")


@strawberry.input(description="Changes to a worksite; fields left out stay as they are.")
class WorksiteUpdateInput:
    id: strawberry.ID = strawberry.field(description="The worksite to change.")
    address_id: strawberry.ID | None = strawberry.field(default=UNSET, description="Another address of its customer; null: none.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=UNSET, description="A new description; null clears it.")
    starts_on: dt.date | None = strawberry.field(default=None, description="A new first day.")
    ends_on: dt.date | None = strawberry.field(default=UNSET, description="A new last day; null: not known.")


@strawberry.type(description="The outcome of a worksite mutation.")
class WorksitePayload:
    worksite: Worksite | None = strawberry.field(default=None, description="The worksite, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a worksite deletion.")
class WorksiteDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of the worksite deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def check_dates(starts_on: dt.date, ends_on: dt.date | None, *path: str) -> None:
    """Dates in years 2000-2100, the end not before the start."""
    for name, day in (("startsOn", starts_on), ("endsOn", ends_on)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise UserErrors.invalid("Dates are between 2000 and 2100.", *path, name)
    if ends_on is not None and ends_on < starts_on:
        raise UserErrors.invalid("The end cannot be before the start.", *path, "endsOn")


async def check_worksite(session: AsyncSession, global_id: str, customer_pk: int, *path: str) -> int:
    """A worksite of THAT customer: NOT_FOUND, or INVALID for another customer's."""
    worksite = await get_row(session, models.Worksite, global_id, "Worksite", *path)
    if worksite.customer_id != customer_pk:
        raise UserErrors.invalid("This worksite belongs to another customer.", *path)
    return worksite.id


async def _read_back(context: OperationContext, session: AsyncSession, pk: int) -> Worksite:
    return worksite_from_row((await session.execute(worksite_select(await today(context)).where(models.Worksite.id == pk))).one())


@strawberry.type
class WorksiteMutations:
    @strawberry.mutation(description="Create a worksite for a customer (managers and admins).")
    async def worksite_create(
        self, info: strawberry.Info, input: Annotated[WorksiteCreateInput, strawberry.argument(description="The worksite.")]
    ) -> WorksitePayload:
        context: OperationContext = info.context

        async def change() -> WorksitePayload:
            check_planner(context.require_viewer())
            await today(context)
            customer_pk = await check_customer(context, input.customer_id, "input", "customerId")
            session = await context.session()
            address_pk = await check_address(context, session, input.address_id, customer_pk, "input", "addressId") if input.address_id is not None else None
            check_dates(input.starts_on, input.ends_on, "input")
            worksite = models.Worksite(
                customer_id=customer_pk, address_id=address_pk, name=check_name(input.name), description=input.description or None,
                starts_on=input.starts_on, ends_on=input.ends_on,
            )  # fmt: skip
            session.add(worksite)
            await session.flush()
            return WorksitePayload(worksite=await _read_back(context, session, worksite.id))

        return await context.mutate(change, WorksitePayload)

    @strawberry.mutation(description="Change a worksite (managers and admins).")
    async def worksite_update(
        self, info: strawberry.Info, input: Annotated[WorksiteUpdateInput, strawberry.argument(description="The worksite and the changes.")]
    ) -> WorksitePayload:
        context: OperationContext = info.context

        async def change() -> WorksitePayload:
            check_planner(context.require_viewer())
            await today(context)
            session = await context.session()
            worksite = await get_row(session, models.Worksite, input.id, "Worksite", "input", "id")
            if input.address_id is not UNSET:
                worksite.address_id = (
                    await check_address(context, session, input.address_id, worksite.customer_id, "input", "addressId") if input.address_id is not None else None
                )
            if input.name is not None:
                worksite.name = check_name(input.name)
            if input.description is not UNSET:
                worksite.description = input.description or None
            if input.starts_on is not None:
                worksite.starts_on = input.starts_on
            if input.ends_on is not UNSET:
                worksite.ends_on = input.ends_on
            check_dates(worksite.starts_on, worksite.ends_on, "input")
            await session.flush()
            return WorksitePayload(worksite=await _read_back(context, session, worksite.id))

        return await context.mutate(change, WorksitePayload)

    @strawberry.mutation(description="Delete a worksite; its interventions stay, outside any worksite (managers and admins).")
    async def worksite_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The worksite to delete.")]
    ) -> WorksiteDeletePayload:
        context: OperationContext = info.context

        async def change() -> WorksiteDeletePayload:
            check_planner(context.require_viewer())
            session = await context.session()
            worksite = await get_row(session, models.Worksite, id, "Worksite", "id")
            I = models.Intervention
            await session.execute(update(I).where(I.worksite_id == worksite.id).values(worksite_id=None).execution_options(synchronize_session=False))
            await session.delete(worksite)
            await session.flush()
            return WorksiteDeletePayload(deleted_id=id)

        return await context.mutate(change, WorksiteDeletePayload)

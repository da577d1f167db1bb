"""Planning interventions (I1): create, change, reschedule, assign, archive, cancel the
appointment. Managers and admins plan; technicians are told of what concerns them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from fiche.errors import UserError, UserErrors
from fiche.sequences import next_number
from fiche.plugins.interventions import kinds, models
from fiche.plugins.interventions.common import (
    check_address,
    check_appointment,
    check_customer,
    check_technicians,
    decode,
    fetch_intervention,
    get_row,
    notify_users,
    set_technicians,
    technician_ids,
)
from fiche.plugins.interventions.mutations.worksites import check_worksite
from fiche.plugins.interventions.services.access import check_planner
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.types import Intervention

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["InterventionMutations", "InterventionPayload", "NUMBER_SERIES", "insert_intervention"]

UNSET: Any = strawberry.UNSET
NUMBER_SERIES = "intervention-number"


@strawberry.input(description="A new intervention.")
class InterventionCreateInput:
    title: str = strawberry.field(description="What is to be done, in a few words (1 to 200 characters).")
    type_id: strawberry.ID = strawberry.field(description="Its type (not archived).")
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch.")
    address_id: strawberry.ID = strawberry.field(description="Where: one of that customer's addresses.")
    technician_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="The technicians assigned (users of your organisation).")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="Start of the appointment; none: unscheduled.")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="End of the appointment (not before its start).")
    description: str | None = strawberry.field(default=None, description="Details for the technicians.")
    to_invoice: bool = strawberry.field(default=False, description="Whether the work is to be invoiced once done.")
    worksite_id: strawberry.ID | None = strawberry.field(default=None, description="The worksite it is part of (one of that customer's).")


@strawberry.input(description="Changes to an intervention; fields left out stay as they are.")
class InterventionUpdateInput:
    id: strawberry.ID = strawberry.field(description="The intervention to change.")
    title: str | None = strawberry.field(default=None, description="A new title.")
    type_id: strawberry.ID | None = strawberry.field(default=None, description="A new type.")
    address_id: strawberry.ID | None = strawberry.field(default=None, description="Another address of the same customer.")
    description: str | None = strawberry.field(default=UNSET, description="New details; null clears them.")
    to_invoice: bool | None = strawberry.field(default=None, description="Whether the work is to be invoiced.")
    worksite_id: strawberry.ID | None = strawberry.field(default=UNSET, description="The worksite it is part of (one of its customer's); null: none.")


@strawberry.type(description="The outcome of an intervention mutation.")
class InterventionPayload:
    intervention: Intervention | None = strawberry.field(default=None, description="The intervention, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def _title(value: str) -> str:
    title = " ".join(value.split())
    if not title or len(title) > 200:
        raise UserErrors.invalid("A title has 1 to 200 characters.", "input", "title")
    return title


async def _type(session: AsyncSession, global_id: str) -> int:
    row = await get_row(session, models.InterventionType, global_id, "InterventionType", "input", "typeId", noun="intervention type")
    if row.archived:
        raise UserErrors.invalid(f"The type {row.name!r} is archived.", "input", "typeId")
    return row.id


async def _planned(context: OperationContext, global_id: str, *path: str) -> models.Intervention:
    """The intervention to change, for a planner; NOT_FOUND / FORBIDDEN otherwise."""
    viewer = context.require_viewer()
    decode(global_id, "Intervention", *path)
    await today(context)  # read before the write transaction starts (see intervention_create)
    if not viewer.is_manager and await context.load_node(global_id, "Intervention") is None:
        raise UserErrors.not_found("No Intervention with this ID.", *path)
    check_planner(viewer)
    session = await context.session()
    return await get_row(session, models.Intervention, global_id, "Intervention", *path)


async def insert_intervention(
    context: OperationContext,
    session: AsyncSession,
    *,
    title: str,
    type_id: int,
    customer_pk: int,
    address_pk: int,
    technicians: list[int],
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    description: str | None = None,
    to_invoice: bool = False,
    worksite_pk: int | None = None,
    plan_pk: int | None = None,
    occurrence: dt.date | None = None,
) -> models.Intervention:
    """Write a checked intervention with the organisation's next number, its technicians,
    and tell them. The numbering lock is held from here to the commit: call it last."""
    intervention = models.Intervention(
        number=await next_number(session, NUMBER_SERIES, models.Intervention.number),
        title=title,
        type_id=type_id,
        customer_id=customer_pk,
        address_id=address_pk,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        archived=False,
        to_invoice=to_invoice,
        worksite_id=worksite_pk,
        maintenance_plan_id=plan_pk,
        occurrence=occurrence,
    )
    session.add(intervention)
    await session.flush()
    await set_technicians(session, intervention.id, technicians)
    message = f"Intervention {intervention.number} — {title}: you are assigned ({_when(intervention)})."
    await notify_users(context, technicians, kinds.ASSIGNED, intervention, message)
    return intervention


def _when(intervention: models.Intervention) -> str:
    return intervention.starts_at.strftime("%Y-%m-%d %H:%M UTC") if intervention.starts_at else "unscheduled"


@strawberry.type
class InterventionMutations:
    @strawberry.mutation(description="Create an intervention with the next number of your organisation (managers and admins).")
    async def intervention_create(
        self, info: strawberry.Info, input: Annotated[InterventionCreateInput, strawberry.argument(description="The intervention to create.")]
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            check_planner(context.require_viewer())
            title = _title(input.title)
            # Reads through short-lived sessions first: once the write transaction holds the
            # numbering lock, it must not wait for a second connection of the pool.
            await today(context)
            customer_pk = await check_customer(context, input.customer_id, "input", "customerId")
            session = await context.session()
            type_id = await _type(session, input.type_id)
            address_pk = await check_address(context, session, input.address_id, customer_pk, "input", "addressId")
            technicians = await check_technicians(session, input.technician_ids, "input", "technicianIds")
            starts_at, ends_at = check_appointment(input.starts_at, input.ends_at, "input")
            worksite_pk = await check_worksite(session, input.worksite_id, customer_pk, "input", "worksiteId") if input.worksite_id is not None else None
            intervention = await insert_intervention(
                context, session, title=title, type_id=type_id, customer_pk=customer_pk, address_pk=address_pk, technicians=technicians,
                starts_at=starts_at, ends_at=ends_at, description=input.description or None, to_invoice=input.to_invoice, worksite_pk=worksite_pk,
            )  # fmt: skip
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

    @strawberry.mutation(description="Change an intervention's title, type, address, description or invoicing flag (managers and admins).")
    async def intervention_update(
        self, info: strawberry.Info, input: Annotated[InterventionUpdateInput, strawberry.argument(description="The intervention and the changes.")]
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            intervention = await _planned(context, input.id, "input", "id")
            session = await context.session()
            if input.title is not None:
                intervention.title = _title(input.title)
            if input.type_id is not None:
                intervention.type_id = await _type(session, input.type_id)
            if input.address_id is not None:
                intervention.address_id = await check_address(context, session, input.address_id, intervention.customer_id, "input", "addressId")
            if input.description is not UNSET:
                intervention.description = input.description or None
            if input.to_invoice is not None:
                if intervention.invoice_id is not None and not input.to_invoice:
                    raise UserErrors.conflict("This intervention was already invoiced.", "input", "toInvoice")
                intervention.to_invoice = input.to_invoice
            if input.worksite_id is not UNSET:
                intervention.worksite_id = (
                    await check_worksite(session, input.worksite_id, intervention.customer_id, "input", "worksiteId") if input.worksite_id is not None else None
                )
            await session.flush()
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

    @strawberry.mutation(description="Set or move the appointment; the assigned technicians are notified (managers and admins).")
    async def intervention_reschedule(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The intervention.")],
        starts_at: Annotated[dt.datetime, strawberry.argument(description="The new start.")],
        ends_at: Annotated[dt.datetime | None, strawberry.argument(description="The new end (not before the start).")] = None,
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            intervention = await _planned(context, id, "id")
            session = await context.session()
            if intervention.completed_at is not None:
                raise UserErrors.conflict("A completed intervention cannot be rescheduled.", "id")
            new_start, new_end = check_appointment(starts_at, ends_at)
            moved = (new_start, new_end) != (intervention.starts_at, intervention.ends_at)
            intervention.starts_at, intervention.ends_at = new_start, new_end
            await session.flush()
            if moved:
                message = f"Intervention {intervention.number} — {intervention.title} moved to {_when(intervention)}."
                await notify_users(context, await technician_ids(session, intervention.id), kinds.RESCHEDULED, intervention, message)
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

    @strawberry.mutation(description="Cancel the appointment (the intervention stays, UNSCHEDULED); the technicians are notified (managers and admins).")
    async def intervention_cancel(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The intervention.")]
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            intervention = await _planned(context, id, "id")
            session = await context.session()
            if intervention.completed_at is not None:
                raise UserErrors.conflict("A completed intervention cannot be cancelled.", "id")
            if intervention.starts_at is None:
                raise UserErrors.conflict("This intervention has no appointment.", "id")
            previous = _when(intervention)
            intervention.starts_at = intervention.ends_at = None
            await session.flush()
            message = f"Intervention {intervention.number} — {intervention.title}: the appointment of {previous} is cancelled."
            await notify_users(context, await technician_ids(session, intervention.id), kinds.CANCELLED, intervention, message)
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

    @strawberry.mutation(description="Set the technicians of an intervention; those newly assigned are notified (managers and admins).")
    async def intervention_assign(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The intervention.")],
        technician_ids: Annotated[list[strawberry.ID], strawberry.argument(description="Every technician it should have (users of your organisation).")],
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            intervention = await _planned(context, id, "id")
            session = await context.session()
            users = await check_technicians(session, technician_ids, "technicianIds")
            added = await set_technicians(session, intervention.id, users)
            message = f"Intervention {intervention.number} — {intervention.title}: you are assigned ({_when(intervention)})."
            await notify_users(context, added, kinds.ASSIGNED, intervention, message)
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

    @strawberry.mutation(description="Archive an intervention, or restore it (managers and admins).")
    async def intervention_archive(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The intervention.")],
        archived: Annotated[bool, strawberry.argument(description="True to archive, false to restore.")] = True,
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            intervention = await _planned(context, id, "id")
            session = await context.session()
            intervention.archived = archived
            await session.flush()
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

"""Maintenance plans (I5): create, change, delete (managers and admins), and schedule a
visit: the intervention made for one occurrence of the plan."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import delete, select, update

from fiche.accounts import models as accounts
from fiche.errors import UserError, UserErrors
from fiche.plugins.interventions import models
from fiche.plugins.interventions.common import (
    check_address,
    check_appointment,
    check_customer,
    check_equipment,
    check_name,
    fetch_intervention,
    get_row,
)
from fiche.plugins.interventions.mutations.planning import InterventionPayload, insert_intervention
from fiche.plugins.interventions.mutations.worksites import check_dates
from fiche.plugins.interventions.reads import PLAN_COLUMNS, plan_from_row
from fiche.plugins.interventions.services.access import check_planner
from fiche.plugins.interventions.services.bounds import MAX_EQUIPMENT_PER_PLAN
from fiche.plugins.interventions.services.recurrence import FIRST_DAY, LAST_DAY, check_rule, is_occurrence, parse_rule
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.types import MaintenancePlan

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["MaintenanceMutations"]

TOO_MUCH_EQUIPMENT = f"A plan covers at most {MAX_EQUIPMENT_PER_PLAN} equipment."

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A new maintenance plan of a customer.")
class MaintenancePlanCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch.")
    address_id: strawberry.ID = strawberry.field(description="Where the visits take place: one of that customer's addresses.")
    type_id: strawberry.ID = strawberry.field(description="The type of the interventions its visits become.")
    name: str = strawberry.field(description="Its name (1 to 200 characters).")
    recurrence: str = strawberry.field(description="When visits are due: an RFC 5545 RRULE, daily or coarser, e.g. `FREQ=MONTHLY;INTERVAL=6` or `FREQ=YEARLY;BYMONTH=3`.")
    starts_on: dt.date = strawberry.field(description="The first day of the plan (the rule's start).")
    ends_on: dt.date | None = strawberry.field(default=None, description="The last day of the plan; none: until further notice.")
    assigned_user_id: strawberry.ID | None = strawberry.field(default=None, description="Who does the visits.")
    equipment_ids: list[strawberry.ID] = strawberry.field(default_factory=list, description="The customer's equipment covered.")


@strawberry.input(description="Changes to a maintenance plan; fields left out stay as they are.")
class MaintenancePlanUpdateInput:
    id: strawberry.ID = strawberry.field(description="The plan to change.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    recurrence: str | None = strawberry.field(default=None, description="A new RRULE.")
    starts_on: dt.date | None = strawberry.field(default=None, description="A new first day.")
    ends_on: dt.date | None = strawberry.field(default=UNSET, description="A new last day; null: until further notice.")
    assigned_user_id: strawberry.ID | None = strawberry.field(default=UNSET, description="Who does the visits; null: nobody yet.")
    equipment_ids: list[strawberry.ID] | None = strawberry.field(default=None, description="Every equipment it covers.")


@strawberry.type(description="The outcome of a maintenance plan mutation.")
class MaintenancePlanPayload:
    plan: MaintenancePlan | None = strawberry.field(default=None, description="The plan, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a maintenance plan deletion.")
class MaintenancePlanDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of the plan deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


async def _user(session: AsyncSession, global_id: str) -> int:
    user = await get_row(session, accounts.User, global_id, "User", "input", "assignedUserId", noun="user")
    if not user.is_active:
        raise UserErrors.invalid(f"{user.name} is deactivated.", "input", "assignedUserId")
    return user.id


async def _type(session: AsyncSession, global_id: str) -> int:
    row = await get_row(session, models.InterventionType, global_id, "InterventionType", "input", "typeId", noun="intervention type")
    if row.archived:
        raise UserErrors.invalid(f"The type {row.name!r} is archived.", "input", "typeId")
    return row.id


async def _set_equipment(session: AsyncSession, plan_pk: int, equipment: list[int]) -> None:
    link = models.MaintenancePlanEquipment
    await session.execute(delete(link).where(link.plan_id == plan_pk).execution_options(synchronize_session=False))
    session.add_all(link(plan_id=plan_pk, equipment_id=pk) for pk in equipment)
    await session.flush()


async def _read_back(session: AsyncSession, pk: int) -> MaintenancePlan:
    return plan_from_row((await session.execute(select(*PLAN_COLUMNS).where(models.MaintenancePlan.id == pk))).one())


@strawberry.type
class MaintenanceMutations:
    @strawberry.mutation(description="Create a maintenance plan for a customer (managers and admins).")
    async def maintenance_plan_create(
        self, info: strawberry.Info, input: Annotated[MaintenancePlanCreateInput, strawberry.argument(description="The plan.")]
    ) -> MaintenancePlanPayload:
        context: OperationContext = info.context

        async def change() -> MaintenancePlanPayload:
            check_planner(context.require_viewer())
            customer_pk = await check_customer(context, input.customer_id, "input", "customerId")
            session = await context.session()
            check_dates(input.starts_on, input.ends_on, "input")
            plan = models.MaintenancePlan(
                customer_id=customer_pk,
                address_id=await check_address(context, session, input.address_id, customer_pk, "input", "addressId"),
                type_id=await _type(session, input.type_id),
                name=check_name(input.name),
                recurrence=check_rule(input.recurrence, input.starts_on, "input", "recurrence"),
                starts_on=input.starts_on,
                ends_on=input.ends_on,
                assigned_user_id=await _user(session, input.assigned_user_id) if input.assigned_user_id is not None else None,
            )
            equipment = await check_equipment(session, input.equipment_ids, customer_pk, TOO_MUCH_EQUIPMENT, MAX_EQUIPMENT_PER_PLAN)
            session.add(plan)
            await session.flush()
            await _set_equipment(session, plan.id, equipment)
            return MaintenancePlanPayload(plan=await _read_back(session, plan.id))

        return await context.mutate(change, MaintenancePlanPayload)

    @strawberry.mutation(description="Change a maintenance plan (managers and admins). Visits already scheduled keep their interventions.")
    async def maintenance_plan_update(
        self, info: strawberry.Info, input: Annotated[MaintenancePlanUpdateInput, strawberry.argument(description="The plan and the changes.")]
    ) -> MaintenancePlanPayload:
        context: OperationContext = info.context

        async def change() -> MaintenancePlanPayload:
            check_planner(context.require_viewer())
            session = await context.session()
            plan = await get_row(session, models.MaintenancePlan, input.id, "MaintenancePlan", "input", "id", noun="maintenance plan")
            if input.name is not None:
                plan.name = check_name(input.name)
            if input.starts_on is not None:
                plan.starts_on = input.starts_on
            if input.ends_on is not UNSET:
                plan.ends_on = input.ends_on
            check_dates(plan.starts_on, plan.ends_on, "input")
            plan.recurrence = check_rule(input.recurrence if input.recurrence is not None else plan.recurrence, plan.starts_on, "input", "recurrence")
            if input.assigned_user_id is not UNSET:
                plan.assigned_user_id = await _user(session, input.assigned_user_id) if input.assigned_user_id is not None else None
            if input.equipment_ids is not None:
                await _set_equipment(session, plan.id, await check_equipment(session, input.equipment_ids, plan.customer_id, TOO_MUCH_EQUIPMENT, MAX_EQUIPMENT_PER_PLAN))
            await session.flush()
            return MaintenancePlanPayload(plan=await _read_back(session, plan.id))

        return await context.mutate(change, MaintenancePlanPayload)

    @strawberry.mutation(description="Delete a maintenance plan; the interventions of its visits stay (managers and admins).")
    async def maintenance_plan_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The plan to delete.")]
    ) -> MaintenancePlanDeletePayload:
        context: OperationContext = info.context

        async def change() -> MaintenancePlanDeletePayload:
            check_planner(context.require_viewer())
            session = await context.session()
            plan = await get_row(session, models.MaintenancePlan, id, "MaintenancePlan", "id", noun="maintenance plan")
            I = models.Intervention
            await session.execute(
                update(I).where(I.maintenance_plan_id == plan.id).values(maintenance_plan_id=None, occurrence=None).execution_options(synchronize_session=False)
            )
            await _set_equipment(session, plan.id, [])
            await session.delete(plan)
            await session.flush()
            return MaintenancePlanDeletePayload(deleted_id=id)

        return await context.mutate(change, MaintenancePlanDeletePayload)

    @strawberry.mutation(
        description="Schedule a visit of a maintenance plan: create the intervention for one of its occurrences, assigned to the plan's "
        "user (managers and admins)."
    )
    async def maintenance_plan_schedule_visit(
        self,
        info: strawberry.Info,
        plan_id: Annotated[strawberry.ID, strawberry.argument(description="The plan.")],
        occurrence: Annotated[dt.date, strawberry.argument(description="The day of the visit due (an occurrence of the plan).")],
        starts_at: Annotated[dt.datetime | None, strawberry.argument(description="Start of the appointment; none: unscheduled.")] = None,
        ends_at: Annotated[dt.datetime | None, strawberry.argument(description="End of the appointment (not before its start).")] = None,
        title: Annotated[str | None, strawberry.argument(description="The intervention's title; the plan's name by default.")] = None,
    ) -> InterventionPayload:
        context: OperationContext = info.context

        async def change() -> InterventionPayload:
            check_planner(context.require_viewer())
            await today(context)  # read before the numbering lock (see interventionCreate)
            session = await context.session()
            plan = await get_row(session, models.MaintenancePlan, plan_id, "MaintenancePlan", "planId", noun="maintenance plan")
            if not FIRST_DAY <= occurrence <= LAST_DAY or not is_occurrence(parse_rule(plan.recurrence, plan.starts_on), occurrence, plan.ends_on):
                raise UserErrors.invalid("This day is not a visit of the plan.", "occurrence")
            I = models.Intervention
            if await session.scalar(select(I.id).where(I.maintenance_plan_id == plan.id, I.occurrence == occurrence)) is not None:
                raise UserErrors.conflict("This visit of the plan is already scheduled.", "occurrence")
            start, end = check_appointment(starts_at, ends_at)
            name = " ".join((title or plan.name).split())
            if not name or len(name) > 200:
                raise UserErrors.invalid("A title has 1 to 200 characters.", "title")
            technicians = [plan.assigned_user_id] if plan.assigned_user_id is not None else []
            intervention = await insert_intervention(
                context, session, title=name, type_id=plan.type_id, customer_pk=plan.customer_id, address_pk=plan.address_id,
                technicians=technicians, starts_at=start, ends_at=end, plan_pk=plan.id, occurrence=occurrence,
            )  # fmt: skip
            return InterventionPayload(intervention=await fetch_intervention(context, session, intervention.id))

        return await context.mutate(change, InterventionPayload)

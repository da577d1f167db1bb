"""Helpers shared by the plugin's mutations: checking inputs (customer, address,
technicians, appointment), reading back what was written, and notifying technicians."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from fiche.accounts import models as accounts
from fiche.datetimes import instant_problem
from fiche.directory import customer_addresses
from fiche.errors import ErrorCode, UserErrors
from fiche.notifications import notify
from fiche.relay import encode_id
from fiche.relay import input_pk as decode
from fiche.relay import load_input_row as get_row
from fiche.plugins.interventions import models
from fiche.plugins.interventions.reads import InterventionBuilder, intervention_select
from fiche.plugins.interventions.services.bounds import MAX_TECHNICIANS
from fiche.plugins.interventions.services.status import today
from fiche.plugins.interventions.types import Intervention

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = [
    "check_address",
    "check_appointment",
    "check_customer",
    "check_technicians",
    "decode",
    "fetch_intervention",
    "get_row",
    "notify_users",
    "set_technicians",
    "technician_ids",
]


async def check_customer(context: OperationContext, global_id: str, *path: str) -> int:
    """The primary key of a customer the viewer may see; NOT_FOUND otherwise."""
    pk = decode(global_id, "Customer", *path)
    if "Customer" not in context.app.node_resolvers or await context.load_node(global_id, "Customer") is None:
        raise UserErrors.not_found("No customer with this ID.", *path)
    return pk


async def check_address(context: OperationContext, session: AsyncSession, global_id: str, customer_pk: int, *path: str) -> int:
    """The primary key of an address of THAT customer: NOT_FOUND for no address (or another
    organisation's), INVALID for an address of another customer."""
    pk = decode(global_id, "Address", *path)
    address = (await customer_addresses(context.pm, session, [pk])).get(pk)
    if address is None:
        raise UserErrors.not_found("No address with this ID.", *path)
    if address.customer_id != customer_pk:
        raise UserErrors.invalid("This address belongs to another customer.", *path)
    return pk


async def check_technicians(session: AsyncSession, global_ids: Sequence[str], *path: str) -> list[int]:
    """Active users of the organisation, without duplicates; NOT_FOUND names the first
    unknown one (another organisation's user is unknown here)."""
    if len(global_ids) > MAX_TECHNICIANS:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"At most {MAX_TECHNICIANS} technicians.", *path)
    pks = [decode(global_id, "User", *path, str(index)) for index, global_id in enumerate(global_ids)]
    wanted = sorted(set(pks))
    rows = {row.id: row for row in (await session.execute(select(accounts.User.id, accounts.User.is_active, accounts.User.name).where(accounts.User.id.in_(wanted)))).all()}
    for index, pk in enumerate(pks):
        row = rows.get(pk)
        if row is None:
            raise UserErrors.not_found("No user with this ID.", *path, str(index))
        if not row.is_active:
            raise UserErrors.invalid(f"{row.name} is deactivated.", *path, str(index))
    return wanted


def check_appointment(starts_at: dt.datetime | None, ends_at: dt.datetime | None, *path: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A start and end in UTC: an end needs a start and is not before it."""
    for name, value in (("startsAt", starts_at), ("endsAt", ends_at)):
        if value is not None and (problem := instant_problem(value)) is not None:
            raise UserErrors.invalid(f"The time {problem}.", *path, name)
    if ends_at is not None and starts_at is None:
        raise UserErrors.invalid("An appointment with an end needs a start.", *path, "startsAt")
    if starts_at is not None and ends_at is not None and ends_at < starts_at:
        raise UserErrors.invalid("The appointment cannot end before it starts.", *path, "endsAt")
    return (starts_at.astimezone(dt.UTC) if starts_at else None, ends_at.astimezone(dt.UTC) if ends_at else None)


async def technician_ids(session: AsyncSession, intervention_pk: int) -> set[int]:
    link = models.InterventionTechnician
    return set((await session.scalars(select(link.user_id).where(link.intervention_id == intervention_pk))).all())


async def set_technicians(session: AsyncSession, intervention_pk: int, user_ids: Iterable[int]) -> set[int]:
    """Make ``user_ids`` the intervention's technicians; returns those newly assigned."""
    link = models.InterventionTechnician
    current = await technician_ids(session, intervention_pk)
    wanted = set(user_ids)
    gone = current - wanted
    if gone:
        await session.execute(delete(link).where(link.intervention_id == intervention_pk, link.user_id.in_(sorted(gone))).execution_options(synchronize_session=False))
    session.add_all(link(intervention_id=intervention_pk, user_id=user_id) for user_id in sorted(wanted - current))
    await session.flush()
    return wanted - current


async def fetch_intervention(context: OperationContext, session: AsyncSession, pk: int) -> Intervention:
    """The GraphQL object of an intervention as the write session sees it (after a flush)."""
    row = (await session.execute(intervention_select(await today(context)).where(models.Intervention.id == pk))).one()
    return InterventionBuilder()(row)


async def notify_users(context: OperationContext, user_ids: Iterable[int], kind: str, intervention: models.Intervention, message: str) -> None:
    """Tell ``user_ids`` (never the viewer themselves) about ``intervention``."""
    viewer = context.require_viewer()
    recipients = sorted(set(user_ids) - {viewer.user_id})
    if recipients:
        await notify(
            context,
            recipients,
            kind,
            message=message,
            target_id=encode_id("Customer", intervention.customer_id),
            subject_id=encode_id("Intervention", intervention.id),
            actor_id=viewer.user_id,
        )


def check_name(value: str) -> str:
    """A name (of equipment, a worksite, a plan) with its spaces collapsed: 1 to 200 characters."""
    name = " ".join(value.split())
    if not name or len(name) > 200:
        raise UserErrors.invalid("A name has 1 to 200 characters.", "input", "name")
    return name


async def check_equipment(session: AsyncSession, global_ids: Sequence[str], customer_pk: int, limit_message: str, limit: int) -> list[int]:
    """The primary keys of ``input.equipmentIds``, each an equipment of THAT customer:
    NOT_FOUND for a missing one (or another organisation's), INVALID for another
    customer's, LIMIT_EXCEEDED past ``limit`` (with ``limit_message``)."""
    if len(global_ids) > limit:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, limit_message, "input", "equipmentIds")
    pks = [decode(gid, "Equipment", "input", "equipmentIds", str(index)) for index, gid in enumerate(global_ids)]
    E = models.Equipment
    owners = {row.id: row.customer_id for row in (await session.execute(select(E.id, E.customer_id).where(E.id.in_(sorted(set(pks)))))).all()}
    for index, pk in enumerate(pks):
        if pk not in owners:
            raise UserErrors.not_found("No equipment with this ID.", "input", "equipmentIds", str(index))
        if owners[pk] != customer_pk:
            raise UserErrors.invalid("This equipment belongs to another customer.", "input", "equipmentIds", str(index))
    return sorted(set(pks))

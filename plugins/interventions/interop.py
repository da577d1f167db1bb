"""What the plugin answers to other plugins (no imports between them): the customer of an
intervention (for quotes), the work to invoice and its invoicing (B4), a technician's
stops of a day (route planning)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from fiche.db import lock
from fiche.directory import customer_addresses
from fiche.interop import BillableWork, RouteStop
from fiche.org_settings import organization_zone
from fiche.relay import encode_id
from fiche.plugins.interventions import models
from fiche.plugins.interventions.services.access import is_technician, visible_condition
from fiche.plugins.interventions.services.status import day_bounds

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["INVOICING_LOCK", "billable_work", "intervention_customers", "route_stops", "work_invoiced", "work_released"]

I = models.Intervention
INVOICING_LOCK = "intervention-invoicing"


async def intervention_customers(session: AsyncSession, intervention_ids: Sequence[int]) -> dict[int, int]:
    rows = (await session.execute(select(I.id, I.customer_id).where(I.id.in_(list(intervention_ids))))).all()
    return {row.id: row.customer_id for row in rows}


def _hours(start: dt.datetime | None, end: dt.datetime | None) -> Decimal | None:
    if start is None or end is None:
        return None
    return (Decimal((end - start).total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


async def billable_work(context: OperationContext, customer_id: int, work_ids: Sequence[int] | None) -> list[BillableWork]:
    """Done, flagged to invoice, not yet invoiced, oldest first. The invoicing lock (and
    ``FOR UPDATE`` on PostgreSQL) makes a concurrent invoicing wait, then see the work
    taken by the first."""
    session = await context.session()
    await lock(session, INVOICING_LOCK)
    stmt = (
        select(I.id, I.number, I.title, I.customer_id, I.completed_at, I.actual_start, I.actual_end)
        .where(I.customer_id == customer_id, I.to_invoice.is_(True), I.completed_at.is_not(None), I.invoice_id.is_(None))
        .order_by(I.completed_at, I.id)
        .with_for_update()
    )
    if work_ids is not None:
        stmt = stmt.where(I.id.in_(list(work_ids)))
    rows = (await session.execute(stmt)).all()
    return [
        BillableWork(
            pk=row.id, global_id=encode_id("Intervention", row.id), customer_id=row.customer_id,
            label=f"Intervention {row.number} — {row.title}", done_at=row.completed_at, hours=_hours(row.actual_start, row.actual_end),
        )  # fmt: skip
        for row in rows
    ]


async def work_invoiced(context: OperationContext, work: Sequence[BillableWork], document_id: str) -> None:
    """Record the invoice on the interventions among ``work`` (other plugins' work is ignored)."""
    pks = [item.pk for item in work if item.global_id == encode_id("Intervention", item.pk)]
    if not pks:
        return
    session = await context.session()
    await session.execute(
        update(I).where(I.id.in_(pks), I.invoice_id.is_(None)).values(invoice_id=document_id).execution_options(synchronize_session=False)
    )


async def work_released(context: OperationContext, document_id: str) -> None:
    """The interventions invoiced by ``document_id``, a deleted draft, are billable again."""
    session = await context.session()
    await session.execute(
        update(I).where(I.invoice_id == document_id).values(invoice_id=None).execution_options(synchronize_session=False)
    )


async def route_stops(context: OperationContext, user_id: int, day: dt.date) -> list[RouteStop]:
    """The user's appointments that day (in the organisation's time zone), with the
    coordinates of their addresses; two statements whatever their number."""
    viewer = context.require_viewer()
    if is_technician(viewer) and viewer.user_id != user_id:
        return []
    bounds = day_bounds(day, await organization_zone(context))
    link = models.InterventionTechnician
    stmt = (
        select(I.id, I.number, I.title, I.customer_id, I.address_id, I.starts_at, I.ends_at)
        .join(link, link.intervention_id == I.id)
        .where(
            link.user_id == user_id,
            I.archived.is_(False),
            I.starts_at < bounds.end,
            func.coalesce(I.ends_at, I.starts_at) >= bounds.start,
        )
        .order_by(I.starts_at, I.id)
    )
    condition = visible_condition(viewer)
    if condition is not None:
        stmt = stmt.where(condition)
    async with context.read() as session:
        rows = (await session.execute(stmt)).all()
        addresses = await customer_addresses(context.pm, session, sorted({row.address_id for row in rows}))
    stops = []
    for row in rows:
        address = addresses.get(row.address_id)
        stops.append(RouteStop(
            global_id=encode_id("Intervention", row.id), title=f"Intervention {row.number} — {row.title}", customer_id=row.customer_id,
            latitude=address.latitude if address else None, longitude=address.longitude if address else None,
            start=row.starts_at, end=row.ends_at, fixed=True,
        ))  # fmt: skip
    return stops

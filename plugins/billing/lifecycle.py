"""Billing's answers to the customers plugin's lifecycle hooks, and the facts it gives
other plugins: deletion blockers, deletion, merge, sales figures, the ``hasQuote``
condition of interventions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, false, func, select, true, update

from fiche.interop import SalesSummary
from fiche.plugins.billing import access, documents, models

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.auth import Viewer

    from fiche.context import OperationContext

__all__ = ["deletion_blockers", "delete_customer_rows", "merge_customer_rows", "quote_condition", "sales"]

Status = models.DocumentStatus
Kind = models.DocumentKind


async def deletion_blockers(session: AsyncSession, customer_id: int) -> list[str]:
    """A customer with issued documents (numbered: a legal record) or orders (which notes and
    tasks may be about) cannot be deleted."""
    document = models.BillingDocument
    issued = await session.scalar(
        select(func.count(document.id)).where(document.customer_id == customer_id, document.status != Status.DRAFT)
    )
    orders = await session.scalar(select(func.count(models.Order.id)).where(models.Order.customer_id == customer_id))
    reasons = []
    if orders:
        reasons.append(f"The customer has {orders} order(s), which may carry notes and tasks.")
    if issued:
        reasons.append(f"The customer has {issued} issued billing document(s) (quotes, invoices, credit notes), which must be kept.")
    return reasons


async def delete_customer_rows(session: AsyncSession, customer_id: int) -> None:
    """Remove the drafts and billing information of a customer being deleted (the blockers
    made sure nothing issued is left)."""
    document = models.BillingDocument
    await session.execute(delete(document).where(document.customer_id == customer_id, document.status == Status.DRAFT))
    await session.execute(delete(models.BillingProfile).where(models.BillingProfile.customer_id == customer_id))


async def merge_customer_rows(session: AsyncSession, source_id: int, target_id: int) -> None:
    """Documents move to the record kept; its billing information wins when both have one."""
    document = models.BillingDocument
    await session.execute(update(document).where(document.customer_id == source_id).values(customer_id=target_id))
    await session.execute(update(models.Order).where(models.Order.customer_id == source_id).values(customer_id=target_id))
    profile = models.BillingProfile
    kept = await session.scalar(select(func.count(profile.id)).where(profile.customer_id == target_id))
    if kept:
        await session.execute(delete(profile).where(profile.customer_id == source_id))
    else:
        await session.execute(update(profile).where(profile.customer_id == source_id).values(customer_id=target_id))


def quote_condition(intervention_id: Any, has_quote: bool, viewer: Viewer) -> Any:
    """Interventions with (or without) a quote linked that is not cancelled. To a viewer who
    may not read billing (a technician), no intervention has a quote, as if there were none."""
    if not access.can_read(viewer):
        return false() if has_quote else true()
    linked = select(models.BillingDocument.intervention_id).where(
        models.BillingDocument.intervention_id.is_not(None),
        models.BillingDocument.kind == Kind.QUOTE,
        models.BillingDocument.status != Status.CANCELLED,
    )
    return intervention_id.in_(linked) if has_quote else intervention_id.not_in(linked)


async def sales(context: OperationContext, customer_ids: Sequence[int]) -> dict[int, SalesSummary]:
    """Sales figures per customer in one statement (sums made in Python: exact on SQLite too)."""
    if not customer_ids or not access.can_read(context.viewer):
        return {}
    day = await documents.today(context)
    year_ago = day - dt.timedelta(days=365)
    document = models.BillingDocument
    stmt = select(
        document.customer_id, document.kind, document.status, document.currency, document.issue_date, document.due_date,
        document.gross_total, document.paid_total, document.credited_total,
    ).where(document.customer_id.in_(list(customer_ids)), document.status != Status.DRAFT)  # fmt: skip
    async with context.read() as session:
        rows = (await session.execute(stmt)).all()
    figures: dict[int, dict[str, Any]] = {}
    for row in rows:
        item = figures.setdefault(
            row.customer_id,
            {"currency": row.currency, "invoiced": Decimal(0), "outstanding": Decimal(0), "overdue": Decimal(0),
             "quotes": 0, "quotes_total": Decimal(0), "last": None},
        )  # fmt: skip
        recent = row.issue_date is not None and row.issue_date >= year_ago
        if row.kind is Kind.INVOICE:
            if recent:
                item["invoiced"] += row.gross_total
            owed = row.gross_total - row.paid_total - row.credited_total if row.status is Status.SENT else Decimal(0)
            item["outstanding"] += owed
            if row.due_date is not None and row.due_date < day:
                item["overdue"] += owed
            if row.issue_date is not None and (item["last"] is None or row.issue_date > item["last"]):
                item["last"] = row.issue_date
        elif row.kind is Kind.CREDIT_NOTE and recent:
            item["invoiced"] -= row.gross_total
        elif row.kind is Kind.QUOTE and row.status is Status.SENT:
            item["quotes"] += 1
            item["quotes_total"] += row.gross_total
    return {
        customer: SalesSummary(
            currency=item["currency"],
            invoiced_last_12_months=item["invoiced"],
            outstanding=item["outstanding"],
            overdue=item["overdue"],
            open_quotes=item["quotes"],
            open_quotes_total=item["quotes_total"],
            last_invoice_at=item["last"],
        )
        for customer, item in figures.items()
    }

"""Invoicing finished work (B4): the interventions flagged "to invoice" become one draft
invoice, a line per intervention, and are marked invoiced in the same transaction —
through the ``billable_work`` and ``work_invoiced`` hooks, never an import."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fiche.errors import UserErrors
from fiche.relay import input_pk
from fiche.plugins.billing import access, documents, models
from fiche.plugins.billing.lines import MAX_LINES, LineDraft, check_lines

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.interop import BillableWork

__all__ = ["invoice_work"]



async def _await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def invoice_work(
    context: OperationContext,
    customer_gid: str,
    *,
    unit_price: Decimal,
    vat_rate: Decimal,
    work_gids: Sequence[str] | None,
    title: str | None,
) -> models.BillingDocument:
    access.require_drafter(context)
    session = await context.session()
    customer = await documents.customer_pk(context, session, customer_gid, "input", "customerId")
    wanted = None if work_gids is None else [input_pk(gid, "Intervention", "input", "workIds", str(i)) for i, gid in enumerate(work_gids)]
    work: Sequence[BillableWork] = await _await(context.pm.hook.billable_work(context=context, customer_id=customer, work_ids=wanted)) or []
    work = [item for item in work if item.customer_id == customer]
    if not work:
        raise UserErrors.invalid("This customer has no finished work waiting to be invoiced.", "input", "workIds")
    if len(work) > MAX_LINES:
        raise UserErrors.invalid(f"Invoice at most {MAX_LINES} interventions at once: give `workIds`.", "input", "workIds")
    lines = [
        LineDraft(item.label, item.hours if item.hours else Decimal(1), "h" if item.hours else "", unit_price, vat_rate, Decimal(0), item.global_id)
        for item in work
    ]
    # The price and rate are the input's own fields: their errors point there, not at a line.
    try:
        check_lines(lines[:1], "input")
    except UserErrors as exc:
        for error in exc.errors:
            error.path = ["input", error.path[-1]] if error.path[-1] in ("unitPrice", "vatRate") else ["input", "workIds"]
        raise
    invoice = await documents.create_document(
        context, models.DocumentKind.INVOICE, customer_gid, title=title or "Interventions", notes=None, lines=lines
    )
    for answer in context.pm.hook.work_invoiced(context=context, work=list(work), document_id=documents.document_gid(invoice.id)):
        await _await(answer)
    return invoice

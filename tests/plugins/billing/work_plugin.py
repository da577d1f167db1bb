"""A stand-in for the interventions plugin in the billing tests: it answers the hooks of
finished work (``billable_work``, ``work_invoiced``) and ``intervention_customers`` from an
in-memory table, the way the real plugin does from its own (the lead runs both together)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fiche import hookimpl
from fiche.errors import UserErrors
from fiche.interop import BillableWork
from fiche.relay import encode_id

__all__ = ["WorkPlugin"]


@dataclasses.dataclass
class Work:
    pk: int
    customer_id: int
    organization_id: int
    label: str
    hours: Decimal | None
    invoiced_by: str | None = None


class WorkPlugin:
    """Interventions by primary key; ``refuse_marking`` makes ``work_invoiced`` fail."""

    def __init__(self) -> None:
        self.work: dict[int, Work] = {}
        self.refuse_marking = False
        self.sessions: list[Any] = []

    def add(self, pk: int, customer_id: int, organization_id: int, label: str, hours: str | None = None) -> str:
        self.work[pk] = Work(pk, customer_id, organization_id, label, Decimal(hours) if hours else None)
        return encode_id("Intervention", pk)

    @hookimpl
    def intervention_customers(self, session: AsyncSession, intervention_ids: Sequence[int]) -> Any:
        async def answer() -> dict[int, int]:
            organization = session.info.get("organization_id")
            return {pk: self.work[pk].customer_id for pk in intervention_ids if pk in self.work and self.work[pk].organization_id == organization}

        return answer()

    @hookimpl
    def billable_work(self, context: Any, customer_id: int, work_ids: Sequence[int] | None) -> Any:
        async def answer() -> list[BillableWork]:
            self.sessions.append(await context.session())
            organization = context.viewer.organization_id
            return [
                BillableWork(pk=w.pk, global_id=encode_id("Intervention", w.pk), customer_id=w.customer_id, label=w.label,
                             done_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC), hours=w.hours)  # fmt: skip
                for w in sorted(self.work.values(), key=lambda w: w.pk)
                if w.customer_id == customer_id and w.organization_id == organization and w.invoiced_by is None
                and (work_ids is None or w.pk in work_ids)
            ]  # fmt: skip

        return answer()

    @hookimpl
    def work_invoiced(self, context: Any, work: Sequence[BillableWork], document_id: str) -> Any:
        async def mark() -> None:
            self.sessions.append(await context.session())
            if self.refuse_marking:
                raise UserErrors.conflict("An intervention changed meanwhile.", "input", "workIds")
            for item in work:
                self.work[item.pk].invoiced_by = document_id

        return mark()

"""Demo data of billing: billing information, quotes in every state, invoices (paid, partly
paid, overdue, credited) with their credit notes, and orders for demo customers. Numbers
follow the real rule: one series per kind and year, in the order of the issue dates.

Reads ``demo.shared["customer_ids"]`` (left by the customers plugin); does nothing without it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.plugins.billing import models
from fiche.plugins.billing.documents import PREFIXES
from fiche.plugins.billing.lines import LineDraft
from fiche.plugins.billing.money import compute_totals

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.demo import DemoContext

__all__ = ["seed_demo"]

Kind, Status = models.DocumentKind, models.DocumentStatus
CATALOGUE = (
    ("Entretien annuel chaudière gaz", "pce", Decimal("149.00"), Decimal("10")),
    ("Main d'œuvre technicien", "h", Decimal("58.50"), Decimal("10")),
    ("Remplacement thermostat connecté", "pce", Decimal("219.90"), Decimal("5.5")),
    ("Déplacement", "pce", Decimal("35.00"), Decimal("20")),
    ("Contrat de maintenance (an)", "pce", Decimal("420.00"), Decimal("20")),
    ("Filtre à particules", "pce", Decimal("12.35"), Decimal("20")),
)
SELLER = {
    "billing.seller.legal_name": "Fiche Démo SAS",
    "billing.seller.siren": "303265045",
    "billing.seller.vat_number": "FR40303265045",
    "billing.seller.address_line1": "10 rue de la République",
    "billing.seller.postal_code": "69001",
    "billing.seller.city": "Lyon",
}
PLANS = ("draft_quote", "sent_quote", "accepted_quote", "refused_quote", "paid", "partly_paid", "overdue", "credited")


async def _document(session: AsyncSession, customer_id: int, kind: models.DocumentKind, drafts: list[LineDraft], day: dt.date, author: int | None, **values: object) -> models.BillingDocument:
    totals = compute_totals((draft.amounts for draft in drafts), 2)
    document = models.BillingDocument(
        customer_id=customer_id, kind=kind, title=drafts[0].description, currency="EUR", date=day, created_by_id=author,
        net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross, **values,
    )  # fmt: skip
    session.add(document)
    await session.flush()
    for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
        session.add(models.BillingLine(
            document_id=document.id, position=position, description=draft.description, quantity=draft.quantity, unit=draft.unit,
            unit_price=draft.unit_price, vat_rate=draft.vat_rate, discount=draft.discount, net_amount=net,
        ))  # fmt: skip
    return document


async def seed_demo(demo: DemoContext) -> None:
    customer_ids: list[int] = list(demo.shared.get("customer_ids", []))
    if not customer_ids:
        return
    session, rng = demo.session, demo.rng
    for setting, value in SELLER.items():
        session.add(accounts.OrganizationSetting(key=setting, value=value))
    author = next((user.id for user in demo.users if user.role.name in ("ADMIN", "MANAGER")), None)
    today = utcnow().date()
    issued: list[models.BillingDocument] = []
    for index, customer_id in enumerate(customer_ids):
        session.add(models.BillingProfile(customer_id=customer_id, address_line1="1 place Bellecour", postal_code="69002", city="Lyon", country="FR"))
        for plan in rng.sample(PLANS, k=3):
            drafts = [
                LineDraft(name, Decimal(rng.choice([1, 1, 2, 3])), unit, price, rate, Decimal(rng.choice([0, 0, 5])))
                for name, unit, price, rate in rng.sample(CATALOGUE, k=rng.randint(1, 4))
            ]
            day = today - dt.timedelta(days=rng.randint(10, 120))
            if plan == "draft_quote":
                await _document(session, customer_id, Kind.QUOTE, drafts, today, author, status=Status.DRAFT)
                continue
            kind = Kind.QUOTE if plan.endswith("quote") else Kind.INVOICE
            status = {"accepted_quote": Status.ACCEPTED, "refused_quote": Status.REFUSED, "paid": Status.PAID, "credited": Status.CANCELLED}.get(plan, Status.SENT)
            document = await _document(
                session, customer_id, kind, drafts, day, author, status=status, issue_date=day,
                due_date=day + dt.timedelta(days=30) if kind is Kind.INVOICE else None,
                valid_until=day + dt.timedelta(days=30) if kind is Kind.QUOTE else None,
            )  # fmt: skip
            issued.append(document)
            if plan in ("paid", "partly_paid"):
                amount = document.gross_total if plan == "paid" else (document.gross_total / 2).quantize(Decimal("0.01"))
                session.add(models.Payment(document_id=document.id, paid_on=min(day + dt.timedelta(days=8), today), amount=amount,
                                           method=models.PaymentMethod.BANK_TRANSFER, created_by_id=author))  # fmt: skip
                document.paid_total = amount
            if plan == "credited":
                credit_day = day + dt.timedelta(days=3)
                credit = await _document(session, customer_id, Kind.CREDIT_NOTE, drafts, credit_day, author, status=Status.SENT,
                                         issue_date=credit_day, source_id=document.id)  # fmt: skip
                document.credited_total = credit.gross_total
                issued.append(credit)
        if index % 3 == 0:
            drafts = [LineDraft(name, Decimal(2), unit, price, rate, Decimal(0)) for name, unit, price, rate in rng.sample(CATALOGUE, k=2)]
            totals = compute_totals((draft.amounts for draft in drafts), 2)
            sequence = index // 3 + 1
            order = models.Order(customer_id=customer_id, sequence=sequence, number=f"CMD-{sequence:05d}", ordered_on=today - dt.timedelta(days=rng.randint(0, 30)),
                                 status=rng.choice(list(models.OrderStatus)), net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross)  # fmt: skip
            session.add(order)
            await session.flush()
            for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
                session.add(models.OrderLine(order_id=order.id, position=position, description=draft.description, quantity=draft.quantity,
                                             unit=draft.unit, unit_price=draft.unit_price, vat_rate=draft.vat_rate, net_amount=net))  # fmt: skip
    # Numbers in the order of the issue dates, one series per kind and year, as issuing gives them.
    counters: dict[tuple[models.DocumentKind, int], int] = {}
    for document in sorted(issued, key=lambda d: (d.issue_date or today, d.id)):
        assert document.issue_date is not None
        key = (document.kind, document.issue_date.year)
        counters[key] = counters.get(key, 0) + 1
        document.year, document.sequence = key[1], counters[key]
        document.number = f"{PREFIXES[document.kind]}-{key[1]}-{counters[key]:04d}"
        document.issued_at = dt.datetime.combine(document.issue_date, dt.time(9, 0), tzinfo=dt.UTC)
    await session.flush()

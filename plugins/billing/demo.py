"""Demo data of billing: billing information, quotes in every state, invoices (paid, partly
paid, overdue) and a credit note for some demo customers, numbered like real ones.

Reads ``demo.shared["customer_ids"]`` (left by the customers plugin); does nothing without it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from fiche.db import utcnow
from fiche.plugins.billing import models
from fiche.plugins.billing.lines import LineDraft
from fiche.plugins.billing.money import compute_totals

if TYPE_CHECKING:
    from fiche.demo import DemoContext

__all__ = ["seed_demo"]

CATALOGUE = (
    ("Entretien annuel chaudière gaz", "pce", Decimal("149.00"), Decimal("10")),
    ("Main d'œuvre technicien", "h", Decimal("58.50"), Decimal("10")),
    ("Remplacement thermostat connecté", "pce", Decimal("219.90"), Decimal("5.5")),
    ("Déplacement", "pce", Decimal("35.00"), Decimal("20")),
    ("Contrat de maintenance (an)", "pce", Decimal("420.00"), Decimal("20")),
    ("Filtre à particules", "pce", Decimal("12.35"), Decimal("20")),
)


async def seed_demo(demo: DemoContext) -> None:
    customer_ids: list[int] = list(demo.shared.get("customer_ids", []))[: max(1, demo.size // 2)]
    if not customer_ids:
        return
    session, rng = demo.session, demo.rng
    author = next((user.id for user in demo.users if user.role.name in ("ADMIN", "MANAGER")), None)
    today = utcnow().date()
    counters = {kind: 0 for kind in models.DocumentKind}
    prefixes = {models.DocumentKind.QUOTE: "DEV", models.DocumentKind.INVOICE: "FAC", models.DocumentKind.CREDIT_NOTE: "AV"}
    for customer_id in customer_ids:
        session.add(models.BillingProfile(customer_id=customer_id, city="Lyon", postal_code="69002", address_line1="1 place Bellecour", country="FR"))
        for plan in rng.sample(["draft_quote", "sent_quote", "accepted_quote", "paid", "partly_paid", "overdue", "credited"], k=3):
            kind = models.DocumentKind.QUOTE if plan.endswith("quote") else models.DocumentKind.INVOICE
            drafts = [
                LineDraft(name, Decimal(rng.choice([1, 1, 2, 3])), unit, price, rate, Decimal(rng.choice([0, 0, 5])))
                for name, unit, price, rate in rng.sample(CATALOGUE, k=rng.randint(1, 4))
            ]
            totals = compute_totals((draft.amounts for draft in drafts), 2)
            issued = plan != "draft_quote"
            day = today - dt.timedelta(days=rng.randint(5, 120))
            document = models.BillingDocument(
                customer_id=customer_id, kind=kind, status=models.DocumentStatus.DRAFT, title=drafts[0].description,
                currency="EUR", date=day, net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross, created_by_id=author,
            )  # fmt: skip
            if issued:
                counters[kind] += 1
                document.sequence, document.year = counters[kind], today.year
                document.number = f"{prefixes[kind]}-{today.year}-{counters[kind]:04d}"
                document.issue_date, document.issued_at, document.status = day, utcnow() - dt.timedelta(days=(today - day).days), models.DocumentStatus.SENT
                if kind is models.DocumentKind.INVOICE:
                    document.due_date = day + dt.timedelta(days=30)
            if plan == "accepted_quote":
                document.status = models.DocumentStatus.ACCEPTED
            session.add(document)
            await session.flush()
            for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
                session.add(models.BillingLine(
                    document_id=document.id, position=position, description=draft.description, quantity=draft.quantity, unit=draft.unit,
                    unit_price=draft.unit_price, vat_rate=draft.vat_rate, discount=draft.discount, net_amount=net,
                ))  # fmt: skip
            if plan in ("paid", "partly_paid"):
                amount = totals.gross if plan == "paid" else (totals.gross / 2).quantize(Decimal("0.01"))
                session.add(models.Payment(document_id=document.id, paid_on=day + dt.timedelta(days=10), amount=amount, method=models.PaymentMethod.BANK_TRANSFER, created_by_id=author))
                document.paid_total = amount
                if plan == "paid":
                    document.status = models.DocumentStatus.PAID
            if plan == "credited":
                counters[models.DocumentKind.CREDIT_NOTE] += 1
                sequence = counters[models.DocumentKind.CREDIT_NOTE]
                credit = models.BillingDocument(
                    customer_id=customer_id, kind=models.DocumentKind.CREDIT_NOTE, status=models.DocumentStatus.SENT,
                    number=f"AV-{today.year}-{sequence:04d}", sequence=sequence, year=today.year, title=f"Avoir sur {document.number}",
                    currency="EUR", date=day, issue_date=day, issued_at=document.issued_at, source_id=document.id,
                    net_total=totals.net, tax_total=totals.tax, gross_total=totals.gross, created_by_id=author,
                )  # fmt: skip
                session.add(credit)
                await session.flush()
                for position, (draft, net) in enumerate(zip(drafts, totals.lines, strict=True)):
                    session.add(models.BillingLine(
                        document_id=credit.id, position=position, description=draft.description, quantity=draft.quantity, unit=draft.unit,
                        unit_price=draft.unit_price, vat_rate=draft.vat_rate, discount=draft.discount, net_amount=net,
                    ))  # fmt: skip
                document.credited_total = totals.gross
                document.status = models.DocumentStatus.CANCELLED
    await session.flush()

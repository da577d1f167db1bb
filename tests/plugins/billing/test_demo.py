"""Demo data of billing: documents in every state, numbered like real ones, readable as a demo user."""

from __future__ import annotations

import re
from collections import defaultdict

import strawberry
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.auth import Identity, load_viewer
from fiche.context import AppState, ConnectionContext
from fiche.demo import create_demo
from fiche.plugins.billing import models

DEMO_VIEW = """
{ customers(first: 50) { nodes { billingInformation { city } orders { nodes { number } }
  billingDocuments(first: 20) { nodes { kind status number issueDate total balanceDue isOverdue isPartiallyPaid } } } } }
"""


async def test_hook_seed_demo_adds_quotes_invoices_credit_notes_payments_and_orders(state: AppState, schema: strawberry.Schema) -> None:
    # given
    result = await create_demo(state.settings, state.db, state.pm, size=12, seed=5)
    async with state.db.reader(result.organization_id) as session:
        camille = await session.scalar(select(accounts.User.id).where(accounts.User.handle == "camille"))
    viewer = await load_viewer(state.db, Identity(user_id=camille, organization_id=result.organization_id))
    # when
    answer = await schema.execute(DEMO_VIEW, context_value=ConnectionContext(state, viewer=viewer))
    # then
    assert answer.errors is None, answer.errors
    customers = answer.data["customers"]["nodes"]
    documents = [d for c in customers for d in c["billingDocuments"]["nodes"]]
    assert {d["kind"] for d in documents} == {"QUOTE", "INVOICE", "CREDIT_NOTE"}
    assert {"DRAFT", "SENT", "PAID"} <= {d["status"] for d in documents}
    assert any(d["isOverdue"] for d in documents) and any(d["isPartiallyPaid"] for d in documents)
    assert any(c["orders"]["nodes"] for c in customers) and any(c["billingInformation"] for c in customers)
    # numbers: no gap, per kind and year, in the order of the issue dates
    async with state.db.reader(result.organization_id) as session:
        rows = (await session.execute(select(models.BillingDocument.number, models.BillingDocument.issue_date).where(models.BillingDocument.number.is_not(None)))).all()
    series: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for number, issue_date in rows:
        prefix, year, sequence = re.fullmatch(r"(DEV|FAC|AV)-(\d{4})-(\d{4})", number).groups()  # type: ignore[union-attr]
        assert issue_date.year == int(year)
        series[f"{prefix}-{year}"].append((issue_date.isoformat(), int(sequence)))
    for entries in series.values():
        ordered = sorted(entries, key=lambda entry: entry[1])
        assert [sequence for _, sequence in ordered] == list(range(1, len(ordered) + 1))
        assert [day for day, _ in ordered] == sorted(day for day, _ in ordered)

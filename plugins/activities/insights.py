"""Customer insights (A6): ``Customer.insights`` and ``Activity.insights``.

The facts of every customer asked for in an operation are gathered together, in a constant
number of statements (a loader): a year of activities and the planned ones, a year of
reports with their questions, the notes and open tasks the VIEWER may read (``customer_notes``,
answered by the notes plugin), sales (``customer_sales``, answered by billing). Each
customer's facts then go to the provider (``customer_insights``, chosen by
``FICHE_AI_PROVIDER``), which sees nothing else: a note hidden from the viewer cannot be
quoted because it is never in the facts.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import strawberry
from aiodataloader import DataLoader
from sqlalchemy import func, select

from fiche.accounts import models as accounts
from fiche.cost import list_size
from fiche.db import utcnow
from fiche.directory import customer_locations
from fiche.execution import batched
from fiche.interop import ActivityFact, CustomerFacts, Insights, NoteDigest, ReportFact, SalesSummary
from fiche.relay import Node, encode_id
from fiche.plugins.activities import models
from fiche.plugins.activities.common import answers, concurrently
from fiche.plugins.activities.services.providers import MAX_ITEMS
from fiche.plugins.activities.services.sanitise import plain_text

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["CustomerInsights", "InsightsByCustomerLoader", "customer_insights_field", "gather_facts"]

HISTORY = dt.timedelta(days=365)
# The most items of one kind a provider may answer (the built-in ones stay within it).
MAX_INSIGHT_ITEMS = MAX_ITEMS
# Per customer: enough for a year of a busy account, bounded for one statement per kind.
MAX_ACTIVITIES = 300
MAX_REPORTS = 150
MAX_NOTES = 200


@strawberry.type(name="InsightItem", description="One finding of customer insights, linked to the note, task, report or activity it comes from.")
class InsightEntry:
    text: str = strawberry.field(description="The finding, ready to display.")
    category: str | None = strawberry.field(description="A short label: `delivery`, `payment`, `quality`, `overdue task`, `trend`, `last contact`, `sales`...")
    occurred_at: dt.datetime | None = strawberry.field(description="When what it comes from happened, if it is one thing.")
    source_id: strawberry.ID | None = strawberry.field(description="Global ID of its source (a `Note`, `Report` or `Activity`); null for figures of another plugin.")

    @strawberry.field(description="Its source, when you may see it.")
    async def source(self, info: strawberry.Info) -> Node | None:
        return None if self.source_id is None else await info.context.load_node(self.source_id)


@strawberry.type(description="What to know before a visit (A6): key issues, pending topics and an analysis, drawn only from what you may read.")
class CustomerInsights:
    key_issues: list[InsightEntry] = strawberry.field(metadata=list_size(MAX_INSIGHT_ITEMS), description="Problems and concerns raised in recent notes and reports, newest first.")
    pending_topics: list[InsightEntry] = strawberry.field(metadata=list_size(MAX_INSIGHT_ITEMS), description="Overdue and open tasks, follow-up dates that passed without an activity, mentions nobody answered.")
    analysis: list[InsightEntry] = strawberry.field(metadata=list_size(MAX_INSIGHT_ITEMS), description="A few sentences: activity trend, last contact, next planned activity, satisfaction, sales.")
    provider: str = strawberry.field(description="What wrote them: `offline` (in-process), `openai:<model>`, or `offline` with the reason of a fallback.")
    generated_at: dt.datetime = strawberry.field(description="When they were computed.")


def _entries(items: Sequence[Any]) -> list[InsightEntry]:
    return [
        InsightEntry(text=item.text, category=item.category, occurred_at=item.occurred_at, source_id=strawberry.ID(item.source_id) if item.source_id else None)
        for item in items
    ]


def _graphql(insights: Insights, now: dt.datetime) -> CustomerInsights:
    return CustomerInsights(
        key_issues=_entries(insights.key_issues), pending_topics=_entries(insights.pending_topics), analysis=_entries(insights.analysis),
        provider=insights.provider, generated_at=now,
    )  # fmt: skip


def _ranked(stmt: Any, partition: Any, order: Sequence[Any], limit: int) -> Any:
    rank = func.row_number().over(partition_by=partition, order_by=list(order)).label("_rank")
    ranked = stmt.add_columns(rank).subquery("ranked")
    return select(ranked).where(ranked.c._rank <= limit)


async def gather_facts(context: OperationContext, customer_ids: Sequence[int]) -> dict[int, CustomerFacts]:
    """Every customer's facts as the viewer may read them, in a constant number of statements."""
    now = utcnow()
    since = now - HISTORY
    A, T, R, F, FF, U = models.Activity, models.ActivityType, models.Report, models.ReportForm, models.ReportFormField, accounts.User
    ids = sorted(set(customer_ids))
    activity_rows = _ranked(
        select(A.id, A.location_id, A.starts_at, A.description, T.name.label("type_name"), U.name.label("assignee_name"))
        .join(T, T.id == A.type_id).outerjoin(U, U.id == A.assignee_id)
        .where(A.location_id.in_(ids), A.starts_at >= since),
        A.location_id, (A.starts_at.desc(), A.id.desc()), MAX_ACTIVITIES,
    )  # fmt: skip
    report_rows = _ranked(
        select(R.id, R.activity_id, R.form_id, R.values, R.submitted_at, A.location_id, F.name.label("form_name"))
        .join(A, A.id == R.activity_id).join(F, F.id == R.form_id)
        .where(A.location_id.in_(ids), R.submitted_at >= since),
        A.location_id, (R.submitted_at.desc(), R.id.desc()), MAX_REPORTS,
    )  # fmt: skip

    async def own_rows() -> tuple[Any, Any, Any, Any]:
        async with context.read() as session:
            activities = (await session.execute(activity_rows.order_by("location_id", "_rank"))).all()
            reports = (await session.execute(report_rows.order_by("location_id", "_rank"))).all()
            form_ids = sorted({row.form_id for row in reports})
            fields = (await session.execute(select(FF.form_id, FF.key, FF.label, FF.type).where(FF.form_id.in_(form_ids)).order_by(FF.form_id, FF.position))).all() if form_ids else []
            locations = await customer_locations(context.pm, session, ids)
        return activities, reports, fields, locations

    async def readable_notes() -> tuple[dict[int, Sequence[NoteDigest]], dict[int, str]]:
        # An activity's notes (N8) are notes about its customer.
        subjects = {"Activity": select(A.id, A.location_id).where(A.location_id.in_(ids))}
        asked = context.pm.hook.customer_notes(context=context, customer_ids=ids, since=since, limit=MAX_NOTES, subjects=subjects)
        found: dict[int, Sequence[NoteDigest]] = (await answers([asked]))[0] or {}
        people = sorted({user for digests in found.values() for note in digests for user in (note.author_id, note.assignee_id, *note.unanswered_mentions) if user is not None})
        if not people:
            return found, {}
        async with context.read() as session:
            return found, {row.id: row.name for row in await session.execute(select(U.id, U.name).where(U.id.in_(people)))}

    async def sales_of() -> dict[int, SalesSummary]:
        return dict((await answers([context.pm.hook.customer_sales(context=context, customer_ids=ids)]))[0] or {})

    # Three independent reads, each on its own connection: their round trips overlap.
    (activities, reports, fields, locations), (notes, names), sales = await asyncio.gather(own_rows(), readable_notes(), sales_of())
    form_fields: dict[int, list[Any]] = {}
    for row in fields:
        form_fields.setdefault(row.form_id, []).append(row)
    by_customer_activities: dict[int, list[ActivityFact]] = {}
    for row in activities:
        by_customer_activities.setdefault(row.location_id, []).append(
            ActivityFact(global_id=encode_id("Activity", row.id), type_name=row.type_name, starts_at=row.starts_at, assignee_name=row.assignee_name, description=plain_text(row.description))
        )
    by_customer_reports: dict[int, list[ReportFact]] = {}
    for row in reports:
        values = row.values or {}
        answered = tuple((field.label, field.type.name, values[field.key]) for field in form_fields.get(row.form_id, ()) if field.key in values)
        by_customer_reports.setdefault(row.location_id, []).append(
            ReportFact(global_id=encode_id("Report", row.id), activity_id=encode_id("Activity", row.activity_id), form_name=row.form_name, submitted_at=row.submitted_at, answers=answered)
        )
    facts = {}
    for customer_id in ids:
        location = locations.get(customer_id)
        facts[customer_id] = CustomerFacts(
            customer_id=customer_id, customer_name=location.display_name if location is not None else "", now=now,
            activities=tuple(by_customer_activities.get(customer_id, ())), reports=tuple(by_customer_reports.get(customer_id, ())),
            notes=tuple(notes.get(customer_id, ())), sales=sales.get(customer_id), user_names=names,
        )  # fmt: skip
    return facts


class InsightsByCustomerLoader(DataLoader[int, CustomerInsights]):
    """Insights of customers by primary key, the facts of a batch gathered together."""

    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[int]) -> list[CustomerInsights]:
        facts = await gather_facts(self.context, keys)
        ordered = sorted(facts)
        results = await concurrently([self.context.pm.hook.customer_insights(context=self.context, facts=facts[key]) for key in ordered])
        written = {key: _graphql(insights, facts[key].now) for key, insights in zip(ordered, results, strict=True)}
        return [written[key] for key in keys]


class HasPk(Protocol):
    pk: int


@batched
async def resolve_customer_insights(roots: Sequence[HasPk], info: strawberry.Info) -> list[CustomerInsights]:
    context: OperationContext = info.context
    context.require_viewer()
    return list(await context.loaders["insights_by_customer"].load_many([root.pk for root in roots]))


customer_insights_field = strawberry.field(
    resolver=resolve_customer_insights,
    name="insights",
    description="Insights before a visit (A6): key issues, pending topics and an analysis of the last year, each linked to its source; drawn only from what you may read.",
)





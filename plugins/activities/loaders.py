"""Per-operation loaders of activities and what hangs on them: one statement per batch."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import select

from fiche.db import in_keys
from fiche.directory import customer_branches
from fiche.relay import Connection, SortKey, keyed_rows, merge_pages, paginate_grouped, rows_by_id
from fiche.plugins.activities import models
from fiche.plugins.activities.services.forms import FieldSpec
from fiche.plugins.activities.reads import (
    ActivityBuilder,
    ATTACHMENT_COLUMNS,
    CHECK_COLUMNS,
    FIELD_COLUMNS,
    FORM_COLUMNS,
    LEAN_REPORT_COLUMNS,
    REPORT_COLUMNS,
    TYPE_COLUMNS,
    activity_from_row,
    activity_select,
    attachment_from_row,
    check_from_row,
    field_from_row,
    form_from_row,
    lean_report_from_row,
    report_from_row,
    type_from_row,
)
from fiche.plugins.activities.types import Activity, LocationCheck, ReportForm, ReportFormField

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "ActivitiesByCustomerLoader",
    "ActivitiesByIdLoader",
    "ActivityQuery",
    "ActivityTypesByIdLoader",
    "AttachmentsByActivityLoader",
    "CustomerActivitiesKey",
    "LatestCheckByActivityLoader",
    "ReportFieldsByFormLoader",
    "ReportFormsByIdLoader",
    "ReportFormsByTypeLoader",
    "ReportsByActivityLoader",
    "ReportsByIdLoader",
    "make_loaders",
    "spec_from_field",
]

A = models.Activity
NEWEST_FIRST = (SortKey(A.starts_at, descending=True), SortKey(A.id, descending=True))


class _Loader(DataLoader[Any, Any]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context


class _ById(_Loader):
    """Objects by primary key (None when missing or of another organisation)."""

    columns: tuple[Any, ...] = ()
    build: Any = None

    def statement(self) -> Any:
        return select(*self.columns)

    async def batch_load_fn(self, keys: list[int]) -> list[Any]:
        async with self.context.read() as session:
            return await rows_by_id(session, self.statement(), self.columns[0], keys, type(self).build)


class ActivitiesByIdLoader(_ById):
    columns = (A.id,)
    build = staticmethod(activity_from_row)

    def statement(self) -> Any:
        return activity_select()


class ActivityTypesByIdLoader(_ById):
    columns = TYPE_COLUMNS
    build = staticmethod(type_from_row)


class ReportFormsByIdLoader(_ById):
    columns = FORM_COLUMNS
    build = staticmethod(form_from_row)


class ReportsByIdLoader(_ById):
    columns = REPORT_COLUMNS
    build = staticmethod(report_from_row)


class _Grouped(_Loader):
    """Lists by a parent key, in the order of ``order``."""

    columns: tuple[Any, ...] = ()
    parent: Any = None
    order: tuple[Any, ...] = ()
    build: Any = None

    async def batch_load_fn(self, keys: list[int]) -> list[list[Any]]:
        parent = type(self).parent  # a class attribute: an instrumented column is a descriptor
        async with self.context.read() as session:
            stmt = select(*self.columns).where(in_keys(session, parent, keys)).order_by(*self.order)
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            grouped[getattr(row, parent.key)].append(type(self).build(row))
        return [grouped.get(key, []) for key in keys]


class ReportsByActivityLoader(_Grouped):
    columns = REPORT_COLUMNS
    parent = models.Report.activity_id
    order = (models.Report.submitted_at, models.Report.id)
    build = staticmethod(report_from_row)


class AttachmentsByActivityLoader(_Grouped):
    columns = ATTACHMENT_COLUMNS
    parent = models.ActivityAttachment.activity_id
    order = (models.ActivityAttachment.created_at, models.ActivityAttachment.id)
    build = staticmethod(attachment_from_row)


class ReportFieldsByFormLoader(_Grouped):
    columns = FIELD_COLUMNS
    parent = models.ReportFormField.form_id
    order = (models.ReportFormField.position, models.ReportFormField.id)
    build = staticmethod(field_from_row)


class ReportFormsByTypeLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[list[ReportForm]]:
        link = models.ActivityTypeForm
        stmt = (
            select(link.type_id, *FORM_COLUMNS)
            .join(models.ReportForm, models.ReportForm.id == link.form_id)
            .order_by(link.type_id, link.position, link.id)
        )
        async with self.context.read() as session:
            stmt = stmt.where(in_keys(session, link.type_id, keys))
            rows = (await session.execute(stmt)).all()
        grouped: dict[int, list[ReportForm]] = defaultdict(list)
        for row in rows:
            grouped[row.type_id].append(form_from_row(row))
        return [grouped.get(key, []) for key in keys]


class LatestCheckByActivityLoader(_Loader):
    async def batch_load_fn(self, keys: list[int]) -> list[LocationCheck | None]:
        check = models.LocationCheck
        async with self.context.read() as session:
            stmt = select(*CHECK_COLUMNS).where(in_keys(session, check.activity_id, keys)).order_by(check.activity_id, check.checked_at, check.id)
            rows = (await session.execute(stmt)).all()
        latest = {row.activity_id: check_from_row(row) for row in rows}  # the last row per activity wins
        return [latest.get(key) for key in keys]


@dataclasses.dataclass(frozen=True, slots=True)
class ActivityQuery:
    """The filters of ``Customer.activities``, hashable so that equal ones batch together."""

    date_from: dt.datetime | None = None
    date_to: dt.datetime | None = None
    type_ids: frozenset[int] | None = None
    team_id: int | None = None
    include_branches: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class CustomerActivitiesKey:
    customer_pk: int
    first: int
    after: str | None
    query: ActivityQuery
    with_reports: bool = False  # the query selects `reports`: fetch them with the page
    with_report_values: bool = False  # ... and their `values` (else the JSON column is not read)
    lean: bool = False  # the query reads no more of the activities than reads.LEAN_SELECTION allows


def _merge(pages: list[Connection[Activity]], first: int, has_previous: bool) -> Connection[Activity]:
    """One page from the pages of several locations (a customer and its branches)."""
    return merge_pages(pages, first, has_previous, lambda edge: (edge.node.starts_at, edge.node.pk))


class ActivitiesByCustomerLoader(_Loader):
    """Pages of ``Customer.activities`` for many customers: one statement per batch (two
    with branches), newest first. With branches, each location's page is fetched with
    the same cursor and the pages are merged per customer."""

    async def batch_load_fn(self, keys: list[CustomerActivitiesKey]) -> list[Connection[Activity]]:
        groups: dict[tuple[int, str | None, ActivityQuery], list[CustomerActivitiesKey]] = defaultdict(list)
        for key in keys:
            groups[(key.first, key.after, key.query)].append(key)
        pages: dict[CustomerActivitiesKey, Connection[Activity]] = {}
        with_reports: dict[bool, list[Activity]] = defaultdict(list)
        async with self.context.read() as session:
            for (first, after, query), members in groups.items():
                roots = sorted({key.customer_pk for key in members})
                scopes = {root: [root] for root in roots}
                if query.include_branches:
                    branches = await customer_branches(self.context.pm, session, roots)
                    for root in roots:
                        scopes[root].extend(branches.get(root, ()))
                locations = sorted({location for scope in scopes.values() for location in scope})
                # Reports read with the page give `has_reports` too (see _attach_reports).
                lean = all(key.lean for key in members)
                stmt = activity_select(has_reports=not all(key.with_reports for key in members), lean=lean)
                if query.date_from is not None:
                    stmt = stmt.where(A.starts_at >= query.date_from)
                if query.date_to is not None:
                    stmt = stmt.where(A.starts_at < query.date_to)
                if query.type_ids is not None:
                    stmt = stmt.where(A.type_id.in_(sorted(query.type_ids)))
                if query.team_id is not None:
                    stmt = stmt.where(A.team_id == query.team_id)
                by_location = await paginate_grouped(
                    session, stmt, A.location_id, locations, NEWEST_FIRST, first=first, after=after, build=ActivityBuilder(lean=lean)
                )
                for key in members:
                    scope = scopes[key.customer_pk]
                    pages[key] = by_location[scope[0]] if len(scope) == 1 else _merge([by_location[loc] for loc in scope], first, after is not None)
                    if key.with_reports:
                        with_reports[key.with_report_values].extend(edge.node for edge in pages[key].edges)
            for with_values, activities in with_reports.items():
                await _attach_reports(session, activities, with_values)
        return [pages[key] for key in keys]


async def _attach_reports(session: Any, activities: list[Activity], with_values: bool) -> None:
    """Every report of these activities in one statement, set on each as a plain list
    (and ``has_reports`` from it); without their ``values`` unless the query selects them."""
    report = models.Report
    pks = sorted({activity.pk for activity in activities})
    columns, build = (REPORT_COLUMNS, report_from_row) if with_values else (LEAN_REPORT_COLUMNS, lean_report_from_row)
    # Kept per column list (lean execution, the activities one bound parameter).
    rows = await keyed_rows(
        session,
        report.activity_id,
        pks,
        lambda in_activities: select(*columns).where(in_activities).order_by(report.submitted_at, report.id),
        shape=("activities.attach_reports", with_values),
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row[1]].append(build(row))  # activity_id, second of both column lists
    for activity in activities:
        reports = activity.prefetched_reports = grouped.get(activity.pk, [])
        activity.has_reports = bool(reports)


def spec_from_field(field: ReportFormField) -> FieldSpec:
    return FieldSpec(
        key=field.key,
        label=field.label,
        type=field.type,
        required=field.required,
        min_value=field.min_value,
        max_value=field.max_value,
        min_length=field.min_length,
        max_length=field.max_length,
        pattern=field.pattern,
        choices=tuple(field.choices),
    )


def make_loaders(context: OperationContext) -> dict[str, DataLoader[Any, Any]]:
    return {
        "activities_by_customer": ActivitiesByCustomerLoader(context),
        "activities_by_id": ActivitiesByIdLoader(context),
        "activity_types_by_id": ActivityTypesByIdLoader(context),
        "report_forms_by_id": ReportFormsByIdLoader(context),
        "report_forms_by_type": ReportFormsByTypeLoader(context),
        "report_fields_by_form": ReportFieldsByFormLoader(context),
        "reports_by_activity": ReportsByActivityLoader(context),
        "reports_by_id": ReportsByIdLoader(context),
        "attachments_by_activity": AttachmentsByActivityLoader(context),
        "latest_check_by_activity": LatestCheckByActivityLoader(context),
    }

"""Submitting reports on activities (A4)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import func, select
from strawberry.scalars import JSON

from fiche.cost import ensure_room
from fiche.db import utcnow
from fiche.errors import UserError, UserErrors
from fiche.org_settings import get_setting
from fiche.plugins.activities import models
from fiche.plugins.activities.common import decode, fetch_activity, get_row
from fiche.plugins.activities.loaders import spec_from_field
from fiche.plugins.activities.services.access import check_can_edit
from fiche.plugins.activities.services.bounds import MAX_REPORTS_PER_ACTIVITY
from fiche.plugins.activities.services.forms import validate_values
from fiche.plugins.activities.services.reporting import check_report_time
from fiche.plugins.activities.services.settings import REPORT_TIME_LIMIT
from fiche.plugins.activities.reads import FIELD_COLUMNS, field_from_row
from fiche.plugins.activities.types import Activity, Report

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["ReportMutations"]


@strawberry.input(description="A report on an activity: one of its type's forms, filled in.")
class ReportSubmitInput:
    activity_id: strawberry.ID = strawberry.field(description="The activity reported on (it must have started).")
    form_id: strawberry.ID = strawberry.field(description="One of the forms linked to the activity's type.")
    values: JSON = strawberry.field(description="The answers: an object of field keys to values (text, number, boolean, choice, `YYYY-MM-DD` date, rating 1-5).")


@strawberry.type(description="The outcome of `reportSubmit`; errors of a field have the path `[\"input\", \"values\", <key>]`.")
class ReportPayload:
    report: Report | None = strawberry.field(default=None, description="The report, when it was accepted.")
    activity: Activity | None = strawberry.field(default=None, description="The activity, with the report attached.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it was refused, if it was.")


@strawberry.type
class ReportMutations:
    @strawberry.mutation(
        description="Submit a report on an activity (its assignee, its creator, a manager or an admin). Refused when the type has no forms, before the activity starts, and after the organisation's time limit (`activities.report_time_limit_hours` after the end)."
    )
    async def report_submit(self, info: strawberry.Info, input: Annotated[ReportSubmitInput, strawberry.argument(description="The activity, the form and the answers.")]) -> ReportPayload:
        context: OperationContext = info.context

        async def change() -> ReportPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, input.activity_id, "Activity", "input", "activityId")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            form_pk = decode(input.form_id, "ReportForm", "input", "formId")
            link = models.ActivityTypeForm
            linked = set((await session.scalars(select(link.form_id).where(link.type_id == activity.type_id))).all())
            if not linked:
                raise UserErrors.conflict("This activity's type has no report forms: an admin must link one first.", "input", "activityId")
            if form_pk not in linked:
                raise UserErrors.invalid("This form is not one of the activity type's forms.", "input", "formId")
            form = await session.get(models.ReportForm, form_pk)
            if form is None or form.archived:
                raise UserErrors.invalid("This form is archived.", "input", "formId")
            now = utcnow()
            check_report_time(now, activity.starts_at, activity.ends_at, int(await get_setting(context, REPORT_TIME_LIMIT)), "input", "activityId")
            field_rows = (
                await session.execute(
                    select(*FIELD_COLUMNS).where(models.ReportFormField.form_id == form_pk).order_by(models.ReportFormField.position)
                )
            ).all()
            values = validate_values([spec_from_field(field_from_row(row)) for row in field_rows], input.values)
            await ensure_room(
                session,
                select(func.count()).select_from(models.Report).where(models.Report.activity_id == activity.id),
                MAX_REPORTS_PER_ACTIVITY,
                f"An activity takes at most {MAX_REPORTS_PER_ACTIVITY} reports.",
                "input",
                "activityId",
                lock=select(models.Activity.id).where(models.Activity.id == activity.id).with_for_update(),
            )
            report = models.Report(activity_id=activity.id, form_id=form_pk, values=values, submitted_at=now)
            session.add(report)
            await session.flush()
            return ReportPayload(
                report=Report(
                    pk=report.id,
                    activity_pk=activity.id,
                    form_pk=form_pk,
                    submitted_by_pk=report.created_by_id,
                    values=JSON(values),
                    submitted_at=now,
                ),
                activity=await fetch_activity(session, activity.id),
            )

        return await context.mutate(change, ReportPayload)

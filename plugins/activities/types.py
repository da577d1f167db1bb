"""GraphQL types of activities.

Scalars are plain attributes filled from selected columns (see :mod:`.reads`); only edges
that need the database (type, assignee, reports, ...) are async, each through a
per-operation loader.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from fiche.accounts.types import Team, User
from fiche.cost import list_size
from fiche.execution import batched
from fiche.relay import Node, encode_id
from fiche.plugins.activities.enums import FieldType, GpsStatus
from fiche.plugins.activities.services.access import can_edit
from fiche.plugins.activities.services.bounds import MAX_ATTACHMENTS_PER_ACTIVITY, MAX_FIELDS, MAX_FORMS_PER_TYPE, MAX_REPORTS_PER_ACTIVITY

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.plugins.activities.insights import CustomerInsights

__all__ = [
    "Activity",
    "ActivityAttachment",
    "ActivityType",
    "LocationCheck",
    "Report",
    "ReportForm",
    "ReportFormField",
]


@strawberry.type(description="One field of a report form, with its validation rules.")
class ReportFormField:
    key: str = strawberry.field(description="The key of the field's value in `Report.values`.")
    label: str = strawberry.field(description="The question shown to the user.")
    type: FieldType = strawberry.field(description="What kind of value the field takes.")
    required: bool = strawberry.field(description="Whether a report must answer this field.")
    min_value: float | None = strawberry.field(description="NUMBER: the smallest value accepted.")
    max_value: float | None = strawberry.field(description="NUMBER: the largest value accepted.")
    min_length: int | None = strawberry.field(description="TEXT: the fewest characters accepted.")
    max_length: int | None = strawberry.field(description="TEXT: the most characters accepted.")
    pattern: str | None = strawberry.field(description="TEXT: a regular expression the whole answer must match, in RE2 syntax (no backreferences or lookarounds; matched in linear time).")
    choices: list[str] = strawberry.field(description="CHOICE: the values to choose from.")


@strawberry.type(description="A structured form that reports on activities fill in (A4).")
class ReportForm(Node):
    name: str = strawberry.field(description="The form's name.")
    description: str | None = strawberry.field(description="When to use the form.")
    archived: bool = strawberry.field(description="Archived forms take no new reports.")

    @strawberry.field(description="The form's fields, in order.", metadata=list_size(MAX_FIELDS))
    async def fields(self, info: strawberry.Info) -> list[ReportFormField]:
        context: OperationContext = info.context
        return await context.loaders["report_fields_by_form"].load(self.pk)


@strawberry.type(description="A kind of activity (Visit, Meeting, ...): its look and its report forms (A1).")
class ActivityType(Node):
    code: str | None = strawberry.field(
        description="The stable code of a built-in type (`visit`, `planned_visit`, `inbound_call`, `outbound_call`, `meeting`, `email`, `sms`); null for custom types."
    )
    name: str = strawberry.field(description="The name shown on activities.")
    description: str | None = strawberry.field(description="When to use this type.")
    icon: str = strawberry.field(description="Name of the icon shown in timelines (e.g. `map-pin`).")
    colour: str = strawberry.field(description="Colour as `#RRGGBB`.")
    archived: bool = strawberry.field(description="Archived types cannot be used for new activities.")

    @strawberry.field(description="Whether the type is one of the seven built-in types (cannot be renamed or deleted).")
    def built_in(self) -> bool:
        return self.code is not None

    @strawberry.field(description="The report forms available to activities of this type, in order.", metadata=list_size(MAX_FORMS_PER_TYPE))
    async def forms(self, info: strawberry.Info) -> list[ReportForm]:
        context: OperationContext = info.context
        return await context.loaders["report_forms_by_type"].load(self.pk)


@strawberry.type(description="A GPS check-in sent for an activity (A5).")
class LocationCheck:
    checked_by_pk: strawberry.Private[int | None]
    latitude: float = strawberry.field(description="Latitude sent, in degrees.")
    longitude: float = strawberry.field(description="Longitude sent, in degrees.")
    accuracy: float = strawberry.field(description="Accuracy of the position reported by the device, in metres.")
    distance_meters: float = strawberry.field(description="Great-circle distance to the location's coordinates, in metres.")
    status: GpsStatus = strawberry.field(description="The outcome of this check.")
    checked_at: dt.datetime = strawberry.field(description="When the check was made.")

    @strawberry.field(description="Who sent the position.")
    async def checked_by(self, info: strawberry.Info) -> User | None:
        if self.checked_by_pk is None:
            return None
        return await info.context.loaders["users_by_id"].load(self.checked_by_pk)


@strawberry.type(description="A file attached to an activity.")
class ActivityAttachment(Node):
    uploaded_by_pk: strawberry.Private[int | None]
    filename: str = strawberry.field(description="The file's name as uploaded.")
    content_type: str = strawberry.field(description="MIME type.")
    size: int = strawberry.field(description="Size in bytes.")
    created_at: dt.datetime = strawberry.field(description="When it was uploaded.")

    @strawberry.field(description="Path of the authenticated download (`GET` with the bearer token).")
    def download_url(self) -> str:
        return f"/activities/attachments/{encode_id('ActivityAttachment', self.pk)}"

    @strawberry.field(description="Who uploaded it.")
    async def uploaded_by(self, info: strawberry.Info) -> User | None:
        if self.uploaded_by_pk is None:
            return None
        return await info.context.loaders["users_by_id"].load(self.uploaded_by_pk)


@strawberry.type(description="A submitted report on an activity.")
class Report(Node):
    activity_pk: strawberry.Private[int]
    form_pk: strawberry.Private[int]
    submitted_by_pk: strawberry.Private[int | None]
    values: JSON = strawberry.field(description="The answers, by field key, checked against the form.")
    submitted_at: dt.datetime = strawberry.field(description="When it was submitted.")

    @strawberry.field(description="The form the report fills in.")
    async def form(self, info: strawberry.Info) -> ReportForm:
        return await info.context.loaders["report_forms_by_id"].load(self.form_pk)

    @strawberry.field(description="Who submitted it.")
    async def submitted_by(self, info: strawberry.Info) -> User | None:
        if self.submitted_by_pk is None:
            return None
        return await info.context.loaders["users_by_id"].load(self.submitted_by_pk)

    @strawberry.field(description="The activity reported on.")
    async def activity(self, info: strawberry.Info) -> Activity:
        return await info.context.loaders["activities_by_id"].load(self.activity_pk)


@strawberry.type(description="A visit, call or meeting with a customer or branch (A2).")
class Activity(Node):
    type_pk: strawberry.Private[int]
    location_pk: strawberry.Private[int]
    assignee_pk: strawberry.Private[int | None]
    team_pk: strawberry.Private[int | None]
    contact_pk: strawberry.Private[int | None]
    created_by_pk: strawberry.Private[int | None]
    starts_at: dt.datetime = strawberry.field(description="When it starts.")
    ends_at: dt.datetime = strawberry.field(description="When it ends (never before the start).")
    description: str | None = strawberry.field(description="Notes on the activity: sanitised HTML (formatting, lists, links).")
    gps_status: GpsStatus = strawberry.field(description="GPS verification status.")
    has_reports: bool = strawberry.field(description="Whether at least one report is attached.")
    created_at: dt.datetime = strawberry.field(description="When it was recorded.")
    updated_at: dt.datetime = strawberry.field(description="When it was last changed.")
    type: ActivityType = strawberry.field(description="The activity's type (icon, colour, forms).")
    assignee: User | None = strawberry.field(description="The user in charge.")
    # Filled by Customer.activities when the query selects `reports` (one statement for the page).
    prefetched_reports: strawberry.Private[list[Report] | None] = None

    @strawberry.field(description="The customer or branch concerned (a `Customer`).")
    async def location(self, info: strawberry.Info) -> Node | None:
        return await info.context.load_node(encode_id("Customer", self.location_pk))

    @strawberry.field(description="The contact met or called (a `Contact` of the location).")
    async def contact(self, info: strawberry.Info) -> Node | None:
        if self.contact_pk is None:
            return None
        return await info.context.load_node(encode_id("Contact", self.contact_pk))

    @strawberry.field(description="The team the activity counts for.")
    async def team(self, info: strawberry.Info) -> Team | None:
        if self.team_pk is None:
            return None
        return await info.context.load_node(encode_id("Team", self.team_pk))

    @strawberry.field(description="Who recorded it.")
    async def created_by(self, info: strawberry.Info) -> User | None:
        if self.created_by_pk is None:
            return None
        return await info.context.loaders["users_by_id"].load(self.created_by_pk)

    @strawberry.field(description="Its reports, oldest first.", metadata=list_size(MAX_REPORTS_PER_ACTIVITY))
    @batched
    async def reports(activities: Sequence[Activity], info: strawberry.Info) -> list[list[Report]]:
        # Prefetched with the page when the query selects them; the loader otherwise.
        missing = [activity.pk for activity in activities if activity.prefetched_reports is None]
        loaded = iter(await info.context.loaders["reports_by_activity"].load_many(missing) if missing else ())
        return [next(loaded) if activity.prefetched_reports is None else activity.prefetched_reports for activity in activities]

    @strawberry.field(description="Its attached files, oldest first.", metadata=list_size(MAX_ATTACHMENTS_PER_ACTIVITY))
    async def attachments(self, info: strawberry.Info) -> list[ActivityAttachment]:
        return await info.context.loaders["attachments_by_activity"].load(self.pk)

    @strawberry.field(description="The latest GPS check-in, if any.")
    async def location_check(self, info: strawberry.Info) -> LocationCheck | None:
        return await info.context.loaders["latest_check_by_activity"].load(self.pk)

    @strawberry.field(description="Insights on the activity's customer before the visit (A6): the same as its `Customer.insights`.")
    @batched
    async def insights(
        activities: Sequence[Activity], info: strawberry.Info
    ) -> list[Annotated["CustomerInsights", strawberry.lazy("fiche.plugins.activities.insights")]]:
        context: OperationContext = info.context
        context.require_viewer()
        return list(await context.loaders["insights_by_customer"].load_many([activity.location_pk for activity in activities]))

    @strawberry.field(description="Whether you may edit or delete it (assignee, creator, manager or admin).")
    def can_edit(self, info: strawberry.Info) -> bool:
        viewer = info.context.require_viewer()
        return can_edit(viewer, assignee_id=self.assignee_pk, created_by_id=self.created_by_pk)

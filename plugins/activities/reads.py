"""Column lists and row builders of the read paths: select these columns, build the
Strawberry objects directly (no ORM instances, see DESIGN.md's performance rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, select

from fiche.accounts import models as accounts
from fiche.accounts.types import User
from fiche.relay import AnySelect, encode_id
from fiche.plugins.activities import models
from fiche.plugins.activities.types import Activity, ActivityAttachment, ActivityType, LocationCheck, Report, ReportForm, ReportFormField

__all__ = [
    "ACTIVITY_COLUMNS",
    "ATTACHMENT_COLUMNS",
    "CHECK_COLUMNS",
    "FIELD_COLUMNS",
    "FORM_COLUMNS",
    "LEAN_ACTIVITY_COLUMNS",
    "LEAN_REPORT_COLUMNS",
    "LEAN_SELECTION",
    "REPORT_COLUMNS",
    "TYPE_COLUMNS",
    "ActivityBuilder",
    "activity_from_row",
    "activity_select",
    "attachment_from_row",
    "check_from_row",
    "field_from_row",
    "form_from_row",
    "lean_report_from_row",
    "report_from_row",
    "type_from_row",
]

A, T, F, R, U = models.Activity, models.ActivityType, models.ReportForm, models.Report, accounts.User

HAS_REPORTS = select(R.id).where(R.activity_id == A.id).correlate(A).exists().label("has_reports")
# An activity row carries its type and its assignee (joined): they are plain attributes of
# the GraphQL object, not one loader call per activity (see :func:`activity_select`).
ACTIVITY_COLUMNS: tuple[Any, ...] = (
    A.id, A.type_id, A.location_id, A.assignee_id, A.team_id, A.contact_id, A.created_by_id,
    A.starts_at, A.ends_at, A.description, A.gps_status, A.created_at, A.updated_at, HAS_REPORTS,
    T.code.label("type_code"), T.name.label("type_name"), T.description.label("type_description"),
    T.icon.label("type_icon"), T.colour.label("type_colour"), T.archived.label("type_archived"),
    U.name.label("assignee_name"), U.handle.label("assignee_handle"), U.email.label("assignee_email"),
    U.role.label("assignee_role"), U.is_active.label("assignee_is_active"),
)  # fmt: skip


# In place of HAS_REPORTS when the caller reads every report of the page anyway and sets
# `has_reports` from them: the EXISTS costs PostgreSQL a scan of all the organisation's
# reports (a hashed subplan), about half of a page's execution time.
_REPORTS_READ_LATER = false().label("has_reports")
_LEAN_ACTIVITY_COLUMNS = tuple(_REPORTS_READ_LATER if column is HAS_REPORTS else column for column in ACTIVITY_COLUMNS)


def activity_select(*extra: Any, has_reports: bool = True, lean: bool = False) -> AnySelect:
    """Activities with their type and assignee columns (both tables get the tenant filter);
    ``has_reports=False`` reads `false` instead of whether reports exist (the caller sets
    ``Activity.has_reports`` from the reports it reads); ``lean=True`` reads only
    :data:`LEAN_ACTIVITY_COLUMNS` (build with ``ActivityBuilder(lean=True)``)."""
    columns = ACTIVITY_COLUMNS if has_reports else _LEAN_ACTIVITY_COLUMNS
    if lean:
        columns = tuple(_REPORTS_READ_LATER if column is HAS_REPORTS and not has_reports else column for column in LEAN_ACTIVITY_COLUMNS)
    return select(*columns, *extra).join(T, T.id == A.type_id).outerjoin(U, U.id == A.assignee_id)


def activity_from_row(row: Any) -> Activity:
    """An ``Activity`` with its type and assignee, from a row of :func:`activity_select`."""
    return ActivityBuilder()(row)


# The names of ACTIVITY_COLUMNS in order: a row of :func:`activity_select` is unpacked by
# position (a named attribute of a SQLAlchemy row costs ~0.3 µs; 25 of them per activity
# were most of building a page of 1,000), checked against the statement at import.
ACTIVITY_FIELDS = (
    "id", "type_id", "location_id", "assignee_id", "team_id", "contact_id", "created_by_id",
    "starts_at", "ends_at", "description", "gps_status", "created_at", "updated_at", "has_reports",
    "type_code", "type_name", "type_description", "type_icon", "type_colour", "type_archived",
    "assignee_name", "assignee_handle", "assignee_email", "assignee_role", "assignee_is_active",
)  # fmt: skip
if tuple(select(*ACTIVITY_COLUMNS).selected_columns.keys()) != ACTIVITY_FIELDS:  # pragma: no cover - a programming error
    raise RuntimeError("ACTIVITY_FIELDS must name ACTIVITY_COLUMNS in order")
_WIDTH = len(ACTIVITY_FIELDS)

# What a page of activities reads when its query selects no more of them than
# :data:`LEAN_SELECTION` allows (the heavy page): 11 columns instead of 25, no enum to
# convert. The attributes left unread are None (NOT_READ below): the selection proves no
# field reads them, and a non-null field that ever did would fail loudly.
LEAN_ACTIVITY_COLUMNS: tuple[Any, ...] = (
    A.id, A.type_id, A.location_id, A.assignee_id, A.starts_at, A.ends_at, HAS_REPORTS,
    T.name.label("type_name"), T.icon.label("type_icon"), T.colour.label("type_colour"), U.name.label("assignee_name"),
)  # fmt: skip
if tuple(select(*LEAN_ACTIVITY_COLUMNS).selected_columns.keys()) != (
    "id", "type_id", "location_id", "assignee_id", "starts_at", "ends_at", "has_reports", "type_name", "type_icon", "type_colour", "assignee_name"
):  # pragma: no cover - a programming error
    raise RuntimeError("ActivityBuilder unpacks LEAN_ACTIVITY_COLUMNS by position")
_LEAN_WIDTH = len(LEAN_ACTIVITY_COLUMNS)
# The GraphQL fields of an activity a lean page can answer, each with the fields of its
# object a lean row carries (None: whatever its selection, it needs no activity column
# beyond the lean ones). Anything else, a partner plugin's field included, reads them all.
LEAN_SELECTION: dict[str, frozenset[str] | None] = {
    "__typename": None,
    "id": None,
    "startsAt": None,
    "endsAt": None,
    "hasReports": None,
    "reports": None,
    "attachments": None,
    "locationCheck": None,
    "location": None,
    "insights": None,
    "type": frozenset({"__typename", "id", "name", "icon", "colour", "forms"}),
    "assignee": frozenset({"__typename", "id", "name", "teams"}),
}

_new = object.__new__


class ActivityBuilder:
    """Builds the activities of one statement, sharing one ``ActivityType`` and one
    ``User`` object per type and assignee: a page of 1,000 activities has a handful of
    each, and building (and encoding the ID of) the same type a thousand times is most
    of the cost of the page.

    The objects are made without their dataclass ``__init__`` (their attributes set in one
    dictionary, the ID encoded here): that call and ``Node.__post_init__`` were a third of
    building a page. ``lean=True`` reads rows of ``activity_select(lean=True)``."""

    __slots__ = ("lean", "types", "users")

    def __init__(self, lean: bool = False) -> None:
        self.types: dict[int, ActivityType] = {}
        self.users: dict[int, User] = {}
        self.lean = lean  # a flag, not a bound method kept on self: that would be a cycle

    def __call__(self, row: Any) -> Activity:
        return self._lean(row) if self.lean else self._full(row)

    def _type(self, pk: int, code: str | None, name: str, description: str | None, icon: str, colour: str, archived: bool | None) -> ActivityType:
        activity_type = self.types[pk] = _new(ActivityType)
        activity_type.__dict__ = {
            "pk": pk, "id": encode_id("ActivityType", pk), "code": code, "name": name, "description": description,
            "icon": icon, "colour": colour, "archived": archived,
        }  # fmt: skip
        return activity_type

    def _user(self, pk: int, name: str, handle: str | None, email: str | None, role: Any, is_active: bool | None) -> User:
        user = self.users[pk] = _new(User)
        user.__dict__ = {"pk": pk, "id": encode_id("User", pk), "name": name, "handle": handle, "email": email, "role": role, "is_active": is_active}
        return user

    def _full(self, row: Any) -> Activity:
        (
            pk, type_id, location_id, assignee_id, team_id, contact_id, created_by_id,
            starts_at, ends_at, description, gps_status, created_at, updated_at, has_reports,
            type_code, type_name, type_description, type_icon, type_colour, type_archived,
            assignee_name, assignee_handle, assignee_email, assignee_role, assignee_is_active,
        ) = row[:_WIDTH]  # fmt: skip
        activity_type = self.types.get(type_id) or self._type(type_id, type_code, type_name, type_description, type_icon, type_colour, type_archived)
        assignee = None
        if assignee_id is not None and assignee_name is not None:
            assignee = self.users.get(assignee_id) or self._user(
                assignee_id, assignee_name, assignee_handle, assignee_email, assignee_role, assignee_is_active
            )
        return _activity(
            pk, type_id, location_id, assignee_id, team_id, contact_id, created_by_id, starts_at, ends_at, description,
            gps_status, has_reports, created_at, updated_at, activity_type, assignee,
        )  # fmt: skip

    def _lean(self, row: Any) -> Activity:
        pk, type_id, location_id, assignee_id, starts_at, ends_at, has_reports, type_name, type_icon, type_colour, assignee_name = row[:_LEAN_WIDTH]
        activity_type = self.types.get(type_id) or self._type(type_id, NOT_READ, type_name, NOT_READ, type_icon, type_colour, NOT_READ)
        assignee = None
        if assignee_id is not None and assignee_name is not None:
            assignee = self.users.get(assignee_id) or self._user(assignee_id, assignee_name, NOT_READ, NOT_READ, NOT_READ, NOT_READ)
        return _activity(
            pk, type_id, location_id, assignee_id, NOT_READ, NOT_READ, NOT_READ, starts_at, ends_at, NOT_READ,
            NOT_READ, has_reports, NOT_READ, NOT_READ, activity_type, assignee,
        )  # fmt: skip


def _activity(  # noqa: PLR0913, PLR0917
    pk: int, type_id: int, location_id: int, assignee_id: int | None, team_id: Any, contact_id: Any, created_by_id: Any,
    starts_at: Any, ends_at: Any, description: Any, gps_status: Any, has_reports: Any, created_at: Any, updated_at: Any,
    activity_type: ActivityType, assignee: User | None,
) -> Activity:
    """An :class:`Activity` made without the dataclass ``__init__`` (one attribute dict)."""
    activity = _new(Activity)
    activity.__dict__ = {
        "pk": pk, "id": encode_id("Activity", pk), "type_pk": type_id, "location_pk": location_id, "assignee_pk": assignee_id,
        "team_pk": team_id, "contact_pk": contact_id, "created_by_pk": created_by_id, "starts_at": starts_at, "ends_at": ends_at,
        "description": description, "gps_status": gps_status, "has_reports": bool(has_reports), "created_at": created_at,
        "updated_at": updated_at, "type": activity_type, "assignee": assignee, "prefetched_reports": None,
    }  # fmt: skip
    return activity


TYPE_COLUMNS: tuple[Any, ...] = (T.id, T.code, T.name, T.description, T.icon, T.colour, T.archived)


def type_from_row(row: Any) -> ActivityType:
    return ActivityType(
        pk=row.id, code=row.code, name=row.name, description=row.description, icon=row.icon, colour=row.colour, archived=row.archived
    )


FORM_COLUMNS: tuple[Any, ...] = (F.id, F.name, F.description, F.archived)


def form_from_row(row: Any) -> ReportForm:
    return ReportForm(pk=row.id, name=row.name, description=row.description, archived=row.archived)


FF = models.ReportFormField
FIELD_COLUMNS: tuple[Any, ...] = (
    FF.form_id, FF.key, FF.label, FF.type, FF.required, FF.min_value, FF.max_value,
    FF.min_length, FF.max_length, FF.pattern, FF.choices,
)  # fmt: skip


def field_from_row(row: Any) -> ReportFormField:
    return ReportFormField(
        key=row.key,
        label=row.label,
        type=row.type,
        required=row.required,
        min_value=row.min_value,
        max_value=row.max_value,
        min_length=row.min_length,
        max_length=row.max_length,
        pattern=row.pattern,
        choices=list(row.choices or ()),
    )


REPORT_COLUMNS: tuple[Any, ...] = (R.id, R.activity_id, R.form_id, R.created_by_id, R.values, R.submitted_at)


def report_from_row(row: Any) -> Report:
    return Report(
        pk=row.id,
        activity_pk=row.activity_id,
        form_pk=row.form_id,
        submitted_by_pk=row.created_by_id,
        values=row.values,
        submitted_at=row.submitted_at,
    )


# Without the JSON ``values``: for a page whose query does not select them (the reports
# of ``Customer.activities``, see ``ReportsSelection``), so the field is never read.
LEAN_REPORT_COLUMNS: tuple[Any, ...] = (R.id, R.activity_id, R.form_id, R.created_by_id, R.submitted_at)
if tuple(select(*LEAN_REPORT_COLUMNS).selected_columns.keys()) != ("id", "activity_id", "form_id", "created_by_id", "submitted_at"):  # pragma: no cover
    raise RuntimeError("lean_report_from_row unpacks LEAN_REPORT_COLUMNS by position")
# The ``values`` of a lean report: were it ever resolved, the non-null field would fail
# loudly ("Cannot return null"), never answer a wrong document.
NOT_READ: Any = None


def lean_report_from_row(row: Any) -> Report:
    """A ``Report`` without its values, made like :class:`ActivityBuilder`'s objects (no
    dataclass ``__init__``): a heavy page has a few hundred."""
    pk, activity_pk, form_pk, submitted_by_pk, submitted_at = row[:5]  # LEAN_REPORT_COLUMNS, in order
    report = _new(Report)
    report.__dict__ = {
        "pk": pk, "id": encode_id("Report", pk), "activity_pk": activity_pk, "form_pk": form_pk,
        "submitted_by_pk": submitted_by_pk, "values": NOT_READ, "submitted_at": submitted_at,
    }  # fmt: skip
    return report


C = models.LocationCheck
CHECK_COLUMNS: tuple[Any, ...] = (C.id, C.activity_id, C.user_id, C.latitude, C.longitude, C.accuracy_m, C.distance_m, C.status, C.checked_at)


def check_from_row(row: Any) -> LocationCheck:
    return LocationCheck(
        checked_by_pk=row.user_id,
        latitude=row.latitude,
        longitude=row.longitude,
        accuracy=row.accuracy_m,
        distance_meters=row.distance_m,
        status=row.status,
        checked_at=row.checked_at,
    )


D = models.ActivityAttachment
ATTACHMENT_COLUMNS: tuple[Any, ...] = (D.id, D.activity_id, D.created_by_id, D.filename, D.content_type, D.size, D.created_at)


def attachment_from_row(row: Any) -> ActivityAttachment:
    return ActivityAttachment(
        pk=row.id,
        uploaded_by_pk=row.created_by_id,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        created_at=row.created_at,
    )

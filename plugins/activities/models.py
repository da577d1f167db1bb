"""Tables of the activities plugin. ORM entities are for writes; read paths select columns.

``location_id`` and ``contact_id`` hold primary keys of the customers plugin's rows without
a foreign key: that plugin may be disabled, and its hooks (``merge_customers``,
``customer_deleted``) keep these rows in step. Users and teams are the gateway's tables,
so those are real foreign keys.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, conflict_info, utcnow
from fiche.plugins.activities.enums import FieldType, GpsStatus

__all__ = [
    "Activity",
    "ActivityAttachment",
    "ActivityType",
    "ActivityTypeForm",
    "LocationCheck",
    "Report",
    "ReportForm",
    "ReportFormField",
]


def _enum(cls: type, name: str) -> Enum:
    return Enum(cls, name=name, native_enum=False, length=20)


class ActivityType(TenantMixin, AuditMixin, Base):
    """A kind of activity. Built-in types have a ``code`` (unique per organisation, which
    makes their lazy creation idempotent); custom types have none."""

    __tablename__ = "activity_types"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str] = mapped_column(String(40))
    colour: Mapped[str] = mapped_column(String(7))
    position: Mapped[int] = mapped_column(Integer, default=100)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


# Names are unique per organisation whatever their case; the services check first (and
# take turns, see services/catalogue.py), the indexes are the last wall.
Index(
    "uq_activity_types_organization_id_lower_name",
    ActivityType.organization_id,
    func.lower(ActivityType.name),
    unique=True,
    info=conflict_info("Another activity type has this name.", "input", "name"),
)


class ReportForm(TenantMixin, AuditMixin, Base):
    """A structured report form; its fields are :class:`ReportFormField` rows."""

    __tablename__ = "activity_report_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


Index(
    "uq_activity_report_forms_organization_id_lower_name",
    ReportForm.organization_id,
    func.lower(ReportForm.name),
    unique=True,
    info=conflict_info("Another report form has this name.", "input", "name"),
)


class ReportFormField(TenantMixin, Base):
    """One typed field of a form, with its validation rules."""

    __tablename__ = "activity_report_form_fields"
    __table_args__ = (UniqueConstraint("form_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("activity_report_forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    type: Mapped[FieldType] = mapped_column(_enum(FieldType, "report_field_type"))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    min_length: Mapped[int | None] = mapped_column(Integer)
    max_length: Mapped[int | None] = mapped_column(Integer)
    pattern: Mapped[str | None] = mapped_column(String(200))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)


class ActivityTypeForm(TenantMixin, Base):
    """A report form linked to an activity type (several forms per type, in order)."""

    __tablename__ = "activity_type_forms"
    __table_args__ = (UniqueConstraint("type_id", "form_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("activity_types.id", ondelete="CASCADE"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("activity_report_forms.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Activity(TenantMixin, AuditMixin, Base):
    __tablename__ = "activities"
    __table_args__ = (
        # Customer.activities and the timeline: newest first per location.
        Index("ix_activities_location_id_starts_at", "location_id", "starts_at", "id"),
        Index("ix_activities_assignee_id_starts_at", "assignee_id", "starts_at"),
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("activity_types.id", ondelete="RESTRICT"), index=True)
    location_id: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    description: Mapped[str | None] = mapped_column(Text)  # sanitised HTML
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    gps_status: Mapped[GpsStatus] = mapped_column(_enum(GpsStatus, "activity_gps_status"), default=GpsStatus.NOT_VERIFIED)


class LocationCheck(TenantMixin, Base):
    """One GPS check-in: the position sent, its distance to the location, and the outcome."""

    __tablename__ = "activity_location_checks"
    __table_args__ = (Index("ix_activity_location_checks_activity_id_checked_at", "activity_id", "checked_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    distance_m: Mapped[float] = mapped_column(Float)
    status: Mapped[GpsStatus] = mapped_column(_enum(GpsStatus, "activity_gps_status"))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Report(TenantMixin, AuditMixin, Base):
    """A submitted report: the form's values, checked and normalised."""

    __tablename__ = "activity_reports"
    __table_args__ = (Index("ix_activity_reports_activity_id_submitted_at", "activity_id", "submitted_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    form_id: Mapped[int] = mapped_column(ForeignKey("activity_report_forms.id", ondelete="RESTRICT"), index=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ActivityAttachment(TenantMixin, AuditMixin, Base):
    """Metadata of a file attached to an activity; the bytes live in the file storage."""

    __tablename__ = "activity_attachments"
    __table_args__ = (Index("ix_activity_attachments_activity_id_created_at", "activity_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(120))

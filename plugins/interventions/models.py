"""Tables of the interventions plugin. ORM entities are for writes; read paths select columns.

``customer_id``, ``address_id`` hold primary keys of the customers plugin's rows without a
foreign key: that plugin may be disabled, and its hooks (``merge_customers``,
``customer_deleted``) keep these rows in step. Users are the gateway's table, so
technicians are real foreign keys.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event, func
from sqlalchemy.orm import Mapped, mapped_column

from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, conflict_info
from fiche.text import fold

__all__ = [
    "Equipment",
    "Intervention",
    "InterventionEquipment",
    "InterventionPhoto",
    "InterventionTechnician",
    "InterventionType",
    "MaintenancePlan",
    "MaintenancePlanEquipment",
    "Worksite",
]


class InterventionType(TenantMixin, AuditMixin, Base):
    """A kind of intervention (installation, maintenance, repair...), defined by admins."""

    __tablename__ = "intervention_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    colour: Mapped[str] = mapped_column(String(7))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


Index(
    "uq_intervention_types_organization_id_lower_name",
    InterventionType.organization_id,
    func.lower(InterventionType.name),
    unique=True,
    info=conflict_info("Another intervention type has this name.", "input", "name"),
)


class Intervention(TenantMixin, AuditMixin, Base):
    """An intervention at one of a customer's addresses, and its report once completed."""

    __tablename__ = "interventions"
    __table_args__ = (
        UniqueConstraint("organization_id", "number", info=conflict_info("Another intervention took this number; try again.", "input")),
        Index("ix_interventions_customer_id_starts_at", "customer_id", "starts_at", "id"),
        Index("ix_interventions_organization_id_starts_at", "organization_id", "starts_at", "id"),
        CheckConstraint("ends_at IS NULL OR (starts_at IS NOT NULL AND ends_at >= starts_at)", name="ends_after_start"),
        CheckConstraint("actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start", name="actual_end_after_start"),
        # One intervention per occurrence of a maintenance plan.
        UniqueConstraint(
            "maintenance_plan_id", "occurrence", info=conflict_info("This visit of the plan is already scheduled.", "occurrence")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    search_title: Mapped[str] = mapped_column(String(200))  # fold(title): accent-insensitive search
    type_id: Mapped[int] = mapped_column(ForeignKey("intervention_types.id", ondelete="RESTRICT"), index=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int] = mapped_column(Integer, index=True)
    starts_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    description: Mapped[str | None] = mapped_column(Text)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    to_invoice: Mapped[bool] = mapped_column(Boolean, default=False)
    invoice_id: Mapped[str | None] = mapped_column(String(100))  # global ID of the invoicing document
    # The report ("bon d'intervention"); completed_at set means DONE.
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actual_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    actual_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    work_done: Mapped[str | None] = mapped_column(Text)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    signature_key: Mapped[str | None] = mapped_column(String(120))
    signature_type: Mapped[str | None] = mapped_column(String(100))
    worksite_id: Mapped[int | None] = mapped_column(ForeignKey("worksites.id", ondelete="SET NULL"), index=True)
    maintenance_plan_id: Mapped[int | None] = mapped_column(ForeignKey("maintenance_plans.id", ondelete="SET NULL"))
    occurrence: Mapped[dt.date | None] = mapped_column(Date)  # the plan's occurrence this visit is for


@event.listens_for(Intervention, "before_insert")
@event.listens_for(Intervention, "before_update")
def _derive_search(mapper: object, connection: object, intervention: Intervention) -> None:
    intervention.search_title = fold(intervention.title)[:200]


class InterventionTechnician(TenantMixin, Base):
    """A technician assigned to an intervention (several per intervention)."""

    __tablename__ = "intervention_technicians"
    __table_args__ = (
        UniqueConstraint("intervention_id", "user_id"),
        Index("ix_intervention_technicians_user_id_intervention_id", "user_id", "intervention_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("interventions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class InterventionPhoto(TenantMixin, AuditMixin, Base):
    """A photo of the report; the bytes live in the file storage."""

    __tablename__ = "intervention_photos"
    __table_args__ = (Index("ix_intervention_photos_intervention_id_id", "intervention_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("interventions.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(120))


class Equipment(TenantMixin, AuditMixin, Base):
    """A customer's equipment (a boiler, a heat pump...) installed at one of its addresses."""

    __tablename__ = "equipment"
    __table_args__ = (Index("ix_equipment_customer_id_name", "customer_id", "name", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    brand: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(100))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    installed_on: Mapped[dt.date | None] = mapped_column(Date)
    picture_key: Mapped[str | None] = mapped_column(String(120))
    picture_type: Mapped[str | None] = mapped_column(String(100))
    thumbnail_key: Mapped[str | None] = mapped_column(String(120))
    thumbnail_type: Mapped[str | None] = mapped_column(String(100))


class InterventionEquipment(TenantMixin, Base):
    """Equipment serviced by an intervention (its report, and the equipment's history)."""

    __tablename__ = "intervention_equipment"
    __table_args__ = (UniqueConstraint("intervention_id", "equipment_id"), Index("ix_intervention_equipment_equipment_id", "equipment_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    intervention_id: Mapped[int] = mapped_column(ForeignKey("interventions.id", ondelete="CASCADE"))
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))


class Worksite(TenantMixin, AuditMixin, Base):
    """A worksite ("chantier") of a customer: several interventions over a period (I4)."""

    __tablename__ = "worksites"
    __table_args__ = (
        Index("ix_worksites_customer_id_starts_on", "customer_id", "starts_on", "id"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)


class MaintenancePlan(TenantMixin, AuditMixin, Base):
    """A recurring maintenance contract of a customer (I5): an RFC 5545 rule from a start
    date, whose occurrences are the visits due."""

    __tablename__ = "maintenance_plans"
    __table_args__ = (
        Index("ix_maintenance_plans_customer_id_name", "customer_id", "name", "id"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer)
    address_id: Mapped[int] = mapped_column(Integer)
    type_id: Mapped[int] = mapped_column(ForeignKey("intervention_types.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    recurrence: Mapped[str] = mapped_column(String(500))  # an RRULE, e.g. FREQ=MONTHLY;INTERVAL=6
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class MaintenancePlanEquipment(TenantMixin, Base):
    """Equipment covered by a maintenance plan."""

    __tablename__ = "maintenance_plan_equipment"
    __table_args__ = (UniqueConstraint("plan_id", "equipment_id"), Index("ix_maintenance_plan_equipment_equipment_id", "equipment_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("maintenance_plans.id", ondelete="CASCADE"))
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"))

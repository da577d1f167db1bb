"""Column lists and row builders of the read paths: select these columns, build the
Strawberry objects directly (no ORM instances, see DESIGN.md's performance rules)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fiche.relay import AnySelect
from fiche.plugins.interventions import models
from fiche.plugins.interventions.services.status import InterventionStatus, Today, WorksiteStatus, status_expression, worksite_status_expression
from fiche.plugins.interventions.types import (
    Equipment,
    EquipmentPicture,
    Intervention,
    InterventionPhoto,
    InterventionReport,
    InterventionType,
    MaintenancePlan,
    Worksite,
)

__all__ = [
    "EQUIPMENT_COLUMNS",
    "PHOTO_COLUMNS",
    "PLAN_COLUMNS",
    "TYPE_COLUMNS",
    "InterventionBuilder",
    "equipment_from_row",
    "intervention_select",
    "photo_from_row",
    "plan_from_row",
    "type_from_row",
    "worksite_from_row",
    "worksite_select",
]

I, T = models.Intervention, models.InterventionType

INTERVENTION_COLUMNS: tuple[Any, ...] = (
    I.id, I.number, I.title, I.description, I.type_id, I.customer_id, I.address_id, I.starts_at, I.ends_at,
    I.archived, I.to_invoice, I.invoice_id, I.created_at, I.updated_at,
    I.completed_at, I.completed_by_id, I.actual_start, I.actual_end, I.work_done, I.signer_name, I.signature_type,
    I.worksite_id, I.maintenance_plan_id, I.occurrence,
    T.name.label("type_name"), T.colour.label("type_colour"), T.archived.label("type_archived"),
)  # fmt: skip


def intervention_select(today: Today) -> AnySelect:
    """Interventions with their type and their status as of ``today`` (both tables get the
    tenant filter)."""
    return select(*INTERVENTION_COLUMNS, status_expression(today).label("status")).join(T, T.id == I.type_id)


class InterventionBuilder:
    """Builds the interventions of one statement, sharing one ``InterventionType`` per type."""

    __slots__ = ("types",)

    def __init__(self) -> None:
        self.types: dict[int, InterventionType] = {}

    def intervention_type(self, row: Any) -> InterventionType:
        found = self.types.get(row.type_id)
        if found is None:
            found = self.types[row.type_id] = InterventionType(pk=row.type_id, name=row.type_name, colour=row.type_colour, archived=row.type_archived)
        return found

    def __call__(self, row: Any) -> Intervention:
        report = None
        if row.completed_at is not None:
            report = InterventionReport(
                intervention_pk=row.id, completed_by_pk=row.completed_by_id, signature_type=row.signature_type,
                completed_at=row.completed_at, actual_start=row.actual_start, actual_end=row.actual_end,
                work_done=row.work_done, signer_name=row.signer_name,
            )  # fmt: skip
        return Intervention(
            pk=row.id,
            customer_pk=row.customer_id,
            address_pk=row.address_id,
            worksite_pk=row.worksite_id,
            plan_pk=row.maintenance_plan_id,
            occurrence=row.occurrence,
            number=row.number,
            title=row.title,
            description=row.description,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            status=InterventionStatus[row.status],
            archived=row.archived,
            to_invoice=row.to_invoice,
            invoice_id=row.invoice_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            type=self.intervention_type(row),
            report=report,
        )


TYPE_COLUMNS: tuple[Any, ...] = (T.id, T.name, T.colour, T.archived)


def type_from_row(row: Any) -> InterventionType:
    return InterventionType(pk=row.id, name=row.name, colour=row.colour, archived=row.archived)


P = models.InterventionPhoto
PHOTO_COLUMNS: tuple[Any, ...] = (P.id, P.intervention_id, P.filename, P.content_type, P.size)


def photo_from_row(row: Any) -> InterventionPhoto:
    return InterventionPhoto(pk=row.id, intervention_pk=row.intervention_id, filename=row.filename, content_type=row.content_type, size=row.size)


E = models.Equipment
EQUIPMENT_COLUMNS: tuple[Any, ...] = (
    E.id, E.customer_id, E.address_id, E.name, E.description, E.brand, E.model, E.reference, E.serial_number,
    E.installed_on, E.picture_type,
)  # fmt: skip


def equipment_from_row(row: Any) -> Equipment:
    picture = None if row.picture_type is None else EquipmentPicture(equipment_pk=row.id, content_type=row.picture_type)
    return Equipment(
        pk=row.id, customer_pk=row.customer_id, address_pk=row.address_id, name=row.name, description=row.description,
        brand=row.brand, model=row.model, reference=row.reference, serial_number=row.serial_number,
        installed_on=row.installed_on, picture=picture,
    )  # fmt: skip


W = models.Worksite


def worksite_select(today: Today) -> AnySelect:
    """Worksites with their status as of ``today``."""
    return select(W.id, W.customer_id, W.address_id, W.name, W.description, W.starts_on, W.ends_on, worksite_status_expression(today).label("status"))


def worksite_from_row(row: Any) -> Worksite:
    return Worksite(
        pk=row.id, customer_pk=row.customer_id, address_pk=row.address_id, name=row.name, description=row.description,
        starts_on=row.starts_on, ends_on=row.ends_on, status=WorksiteStatus[row.status],
    )  # fmt: skip


M = models.MaintenancePlan
PLAN_COLUMNS: tuple[Any, ...] = (M.id, M.customer_id, M.address_id, M.type_id, M.assigned_user_id, M.name, M.recurrence, M.starts_on, M.ends_on)


def plan_from_row(row: Any) -> MaintenancePlan:
    return MaintenancePlan(
        pk=row.id, customer_pk=row.customer_id, address_pk=row.address_id, type_pk=row.type_id, assigned_user_pk=row.assigned_user_id,
        name=row.name, recurrence=row.recurrence, starts_on=row.starts_on, ends_on=row.ends_on,
    )  # fmt: skip

"""GraphQL types of interventions and equipment.

Scalars are plain attributes filled from selected columns (see :mod:`.reads`); every edge
that needs the database is a batch resolver (:func:`fiche.execution.batched`) over a
per-operation loader, so a page of interventions costs the same number of statements
whatever its size.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.accounts.types import User
from fiche.cost import list_size
from fiche.execution import batched, load_optional
from fiche.relay import Connection, Node, encode_id, page_size
from fiche.plugins.interventions.services.access import can_complete
from fiche.plugins.interventions.services.bounds import MAX_EQUIPMENT_PER_PLAN, MAX_EQUIPMENT_PER_REPORT, MAX_PHOTOS, MAX_TECHNICIANS
from fiche.plugins.interventions.services.status import InterventionStatus, WorksiteStatus

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "Equipment",
    "EquipmentPicture",
    "Intervention",
    "InterventionPhoto",
    "InterventionReport",
    "InterventionType",
    "MaintenancePlan",
    "MaintenanceVisit",
    "MaintenanceVisitStatus",
    "Worksite",
]


@strawberry.type(description="A kind of intervention (installation, maintenance, repair...), managed by admins.")
class InterventionType(Node):
    name: str = strawberry.field(description="The type's name.")
    colour: str = strawberry.field(description="Colour in the planning, as `#RRGGBB`.")
    archived: bool = strawberry.field(description="Archived types cannot be used for new interventions.")


@strawberry.type(description="A photo taken for an intervention report.")
class InterventionPhoto(Node):
    intervention_pk: strawberry.Private[int]
    filename: str = strawberry.field(description="The file's name as uploaded.")
    content_type: str = strawberry.field(description="MIME type, from the image's content.")
    size: int = strawberry.field(description="Size in bytes.")

    @strawberry.field(description="Path of the authenticated download (`GET` with the bearer token).")
    def download_url(self) -> str:
        return f"/interventions/photos/{self.id}"


async def _nodes(info: strawberry.Info, type_name: str, pks: Sequence[int | None]) -> list[Node | None]:
    context: OperationContext = info.context
    if type_name not in context.app.node_resolvers:
        return [None] * len(pks)
    return await load_optional(context.node_loader(type_name), list(pks))


@strawberry.type(description="A picture of an equipment, its content checked as an image.")
class EquipmentPicture:
    equipment_pk: strawberry.Private[int]
    content_type: str = strawberry.field(description="MIME type of the picture, from its content.")

    @strawberry.field(description="Path of the authenticated download of the picture.")
    def url(self) -> str:
        return f"/interventions/equipment/{encode_id('Equipment', self.equipment_pk)}/picture"

    @strawberry.field(description="Path of the authenticated download of its thumbnail (at most 256 × 256 pixels).")
    def thumbnail_url(self) -> str:
        return f"/interventions/equipment/{encode_id('Equipment', self.equipment_pk)}/thumbnail"


@strawberry.type(description="A customer's equipment (a boiler, a heat pump...) and its service history (I3).")
class Equipment(Node):
    customer_pk: strawberry.Private[int]
    address_pk: strawberry.Private[int | None]
    name: str = strawberry.field(description="The equipment's name.")
    description: str | None = strawberry.field(description="A description.")
    brand: str | None = strawberry.field(description="Brand.")
    model: str | None = strawberry.field(description="Model.")
    reference: str | None = strawberry.field(description="The manufacturer's reference.")
    serial_number: str | None = strawberry.field(description="Serial number.")
    installed_on: dt.date | None = strawberry.field(description="Installation date.")
    picture: EquipmentPicture | None = strawberry.field(description="Its picture, if one was uploaded.")

    @strawberry.field(description="The customer or branch that owns it (a `Customer`).")
    @batched
    async def customer(equipment: Sequence[Equipment], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Customer", [item.customer_pk for item in equipment])

    @strawberry.field(description="The address where it is installed (an `Address` of its customer).")
    @batched
    async def address(equipment: Sequence[Equipment], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Address", [item.address_pk for item in equipment])

    @strawberry.field(description="Its history: the interventions that serviced it, the latest first (those you may see).")
    @batched
    async def interventions(
        equipment: Sequence[Equipment],
        info: strawberry.Info,
        first: Annotated[int | None, strawberry.argument(description="How many interventions to return (the page size).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Return the interventions after this cursor.")] = None,
    ) -> list[Connection[Intervention]]:
        from fiche.plugins.interventions.loaders import HistoryKey

        context: OperationContext = info.context
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        keys = [HistoryKey(item.pk, size, after) for item in equipment]
        return await context.loaders["intervention_history_by_equipment"].load_many(keys)


@strawberry.type(description="The intervention report (\"bon d'intervention\") a technician completes.")
class InterventionReport:
    intervention_pk: strawberry.Private[int]
    completed_by_pk: strawberry.Private[int | None]
    signature_type: strawberry.Private[str | None]
    completed_at: dt.datetime = strawberry.field(description="When the report was submitted (the intervention is then DONE).")
    actual_start: dt.datetime | None = strawberry.field(description="When the work really started.")
    actual_end: dt.datetime | None = strawberry.field(description="When the work really ended.")
    work_done: str | None = strawberry.field(description="The work done, as written by the technician.")
    signer_name: str | None = strawberry.field(description="Who signed for the customer.")

    @strawberry.field(description="Whether the customer signed the report.")
    def signed(self) -> bool:
        return self.signature_type is not None

    @strawberry.field(description="Path of the authenticated download of the signature image, if signed.")
    def signature_url(self) -> str | None:
        return None if self.signature_type is None else f"/interventions/{encode_id('Intervention', self.intervention_pk)}/signature"

    @strawberry.field(description="Path of the authenticated PDF of the signed report (null until signed).")
    def pdf_url(self) -> str | None:
        return None if self.signature_type is None else f"/interventions/{encode_id('Intervention', self.intervention_pk)}/report.pdf"

    @strawberry.field(description="Who completed it.")
    @batched
    async def completed_by(reports: Sequence[InterventionReport], info: strawberry.Info) -> list[User | None]:
        return await load_optional(info.context.loaders["users_by_id"], [report.completed_by_pk for report in reports])

    @strawberry.field(description="The report's photos, in upload order.", metadata=list_size(MAX_PHOTOS))
    @batched
    async def photos(reports: Sequence[InterventionReport], info: strawberry.Info) -> list[list[InterventionPhoto]]:
        return await info.context.loaders["photos_by_intervention"].load_many([report.intervention_pk for report in reports])

    @strawberry.field(description="The equipment serviced.", metadata=list_size(MAX_EQUIPMENT_PER_REPORT))
    @batched
    async def equipment(reports: Sequence[InterventionReport], info: strawberry.Info) -> list[list[Equipment]]:
        return await info.context.loaders["equipment_by_intervention"].load_many([report.intervention_pk for report in reports])


@strawberry.type(description="An intervention at one of a customer's addresses (I1): its appointment, technicians and report.")
class Intervention(Node):
    customer_pk: strawberry.Private[int]
    address_pk: strawberry.Private[int]
    worksite_pk: strawberry.Private[int | None]
    plan_pk: strawberry.Private[int | None]
    number: int = strawberry.field(description="Its number in the organisation's sequence (1, 2, 3... with no gaps).")
    title: str = strawberry.field(description="What is to be done, in a few words.")
    description: str | None = strawberry.field(description="Details for the technicians.")
    starts_at: dt.datetime | None = strawberry.field(description="Start of the appointment; null when not scheduled.")
    ends_at: dt.datetime | None = strawberry.field(description="End of the appointment.")
    status: InterventionStatus = strawberry.field(description="Where it stands (in the organisation's time zone).")
    archived: bool = strawberry.field(description="Archived interventions are hidden from the planning by default.")
    to_invoice: bool = strawberry.field(description="Whether the work is to be invoiced once done.")
    invoice_id: strawberry.ID | None = strawberry.field(description="Global ID of the invoice that billed this work, once invoiced.")
    created_at: dt.datetime = strawberry.field(description="When it was created.")
    updated_at: dt.datetime = strawberry.field(description="When it was last changed.")
    type: InterventionType = strawberry.field(description="Its type.")
    report: InterventionReport | None = strawberry.field(description="The technician's report, once completed.")
    occurrence: dt.date | None = strawberry.field(description="For a maintenance visit: the day of the plan's recurrence it is for.")

    @strawberry.field(description="The worksite it is part of, if any.")
    @batched
    async def worksite(interventions: Sequence[Intervention], info: strawberry.Info) -> list[Worksite | None]:
        return await load_optional(info.context.loaders["worksites_by_id"], [item.worksite_pk for item in interventions])

    @strawberry.field(description="The maintenance plan it is a visit of, if any.")
    @batched
    async def maintenance_plan(interventions: Sequence[Intervention], info: strawberry.Info) -> list[MaintenancePlan | None]:
        return await load_optional(info.context.loaders["maintenance_plans_by_id"], [item.plan_pk for item in interventions])

    @strawberry.field(description="The customer or branch (a `Customer`).")
    @batched
    async def customer(interventions: Sequence[Intervention], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Customer", [item.customer_pk for item in interventions])

    @strawberry.field(description="Where it takes place: one of the customer's addresses (an `Address`).")
    @batched
    async def address(interventions: Sequence[Intervention], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Address", [item.address_pk for item in interventions])

    @strawberry.field(description="The technicians assigned, by name.", metadata=list_size(MAX_TECHNICIANS))
    @batched
    async def technicians(interventions: Sequence[Intervention], info: strawberry.Info) -> list[list[User]]:
        return await info.context.loaders["technicians_by_intervention"].load_many([item.pk for item in interventions])

    @strawberry.field(description="The customer's memo (C7), for the technician on site.")
    @batched
    async def customer_memo(interventions: Sequence[Intervention], info: strawberry.Info) -> list[str | None]:
        locations = await info.context.loaders["locations_by_customer"].load_many([item.customer_pk for item in interventions])
        return [location.memo if location is not None else None for location in locations]

    @strawberry.field(description="The customer's preferred contact (a `Contact`), whom the technician calls.")
    @batched
    async def preferred_contact(interventions: Sequence[Intervention], info: strawberry.Info) -> list[Node | None]:
        locations = await info.context.loaders["locations_by_customer"].load_many([item.customer_pk for item in interventions])
        return await _nodes(info, "Contact", [location.preferred_contact_id if location is not None else None for location in locations])

    @strawberry.field(description="Whether you may complete it now: not done yet, and you are an assigned technician, a manager or an admin.")
    @batched
    async def can_complete(interventions: Sequence[Intervention], info: strawberry.Info) -> list[bool]:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        technicians = await context.loaders["technicians_by_intervention"].load_many([item.pk for item in interventions])
        return [item.report is None and can_complete(viewer, {user.pk for user in users}) for item, users in zip(interventions, technicians, strict=True)]


INTERVENTION_PAGE_ARGUMENTS = {
    "first": strawberry.argument(description="How many interventions to return (the page size)."),
    "after": strawberry.argument(description="Return the interventions after this cursor."),
}


@strawberry.type(description="A worksite (\"chantier\") of a customer: interventions over a period (I4).")
class Worksite(Node):
    customer_pk: strawberry.Private[int]
    address_pk: strawberry.Private[int | None]
    name: str = strawberry.field(description="The worksite's name.")
    description: str | None = strawberry.field(description="A description.")
    starts_on: dt.date = strawberry.field(description="First day.")
    ends_on: dt.date | None = strawberry.field(description="Last day planned, if known.")
    status: WorksiteStatus = strawberry.field(description="Where it stands (in the organisation's time zone).")

    @strawberry.field(description="The customer or branch (a `Customer`).")
    @batched
    async def customer(worksites: Sequence[Worksite], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Customer", [item.customer_pk for item in worksites])

    @strawberry.field(description="Where it is: one of the customer's addresses (an `Address`).")
    @batched
    async def address(worksites: Sequence[Worksite], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Address", [item.address_pk for item in worksites])

    @strawberry.field(description="Its interventions, by appointment (those you may see).")
    @batched
    async def interventions(
        worksites: Sequence[Worksite],
        info: strawberry.Info,
        first: Annotated[int | None, INTERVENTION_PAGE_ARGUMENTS["first"]] = None,
        after: Annotated[str | None, INTERVENTION_PAGE_ARGUMENTS["after"]] = None,
    ) -> list[Connection[Intervention]]:
        from fiche.plugins.interventions.loaders import WorksiteInterventionsKey

        context: OperationContext = info.context
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        keys = [WorksiteInterventionsKey(item.pk, size, after) for item in worksites]
        return await context.loaders["interventions_by_worksite"].load_many(keys)


@strawberry.type(description="A customer's maintenance plan (I5): equipment covered, a recurrence and who does the visits.")
class MaintenancePlan(Node):
    customer_pk: strawberry.Private[int]
    address_pk: strawberry.Private[int]
    type_pk: strawberry.Private[int]
    assigned_user_pk: strawberry.Private[int | None]
    name: str = strawberry.field(description="The plan's name (e.g. \"Annual boiler service\").")
    recurrence: str = strawberry.field(description="When visits are due: an RFC 5545 RRULE from the start date (e.g. `FREQ=MONTHLY;INTERVAL=6`).")
    starts_on: dt.date = strawberry.field(description="The first day of the plan (the rule's start).")
    ends_on: dt.date | None = strawberry.field(description="The last day of the plan; none: until further notice.")

    @strawberry.field(description="The customer or branch (a `Customer`).")
    @batched
    async def customer(plans: Sequence[MaintenancePlan], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Customer", [item.customer_pk for item in plans])

    @strawberry.field(description="Where the visits take place (an `Address` of the customer).")
    @batched
    async def address(plans: Sequence[MaintenancePlan], info: strawberry.Info) -> list[Node | None]:
        return await _nodes(info, "Address", [item.address_pk for item in plans])

    @strawberry.field(description="The type of the interventions its visits become.")
    @batched
    async def intervention_type(plans: Sequence[MaintenancePlan], info: strawberry.Info) -> list[InterventionType | None]:
        return await info.context.loaders["intervention_types_by_id"].load_many([item.type_pk for item in plans])

    @strawberry.field(description="Who does its visits.")
    @batched
    async def assigned_user(plans: Sequence[MaintenancePlan], info: strawberry.Info) -> list[User | None]:
        return await load_optional(info.context.loaders["users_by_id"], [item.assigned_user_pk for item in plans])

    @strawberry.field(description="The equipment it covers.", metadata=list_size(MAX_EQUIPMENT_PER_PLAN))
    @batched
    async def equipment(plans: Sequence[MaintenancePlan], info: strawberry.Info) -> list[list[Equipment]]:
        return await info.context.loaders["equipment_by_plan"].load_many([item.pk for item in plans])


@strawberry.enum(description="Where a maintenance visit stands.")
class MaintenanceVisitStatus(enum.Enum):
    DONE = strawberry.enum_value("DONE", description="Its intervention was completed.")
    PLANNED = strawberry.enum_value("PLANNED", description="An intervention is scheduled for it, not done yet.")
    UNPLANNED = strawberry.enum_value("UNPLANNED", description="It is due and no intervention was made for it.")


@strawberry.type(description="One occurrence of a maintenance plan: a visit due on a day, and its intervention if one was made.")
class MaintenanceVisit:
    plan: MaintenancePlan = strawberry.field(description="The plan.")
    occurrence: dt.date = strawberry.field(description="The day the visit is due (an occurrence of the plan's recurrence).")
    status: MaintenanceVisitStatus = strawberry.field(description="Whether it is done, planned or still to plan.")
    intervention_pk: strawberry.Private[int | None]

    @strawberry.field(description="The intervention made for it (null when unplanned, or when you may not see it).")
    @batched
    async def intervention(visits: Sequence[MaintenanceVisit], info: strawberry.Info) -> list[Intervention | None]:
        return await load_optional(info.context.loaders["interventions_by_id"], [visit.intervention_pk for visit in visits])

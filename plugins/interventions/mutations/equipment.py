"""A customer's equipment (I3): create, change (with a picture checked as an image and
its thumbnail), delete. Managers, admins and technicians (who find it on site) may."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import delete, select
from strawberry.file_uploads import Upload

from fiche.accounts.models import Role
from fiche.errors import UserError, UserErrors
from fiche.files import accept_upload, remove_after_commit, store_for_transaction
from fiche.images import check_image
from fiche.plugins.interventions import models
from fiche.plugins.interventions.common import check_address, check_customer, check_name, get_row
from fiche.plugins.interventions.reads import EQUIPMENT_COLUMNS, equipment_from_row
from fiche.plugins.interventions.types import Equipment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["EquipmentMutations", "equipment_files"]

UNSET: Any = strawberry.UNSET
TEXT_LIMITS = {"brand": 100, "model": 100, "reference": 100, "serial_number": 100}


@strawberry.input(description="A new equipment of a customer. Its picture is an upload given beside this input.")
class EquipmentCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer or branch that owns it.")
    address_id: strawberry.ID | None = strawberry.field(default=None, description="Where it is installed: one of that customer's addresses.")
    name: str = strawberry.field(description="Its name (1 to 200 characters).")
    description: str | None = strawberry.field(default=None, description="A description.")
    brand: str | None = strawberry.field(default=None, description="Brand.")
    model: str | None = strawberry.field(default=None, description="Model.")
    reference: str | None = strawberry.field(default=None, description="The manufacturer's reference.")
    serial_number: str | None = strawberry.field(default=None, description="Serial number.")
    installed_on: dt.date | None = strawberry.field(default=None, description="Installation date.")


@strawberry.input(description="Changes to an equipment; fields left out stay as they are, null clears an optional one.")
class EquipmentUpdateInput:
    id: strawberry.ID = strawberry.field(description="The equipment to change.")
    address_id: strawberry.ID | None = strawberry.field(default=UNSET, description="Another address of its customer; null: unknown.")
    name: str | None = strawberry.field(default=None, description="A new name.")
    description: str | None = strawberry.field(default=UNSET, description="A new description.")
    brand: str | None = strawberry.field(default=UNSET, description="A new brand.")
    model: str | None = strawberry.field(default=UNSET, description="A new model.")
    reference: str | None = strawberry.field(default=UNSET, description="A new reference.")
    serial_number: str | None = strawberry.field(default=UNSET, description="A new serial number.")
    installed_on: dt.date | None = strawberry.field(default=UNSET, description="A new installation date.")


@strawberry.type(description="The outcome of an equipment mutation.")
class EquipmentPayload:
    equipment: Equipment | None = strawberry.field(default=None, description="The equipment, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of an equipment deletion.")
class EquipmentDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of the equipment deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def _check_role(context: OperationContext) -> None:
    context.require_role_error(roles=(Role.ADMIN, Role.MANAGER, Role.TECHNICIAN))


def _text(value: str | None, field: str, path: str) -> str | None:
    text = " ".join((value or "").split()) or None
    if text is not None and len(text) > TEXT_LIMITS[field]:
        raise UserErrors.invalid(f"At most {TEXT_LIMITS[field]} characters.", "input", path)
    return text


async def _set_picture(context: OperationContext, equipment: models.Equipment, picture: Upload) -> list[str]:
    """Store the picture and its thumbnail on ``equipment``; returns the previous files' keys."""
    accepted = await accept_upload(picture, context.settings, "picture", default_name="picture")
    image = await check_image(accepted, "picture")
    old = [key for key in (equipment.picture_key, equipment.thumbnail_key) if key]
    picture_key = await store_for_transaction(context, image.file.data, suffix=image.file.suffix)
    thumbnail_suffix = ".jpg" if image.thumbnail_type == "image/jpeg" else ".png"
    thumbnail_key = await store_for_transaction(context, image.thumbnail, suffix=thumbnail_suffix)
    equipment.picture_key, equipment.picture_type = picture_key, image.file.content_type
    equipment.thumbnail_key, equipment.thumbnail_type = thumbnail_key, image.thumbnail_type
    return old


async def _read_back(session: AsyncSession, pk: int) -> Equipment:
    return equipment_from_row((await session.execute(select(*EQUIPMENT_COLUMNS).where(models.Equipment.id == pk))).one())


def equipment_files(rows: list[Any]) -> list[str]:
    """Storage keys of the pictures and thumbnails of equipment rows."""
    return [key for row in rows for key in (row.picture_key, row.thumbnail_key) if key]


@strawberry.type
class EquipmentMutations:
    @strawberry.mutation(description="Record a customer's equipment (managers, admins and technicians).")
    async def equipment_create(
        self,
        info: strawberry.Info,
        input: Annotated[EquipmentCreateInput, strawberry.argument(description="The equipment.")],
        picture: Annotated[Upload | None, strawberry.argument(description="Its picture (an image; a thumbnail is made from it).")] = None,
    ) -> EquipmentPayload:
        context: OperationContext = info.context

        async def change() -> EquipmentPayload:
            _check_role(context)
            session = await context.session()
            customer_pk = await check_customer(context, input.customer_id, "input", "customerId")
            address_pk = await check_address(context, session, input.address_id, customer_pk, "input", "addressId") if input.address_id is not None else None
            equipment = models.Equipment(
                customer_id=customer_pk, address_id=address_pk, name=check_name(input.name), description=input.description or None,
                brand=_text(input.brand, "brand", "brand"), model=_text(input.model, "model", "model"),
                reference=_text(input.reference, "reference", "reference"),
                serial_number=_text(input.serial_number, "serial_number", "serialNumber"), installed_on=input.installed_on,
            )  # fmt: skip
            if picture is not None:
                await _set_picture(context, equipment, picture)
            session.add(equipment)
            await session.flush()
            return EquipmentPayload(equipment=await _read_back(session, equipment.id))

        return await context.mutate(change, EquipmentPayload)

    @strawberry.mutation(description="Change an equipment, or replace its picture (managers, admins and technicians).")
    async def equipment_update(
        self,
        info: strawberry.Info,
        input: Annotated[EquipmentUpdateInput, strawberry.argument(description="The equipment and the changes.")],
        picture: Annotated[Upload | None, strawberry.argument(description="A new picture (an image).")] = None,
    ) -> EquipmentPayload:
        context: OperationContext = info.context

        async def change() -> EquipmentPayload:
            _check_role(context)
            session = await context.session()
            equipment = await get_row(session, models.Equipment, input.id, "Equipment", "input", "id")
            if input.address_id is not UNSET:
                equipment.address_id = (
                    await check_address(context, session, input.address_id, equipment.customer_id, "input", "addressId") if input.address_id is not None else None
                )
            if input.name is not None:
                equipment.name = check_name(input.name)
            if input.description is not UNSET:
                equipment.description = input.description or None
            for field, path in (("brand", "brand"), ("model", "model"), ("reference", "reference"), ("serial_number", "serialNumber")):
                value = getattr(input, field)
                if value is not UNSET:
                    setattr(equipment, field, _text(value, field, path))
            if input.installed_on is not UNSET:
                equipment.installed_on = input.installed_on
            if picture is not None:
                remove_after_commit(context, await _set_picture(context, equipment, picture))
            await session.flush()
            return EquipmentPayload(equipment=await _read_back(session, equipment.id))

        return await context.mutate(change, EquipmentPayload)

    @strawberry.mutation(description="Delete an equipment (managers and admins); the reports that serviced it no longer list it.")
    async def equipment_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The equipment to delete.")]
    ) -> EquipmentDeletePayload:
        context: OperationContext = info.context

        async def change() -> EquipmentDeletePayload:
            context.require_role_error(manager=True)
            session = await context.session()
            equipment = await get_row(session, models.Equipment, id, "Equipment", "id")
            remove_after_commit(context, equipment_files([equipment]))
            for link in (models.InterventionEquipment, models.MaintenancePlanEquipment):
                await session.execute(delete(link).where(link.equipment_id == equipment.id).execution_options(synchronize_session=False))
            await session.delete(equipment)
            await session.flush()
            return EquipmentDeletePayload(deleted_id=id)

        return await context.mutate(change, EquipmentDeletePayload)

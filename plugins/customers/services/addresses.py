"""Addresses of a customer (C8): checked coordinates and exactly one primary address.

The first address of a customer becomes primary; making another one primary un-sets the
previous one first (the partial unique index refuses two); the primary address cannot be
un-set, only replaced; deleting it promotes the oldest remaining address. Writers that may
move the flag take turns (:func:`~plugins.customers.services.locks.lock_location`), so
concurrent "make primary" requests all succeed and the last one wins: never zero primary
addresses, never two.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.cost import ensure_room
from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.locks import lock_location, refresh_locked
from fiche.plugins.customers.services.bounds import MAX_ADDRESSES
from fiche.plugins.customers.services.validation import (
    IntegrityRule,
    check_coordinates,
    check_country,
    optional_text,
    required_text,
    translate_integrity_error,
)

__all__ = ["NewAddress", "create_address", "delete_address", "get_address", "set_primary", "update_address"]

PRIMARY_RULE = IntegrityRule(
    "uq_customer_addresses_primary",
    "customer_addresses.customer_id",
    "Another address of this customer was made primary at the same time; try again.",
    ("input", "primary"),
)
GRAPHQL_NAMES = {"postal_code": "postalCode"}


@dataclasses.dataclass
class NewAddress:
    line1: str
    city: str
    label: str | None = None
    line2: str | None = None
    postal_code: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    primary: bool = False


def _clean(field: str, value: Any, path: Sequence[str]) -> Any:
    where = (*path, GRAPHQL_NAMES.get(field, field))
    if field == "line1":
        return required_text(value, 200, "The first address line", *where)
    if field == "city":
        return required_text(value, 100, "The city", *where)
    if field == "label":
        return optional_text(value, 100, "The label", *where)
    if field == "line2":
        return optional_text(value, 200, "The second address line", *where)
    if field == "postal_code":
        return optional_text(value, 20, "The postal code", *where)
    if field == "country":
        return check_country(value, *where)
    raise ValueError(field)


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [PRIMARY_RULE]) from exc


async def _release_primary(session: AsyncSession, customer_id: int) -> None:
    await session.execute(
        update(models.Address)
        .where(models.Address.customer_id == customer_id, models.Address.is_primary.is_(True))
        .values(is_primary=False)
    )


async def _has_primary(session: AsyncSession, customer_id: int) -> bool:
    found = await session.scalar(
        select(models.Address.id).where(models.Address.customer_id == customer_id, models.Address.is_primary.is_(True))
    )
    return found is not None


async def get_address(session: AsyncSession, pk: int, *path: str) -> models.Address:
    address = await session.scalar(select(models.Address).where(models.Address.id == pk))
    if address is None:
        raise UserErrors.not_found("No address with this ID.", *path)
    return address


async def create_address(session: AsyncSession, customer_id: int, data: NewAddress, path: Sequence[str] = ("input",)) -> models.Address:
    values = {field: _clean(field, getattr(data, field), path) for field in ("line1", "city", "label", "line2", "postal_code", "country")}
    latitude, longitude = check_coordinates(data.latitude, data.longitude, *path)
    await lock_location(session, customer_id)
    await ensure_room(
        session,
        select(func.count()).select_from(models.Address).where(models.Address.customer_id == customer_id),
        MAX_ADDRESSES,
        f"A customer has at most {MAX_ADDRESSES} addresses.",
        *path,
        lock=select(models.Customer.id).where(models.Customer.id == customer_id).with_for_update(),
    )
    primary = data.primary or not await _has_primary(session, customer_id)
    if primary:
        await _release_primary(session, customer_id)
    address = models.Address(customer_id=customer_id, latitude=latitude, longitude=longitude, is_primary=primary, **values)
    session.add(address)
    await _flush(session)
    return address


async def update_address(
    session: AsyncSession, address: models.Address, changes: Mapping[str, Any], path: Sequence[str] = ("input",)
) -> models.Address:
    """Apply the fields the client sent. Coordinates are checked as the pair they become."""
    cleaned = {field: _clean(field, value, path) for field, value in changes.items() if field not in ("latitude", "longitude", "primary")}
    if "latitude" in changes or "longitude" in changes:
        cleaned["latitude"], cleaned["longitude"] = check_coordinates(
            changes.get("latitude", address.latitude), changes.get("longitude", address.longitude), *path
        )
    if "primary" in changes:
        await lock_location(session, address.customer_id)
        await refresh_locked(session, address, "No address with this ID.", *path, "id")
        if changes["primary"] and not address.is_primary:
            await _release_primary(session, address.customer_id)
            cleaned["is_primary"] = True
        elif not changes["primary"] and address.is_primary:
            raise UserErrors.conflict("A customer keeps one primary address: make another one primary instead.", *path, "primary")
    for field, value in cleaned.items():
        setattr(address, field, value)
    await _flush(session)
    return address


async def set_primary(session: AsyncSession, address: models.Address) -> models.Address:
    return await update_address(session, address, {"primary": True}, path=())


async def delete_address(session: AsyncSession, address: models.Address) -> None:
    await lock_location(session, address.customer_id)
    await refresh_locked(session, address, "No address with this ID.", "id")
    was_primary, customer_id = address.is_primary, address.customer_id
    await session.delete(address)
    await session.flush()
    if was_primary:
        successor = await session.scalar(
            select(models.Address).where(models.Address.customer_id == customer_id).order_by(models.Address.id).limit(1)
        )
        if successor is not None:
            successor.is_primary = True
            await _flush(session)

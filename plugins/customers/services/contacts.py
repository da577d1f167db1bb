"""Contacts of a location (C5): validation, and the one preferred contact per location.

Making a contact preferred un-sets the previous one with an UPDATE that runs before the
new flag is flushed, so the partial unique index never sees two. Concurrent writers of the
flag take turns (:func:`~plugins.customers.services.locks.lock_location`): the last one wins,
as if they had come one after the other. Should a writer skip the lock, the index refuses
its write and the caller gets a CONFLICT.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.locks import lock_location, refresh_locked
from fiche.plugins.customers.services.validation import (
    IntegrityRule,
    check_email,
    check_phone,
    optional_text,
    required_text,
    translate_integrity_error,
)

__all__ = ["NewContact", "create_contact", "delete_contact", "get_contact", "parse_role", "update_contact"]

PREFERRED_RULE = IntegrityRule(
    "uq_customer_contacts_preferred",
    "customer_contacts.customer_id",
    "Another contact of this location was made preferred at the same time; try again.",
    ("input", "preferred"),
)
# The five usual roles, recognised in English or French, whatever the case.
ROLE_NAMES: dict[str, models.ContactRole] = {
    "buyer": models.ContactRole.BUYER,
    "acheteur": models.ContactRole.BUYER,
    "owner": models.ContactRole.OWNER,
    "proprietaire": models.ContactRole.OWNER,
    "propriétaire": models.ContactRole.OWNER,
    "manager": models.ContactRole.MANAGER,
    "accounting": models.ContactRole.ACCOUNTING,
    "comptabilite": models.ContactRole.ACCOUNTING,
    "comptabilité": models.ContactRole.ACCOUNTING,
    "reception": models.ContactRole.RECEPTION,
    "réception": models.ContactRole.RECEPTION,
}


@dataclasses.dataclass
class NewContact:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    preferred: bool = False
    portal_access: bool = False


def parse_role(value: str | None, *path: str) -> tuple[models.ContactRole | None, str | None]:
    """``(role kind, free-text label)``: a usual role is stored as its kind, anything else
    as OTHER with the text kept."""
    text = optional_text(value, 100, "The role", *path)
    if text is None:
        return None, None
    kind = ROLE_NAMES.get(text.casefold())
    if kind is not None:
        return kind, None
    return models.ContactRole.OTHER, text


def _clean(field: str, value: Any, path: Sequence[str]) -> Any:
    where = (*path, field)
    if field == "name":
        return required_text(value, 200, "The name", *where)
    if field == "email":
        return check_email(value, *where)
    if field in ("phone", "mobile"):
        return check_phone(value, *where)
    if field in ("preferred", "portal_access"):
        return bool(value)
    raise ValueError(field)


async def _release_preferred(session: AsyncSession, customer_id: int, keep_id: int | None = None) -> None:
    stmt = update(models.Contact).where(models.Contact.customer_id == customer_id, models.Contact.preferred.is_(True))
    if keep_id is not None:
        stmt = stmt.where(models.Contact.id != keep_id)
    await session.execute(stmt.values(preferred=False))


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [PREFERRED_RULE]) from exc


async def get_contact(session: AsyncSession, pk: int, *path: str) -> models.Contact:
    contact = await session.scalar(select(models.Contact).where(models.Contact.id == pk))
    if contact is None:
        raise UserErrors.not_found("No contact with this ID.", *path)
    return contact


async def create_contact(session: AsyncSession, customer_id: int, data: NewContact, path: Sequence[str] = ("input",)) -> models.Contact:
    role_kind, role = parse_role(data.role, *path, "role")
    values = {field: _clean(field, getattr(data, field), path) for field in ("name", "email", "phone", "mobile", "preferred", "portal_access")}
    if values["preferred"]:
        await lock_location(session, customer_id)
        await _release_preferred(session, customer_id)
    contact = models.Contact(customer_id=customer_id, role_kind=role_kind, role=role, **values)
    session.add(contact)
    await _flush(session)
    return contact


async def update_contact(
    session: AsyncSession, contact: models.Contact, changes: Mapping[str, Any], path: Sequence[str] = ("input",)
) -> models.Contact:
    """Apply the fields the client sent; ``preferred: true`` takes the flag from the previous one."""
    cleaned: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "role":
            cleaned["role_kind"], cleaned["role"] = parse_role(value, *path, "role")
        else:
            cleaned[field] = _clean(field, value, path)
    if cleaned.get("preferred"):
        await lock_location(session, contact.customer_id)
        await refresh_locked(session, contact, "No contact with this ID.", *path, "id")
    if cleaned.get("preferred") and not contact.preferred:
        await _release_preferred(session, contact.customer_id, keep_id=contact.id)
    for field, value in cleaned.items():
        setattr(contact, field, value)
    await _flush(session)
    return contact


async def delete_contact(session: AsyncSession, contact: models.Contact) -> None:
    await session.delete(contact)
    await session.flush()

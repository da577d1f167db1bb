"""The customer record (C1, C2, C4 conversion / archiving, C6 parent): create, update,
convert an individual into a professional, archive and unarchive."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services import custom_fields, references
from fiche.plugins.customers.services.events import record_event
from fiche.plugins.customers.services.hierarchy import check_parent, lock_hierarchy
from fiche.plugins.customers.services.locks import lock_location
from fiche.plugins.customers.services.validation import check_email, check_phone, optional_text, translate_integrity_error

__all__ = [
    "NewCustomer",
    "archive",
    "convert_to_professional",
    "create_customer",
    "get_customer",
    "unarchive",
    "update_customer",
]

# Fields of the record a caller may change with update_customer, and their labels.
EDITABLE = {
    "company_name": "company name",
    "first_name": "first name",
    "last_name": "last name",
    "registration_number": "registration number",
    "reference": "reference",
    "email": "e-mail",
    "phone": "phone",
    "representative_id": "representative",
    "parent_id": "parent",
}
# The editable fields that are plain text (references and IDs are checked on their own).
PLAIN_FIELDS = ("company_name", "first_name", "last_name", "registration_number", "email", "phone")
GRAPHQL_NAMES = {
    "company_name": "companyName",
    "first_name": "firstName",
    "last_name": "lastName",
    "registration_number": "registrationNumber",
    "representative_id": "representativeId",
    "parent_id": "parentId",
}


@dataclasses.dataclass
class NewCustomer:
    kind: models.CustomerKind
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    registration_number: str | None = None
    reference: str | None = None
    email: str | None = None
    phone: str | None = None
    representative_id: int | None = None
    parent_id: int | None = None
    custom_values: Sequence[custom_fields.ValueIn] = ()


async def get_customer(session: AsyncSession, pk: int, *path: str) -> models.Customer:
    """The customer, or NOT_FOUND (also for another organisation's: the tenant filter hides it)."""
    customer = await session.scalar(select(models.Customer).where(models.Customer.id == pk))
    if customer is None:
        raise UserErrors.not_found("No customer with this ID.", *path)
    return customer


async def _check_representative(session: AsyncSession, user_id: int, *path: str) -> int:
    active = await session.scalar(select(accounts.User.is_active).where(accounts.User.id == user_id))
    if active is None:
        raise UserErrors.not_found("No user with this ID.", *path)
    if not active:
        raise UserErrors.invalid("A deactivated user cannot be a representative.", *path)
    return user_id


def _clean(field: str, value: Any, path: Sequence[str]) -> Any:
    where = (*path, GRAPHQL_NAMES.get(field, field))
    if field == "company_name":
        return optional_text(value, 200, "The company name", *where)
    if field in ("first_name", "last_name"):
        return optional_text(value, 100, f"The {EDITABLE[field]}", *where)
    if field == "registration_number":
        return optional_text(value, 40, "The registration number", *where)
    if field == "email":
        return check_email(value, *where)
    if field == "phone":
        return check_phone(value, *where)
    return value


def _check_identity(kind: models.CustomerKind, values: Mapping[str, Any], path: Sequence[str]) -> None:
    if kind is models.CustomerKind.PROFESSIONAL:
        if not values.get("company_name"):
            raise UserErrors.invalid("A professional customer needs a company name.", *path, "companyName")
    else:
        if values.get("company_name"):
            raise UserErrors.invalid(
                "An individual has no company name: convert it to a professional first.", *path, "companyName"
            )
        if not values.get("first_name") and not values.get("last_name"):
            raise UserErrors.invalid("An individual needs a first or a last name.", *path, "lastName")


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [references.REFERENCE_RULE]) from exc


async def create_customer(session: AsyncSession, data: NewCustomer, path: Sequence[str] = ("input",)) -> models.Customer:
    values = {field: _clean(field, getattr(data, field), path) for field in PLAIN_FIELDS}
    _check_identity(data.kind, values, path)
    if data.representative_id is not None:
        await _check_representative(session, data.representative_id, *path, "representativeId")
    # Locks in a fixed order (references, then the hierarchy) so that writers never deadlock.
    await references.lock_references(session)
    if data.reference is not None and data.reference.strip():
        reference = references.check_reference(data.reference, *path, "reference")
        if await references.reference_taken(session, reference):
            raise UserErrors.conflict("Another customer already has this reference.", *path, "reference")
    else:
        reference = await references.next_reference(session)
    if data.parent_id is not None:
        await lock_hierarchy(session)
        await get_customer(session, data.parent_id, *path, "parentId")
        await check_parent(session, None, data.parent_id, *path, "parentId")
    customer = models.Customer(
        kind=data.kind,
        reference=reference,
        representative_id=data.representative_id,
        parent_id=data.parent_id,
        archived=False,
        **values,
    )
    session.add(customer)
    await _flush(session)
    if data.custom_values:
        await custom_fields.set_values(session, customer.id, data.custom_values, path=(*path, "customFields"))
    await custom_fields.check_required(session, customer.id, path=(*path, "customFields"))
    record_event(session, customer.id, models.EventKind.CREATED)
    await session.flush()
    return customer


async def update_customer(
    session: AsyncSession,
    customer: models.Customer,
    changes: Mapping[str, Any],
    custom_values: Sequence[custom_fields.ValueIn] = (),
    path: Sequence[str] = ("input",),
) -> models.Customer:
    """Apply ``changes`` (only the fields the client sent; None clears a field)."""
    unknown = set(changes) - EDITABLE.keys()
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    cleaned = {field: _clean(field, value, path) for field, value in changes.items()}
    if "reference" in cleaned:
        reference = references.check_reference(cleaned["reference"] or "", *path, "reference")
        if reference != customer.reference:
            await references.lock_references(session)
            if await references.reference_taken(session, reference, except_id=customer.id):
                raise UserErrors.conflict("Another customer already has this reference.", *path, "reference")
        cleaned["reference"] = reference
    if cleaned.get("representative_id") is not None:
        await _check_representative(session, cleaned["representative_id"], *path, "representativeId")
    if cleaned.get("parent_id") is not None and cleaned["parent_id"] != customer.parent_id:
        # Locked before the check, so that a concurrent move cannot make the check stale.
        await lock_hierarchy(session)
        await get_customer(session, cleaned["parent_id"], *path, "parentId")
        await check_parent(session, customer.id, cleaned["parent_id"], *path, "parentId")
    identity = {field: cleaned.get(field, getattr(customer, field)) for field in ("company_name", "first_name", "last_name")}
    _check_identity(customer.kind, identity, path)
    changed = [field for field, value in cleaned.items() if getattr(customer, field) != value]
    for field in changed:
        setattr(customer, field, cleaned[field])
    await _flush(session)
    if custom_values:
        changed.extend(await custom_fields.set_values(session, customer.id, custom_values, path=(*path, "customFields")))
        customer.updated_at = utcnow()  # the record changed even if no column of its row did
        customer.updated_by_id = session.info.get("user_id")
    if changed:
        labels = [EDITABLE.get(field, field) for field in changed]
        record_event(session, customer.id, models.EventKind.UPDATED, "Changed: " + ", ".join(labels) + ".")
    await _flush(session)
    return customer


async def convert_to_professional(
    session: AsyncSession,
    customer: models.Customer,
    *,
    company_name: str | None,
    registration_number: str | None,
    keep_person_as_contact: bool,
    path: Sequence[str] = ("input",),
) -> models.Customer:
    """An individual becomes a professional; the person can stay on as a contact."""
    if customer.kind is models.CustomerKind.PROFESSIONAL:
        raise UserErrors.conflict("This customer is already a professional.", *path, "id")
    person = customer.display_name
    name = optional_text(company_name, 200, "The company name", *path, "companyName") or person
    registration = optional_text(registration_number, 40, "The registration number", *path, "registrationNumber")
    if keep_person_as_contact:
        await lock_location(session, customer.id)
        has_preferred = await session.scalar(
            select(models.Contact.id).where(models.Contact.customer_id == customer.id, models.Contact.preferred.is_(True))
        )
        session.add(
            models.Contact(
                customer_id=customer.id,
                name=person,
                email=customer.email,
                phone=customer.phone,
                preferred=has_preferred is None,
                portal_access=False,
            )
        )
    customer.kind = models.CustomerKind.PROFESSIONAL
    customer.company_name = name
    customer.first_name = None
    customer.last_name = None
    if registration is not None:
        customer.registration_number = registration
    record_event(session, customer.id, models.EventKind.CONVERTED, f"{person} became a professional customer.")
    await session.flush()
    return customer


async def archive(session: AsyncSession, customer: models.Customer) -> models.Customer:
    """Hide the customer from lists (idempotent: archiving twice records one event)."""
    if not customer.archived:
        customer.archived = True
        customer.archived_at = utcnow()
        record_event(session, customer.id, models.EventKind.ARCHIVED)
        await session.flush()
    return customer


async def unarchive(session: AsyncSession, customer: models.Customer) -> models.Customer:
    if customer.archived:
        customer.archived = False
        customer.archived_at = None
        record_event(session, customer.id, models.EventKind.UNARCHIVED)
        await session.flush()
    return customer

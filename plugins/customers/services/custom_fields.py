"""Custom fields of customers (C1): definitions managed by admins, values checked against
their definition and stored in the column of their type."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.cost import ensure_room
from fiche.errors import UserErrors
from fiche.plugins.customers import models
from fiche.plugins.customers.services.bounds import MAX_CUSTOM_FIELDS
from fiche.plugins.customers.services.validation import IntegrityRule, required_text, translate_integrity_error

__all__ = [
    "ValueIn",
    "check_required",
    "create_field",
    "delete_field",
    "set_values",
    "update_field",
]

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_TEXT = 2000
MAX_CHOICES = 100
KEY_RULE = IntegrityRule(
    "uq_customer_custom_fields_organization_id_key",
    "customer_custom_fields.organization_id, customer_custom_fields.key",
    "Another custom field already has this key.",
    ("input", "key"),
)
COLUMN = {
    models.CustomFieldType.TEXT: "text_value",
    models.CustomFieldType.CHOICE: "text_value",
    models.CustomFieldType.NUMBER: "number_value",
    models.CustomFieldType.DATE: "date_value",
    models.CustomFieldType.BOOLEAN: "bool_value",
}


@dataclasses.dataclass(frozen=True)
class ValueIn:
    """One value as the client sent it: the member named after the field's type, or none
    of them to clear the value."""

    key: str
    text: str | None = None
    number: float | None = None
    date: dt.date | None = None
    boolean: bool | None = None
    choice: str | None = None

    def given(self) -> dict[str, Any]:
        return {
            name: value
            for name, value in (("text", self.text), ("number", self.number), ("date", self.date), ("boolean", self.boolean), ("choice", self.choice))
            if value is not None
        }


def _check_choices(choices: Sequence[str] | None, kind: models.CustomFieldType, *path: str) -> list[str]:
    cleaned = [" ".join(choice.split()) for choice in choices or ()]
    if kind is not models.CustomFieldType.CHOICE:
        if cleaned:
            raise UserErrors.invalid("Only a CHOICE field has choices.", *path)
        return []
    if not cleaned or any(not choice for choice in cleaned):
        raise UserErrors.invalid("A CHOICE field needs at least one non-empty choice.", *path)
    if len(set(cleaned)) != len(cleaned):
        raise UserErrors.invalid("The choices must be different from each other.", *path)
    if len(cleaned) > MAX_CHOICES or any(len(choice) > 100 for choice in cleaned):
        raise UserErrors.invalid(f"At most {MAX_CHOICES} choices of up to 100 characters.", *path)
    return cleaned


async def create_field(
    session: AsyncSession,
    *,
    key: str,
    label: str,
    kind: models.CustomFieldType,
    choices: Sequence[str] | None,
    required: bool,
    position: int | None,
) -> models.CustomField:
    key = key.strip()
    if not KEY_RE.match(key):
        raise UserErrors.invalid("A key is a lowercase letter then up to 59 lowercase letters, digits or underscores.", "input", "key")
    if await session.scalar(select(func.count()).select_from(models.CustomField).where(models.CustomField.key == key)):
        raise UserErrors.conflict("Another custom field already has this key.", "input", "key")
    await ensure_room(
        session,
        select(func.count()).select_from(models.CustomField),
        MAX_CUSTOM_FIELDS,
        f"An organisation has at most {MAX_CUSTOM_FIELDS} custom fields.",
        "input",
        "key",
    )
    if position is None:
        position = int(await session.scalar(select(func.coalesce(func.max(models.CustomField.position), -1))) or 0) + 1
    field = models.CustomField(
        key=key,
        label=required_text(label, 100, "The label", "input", "label"),
        type=kind,
        choices=_check_choices(choices, kind, "input", "choices"),
        required=required,
        position=position,
    )
    session.add(field)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise translate_integrity_error(exc, [KEY_RULE]) from exc
    return field


async def get_field(session: AsyncSession, pk: int, *path: str) -> models.CustomField:
    field = await session.scalar(select(models.CustomField).where(models.CustomField.id == pk))
    if field is None:
        raise UserErrors.not_found("No custom field with this ID.", *path)
    return field


async def update_field(
    session: AsyncSession,
    field: models.CustomField,
    *,
    label: str | None,
    choices: Sequence[str] | None,
    required: bool | None,
    position: int | None,
) -> models.CustomField:
    """Change a definition. Its type never changes (the stored values would not fit), and a
    choice still used by a customer cannot be removed."""
    if label is not None:
        field.label = required_text(label, 100, "The label", "input", "label")
    if choices is not None:
        cleaned = _check_choices(choices, field.type, "input", "choices")
        removed = set(field.choices) - set(cleaned)
        if removed:
            used = await session.scalar(
                select(func.count())
                .select_from(models.CustomValue)
                .where(models.CustomValue.field_id == field.id, models.CustomValue.text_value.in_(sorted(removed)))
            )
            if used:
                raise UserErrors.conflict(f"{used} customer(s) still use a choice you removed.", "input", "choices")
        field.choices = cleaned
    if required is not None:
        field.required = required
    if position is not None:
        field.position = position
    await session.flush()
    return field


async def delete_field(session: AsyncSession, field: models.CustomField) -> None:
    """Remove a definition and every customer's value of it."""
    await session.execute(delete(models.CustomValue).where(models.CustomValue.field_id == field.id))
    await session.delete(field)
    await session.flush()


def _typed(field: models.CustomField, value: ValueIn, path: Sequence[str]) -> Any:
    given = value.given()
    expected = field.type.name.lower()
    wrong = sorted(set(given) - {expected})
    if wrong:
        raise UserErrors.invalid(f"{field.label} is a {field.type.name} field: set `{expected}`, not `{wrong[0]}`.", *path)
    if not given:
        return None
    raw = given[expected]
    if field.type is models.CustomFieldType.TEXT:
        text = raw.strip()
        if len(text) > MAX_TEXT:
            raise UserErrors.invalid(f"{field.label} is longer than {MAX_TEXT} characters.", *path)
        return text or None
    if field.type is models.CustomFieldType.CHOICE:
        if raw not in field.choices:
            raise UserErrors.invalid(f"{raw!r} is not one of the choices of {field.label}: {', '.join(field.choices)}.", *path)
        return raw
    if field.type is models.CustomFieldType.NUMBER and not math.isfinite(raw):
        raise UserErrors.invalid(f"{field.label} must be a finite number.", *path)
    return raw


async def set_values(session: AsyncSession, customer_id: int, values: Sequence[ValueIn], *, path: Sequence[str]) -> list[str]:
    """Set (or clear, with no member given) the customer's values; returns the changed labels."""
    definitions = {field.key: field for field in (await session.scalars(select(models.CustomField))).all()}
    existing = {
        value.field_id: value
        for value in (await session.scalars(select(models.CustomValue).where(models.CustomValue.customer_id == customer_id))).all()
    }
    seen: set[str] = set()
    changed: list[str] = []
    for index, value in enumerate(values):
        where = (*path, str(index))
        field = definitions.get(value.key)
        if field is None:
            raise UserErrors.invalid(f"There is no custom field `{value.key}`.", *where, "key")
        if value.key in seen:
            raise UserErrors.invalid(f"`{value.key}` is given twice.", *where, "key")
        seen.add(value.key)
        typed = _typed(field, value, where)
        row = existing.get(field.id)
        if typed is None:
            if field.required:
                raise UserErrors.invalid(f"{field.label} is required.", *where)
            if row is not None:
                await session.delete(row)
                changed.append(field.label)
            continue
        if row is None:
            row = models.CustomValue(customer_id=customer_id, field_id=field.id)
            session.add(row)
        elif getattr(row, COLUMN[field.type]) == typed:
            continue
        setattr(row, COLUMN[field.type], typed)
        changed.append(field.label)
    await session.flush()
    return changed


async def check_required(session: AsyncSession, customer_id: int, *, path: Sequence[str]) -> None:
    """Every required field has a value (checked when a customer is created)."""
    missing = (
        await session.scalars(
            select(models.CustomField.label)
            .where(
                models.CustomField.required.is_(True),
                ~models.CustomField.id.in_(
                    select(models.CustomValue.field_id).where(models.CustomValue.customer_id == customer_id)
                ),
            )
            .order_by(models.CustomField.position, models.CustomField.id)
        )
    ).all()
    if missing:
        raise UserErrors.invalid(f"Required custom field(s) missing: {', '.join(missing)}.", *path)

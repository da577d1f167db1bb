"""The seven built-in activity types every organisation has (A1): visits, calls, meetings,
e-mails and text messages ("envois d'emails, appels, SMS").

Organisations are created by the gateway (CLI, demo, tests) without knowing plugins, so
the built-in types are seeded lazily: the first time an organisation reads or writes
activity types, the missing ones are inserted with ``INSERT ... ON CONFLICT DO NOTHING``
on the unique ``(organization_id, code)`` constraint. Two first requests at once both
succeed and leave exactly one row per code, on PostgreSQL and SQLite alike. Built-in
types cannot be renamed, archived or deleted, but admins can change their look and link
report forms to them.

The same lazy seeding is how organisations created before a new built-in type existed
(``email`` and ``sms`` came after the first five) receive it: the first read finds the
code missing and inserts it, so no data migration has to know every organisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.db import utcnow
from fiche.plugins.activities import models

__all__ = ["BUILTIN_TYPES", "BuiltinType", "ensure_builtin_types", "missing_codes"]


@dataclasses.dataclass(frozen=True, slots=True)
class BuiltinType:
    code: str
    name: str
    icon: str
    colour: str
    description: str


BUILTIN_TYPES: tuple[BuiltinType, ...] = (
    BuiltinType("visit", "Visit", "map-pin", "#2E7D32", "An in-person visit at the customer's premises."),
    BuiltinType("planned_visit", "Planned visit", "calendar", "#1565C0", "A visit scheduled for later."),
    BuiltinType("inbound_call", "Inbound call", "phone-incoming", "#6A1B9A", "A call received from the customer."),
    BuiltinType("outbound_call", "Outbound call", "phone-outgoing", "#EF6C00", "A call made to the customer."),
    BuiltinType("meeting", "Meeting", "users", "#00838F", "A scheduled meeting, on site or remote."),
    BuiltinType("email", "E-mail", "mail", "#455A64", "An e-mail sent to or received from the customer."),
    BuiltinType("sms", "SMS", "message-square", "#AD1457", "A text message sent to or received from the customer."),
)
BUILTIN_CODES = frozenset(builtin.code for builtin in BUILTIN_TYPES)


def missing_codes(present: Iterable[str | None]) -> list[BuiltinType]:
    found = set(present)
    return [builtin for builtin in BUILTIN_TYPES if builtin.code not in found]


async def ensure_builtin_types(session: AsyncSession, present: Iterable[str | None] | None = None) -> bool:
    """Insert the built-in types the session's organisation lacks; True when any was missing.

    ``present``: the codes the caller already read (saves a statement)."""
    if present is None:
        present = (await session.scalars(select(models.ActivityType.code).where(models.ActivityType.code.is_not(None)))).all()
    missing = missing_codes(present)
    if not missing:
        return False
    organization_id = session.info["organization_id"]
    now = utcnow()
    rows = [
        {
            "organization_id": organization_id,
            "code": builtin.code,
            "name": builtin.name,
            "description": builtin.description,
            "icon": builtin.icon,
            "colour": builtin.colour,
            "position": BUILTIN_TYPES.index(builtin),
            "archived": False,
            "created_at": now,
            "updated_at": now,
        }
        for builtin in missing
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(models.ActivityType).values(rows).on_conflict_do_nothing(index_elements=["organization_id", "code"])
    await session.execute(stmt)
    return True

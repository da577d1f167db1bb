"""Rules of the catalogue admins manage (A1, A4): type and form names, icons, colours.

Type names and form names are unique in an organisation, ignoring case. Writers of a name
call :func:`check_unique_name`, which first makes them take turns (``fiche.db.lock``):
of concurrent writers of one name the first wins and the others get a CONFLICT. The unique
indexes on ``lower(name)`` are the last wall.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from fiche.db import lock
from fiche.errors import UserErrors
from fiche.plugins.activities import models

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["check_colour", "check_icon", "check_name", "check_unique_name", "optional_text"]

NAMED = {models.ActivityType: "An activity type", models.ReportForm: "A report form"}

COLOUR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
ICON_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def check_name(value: str, max_length: int, *path: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise UserErrors.invalid("The name must not be empty.", *path)
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"The name is longer than {max_length} characters.", *path)
    return cleaned


def optional_text(value: str | None, max_length: int, *path: str) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > max_length:
        raise UserErrors.invalid(f"The text is longer than {max_length} characters.", *path)
    return cleaned or None


def check_colour(value: str, *path: str) -> str:
    """``#RRGGBB`` (stored upper-case)."""
    cleaned = value.strip()
    if not COLOUR_RE.match(cleaned):
        raise UserErrors.invalid("A colour is written `#RRGGBB`, e.g. `#1565C0`.", *path)
    return cleaned.upper()


def check_icon(value: str, *path: str) -> str:
    cleaned = value.strip()
    if not ICON_RE.match(cleaned):
        raise UserErrors.invalid("An icon is a name of lowercase letters, digits and dashes, e.g. `map-pin`.", *path)
    return cleaned


async def check_unique_name(
    session: AsyncSession, model: type[models.ActivityType] | type[models.ReportForm], name: str, except_id: int | None, *path: str
) -> None:
    """CONFLICT when another row of ``model`` has ``name`` (ignoring case, as the index does).

    Holds the organisation's lock of these names until the transaction ends, so the write
    that follows cannot race another one."""
    await lock(session, f"activities.names.{model.__tablename__}")
    stmt = select(func.count()).select_from(model).where(func.lower(model.name) == func.lower(name))
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    if await session.scalar(stmt):
        raise UserErrors.conflict(f"{NAMED[model]} named {name!r} exists already.", *path)

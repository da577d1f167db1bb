"""Rules about users and teams, free of GraphQL."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fiche.accounts import models
from fiche.errors import UserErrors

__all__ = ["EMAIL_RE", "HANDLE_RE", "MAX_TEAMS", "MAX_TEAMS_PER_USER", "MAX_TEAM_MEMBERS", "check_email", "check_handle", "create_user"]

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
HANDLE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
# Teams are returned as whole lists (``teams``, ``Team.members``, ``User.teams``): these
# bounds, checked when writing, are the sizes the query cost counts.
MAX_TEAMS = 200
MAX_TEAM_MEMBERS = 200
MAX_TEAMS_PER_USER = 20


def check_email(value: str, *path: str) -> str:
    value = value.strip()
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise UserErrors.invalid(f"{value!r} is not a valid e-mail address.", *path)
    return value


def check_handle(value: str, *path: str) -> str:
    value = value.strip().lstrip("@").lower()
    if not HANDLE_RE.match(value):
        raise UserErrors.invalid(
            "A handle is 2 to 40 lowercase letters, digits, dots, dashes or underscores.", *path
        )
    return value


def check_name(value: str, *path: str) -> str:
    value = value.strip()
    if not value:
        raise UserErrors.invalid("The name must not be empty.", *path)
    if len(value) > 200:
        raise UserErrors.invalid("The name is longer than 200 characters.", *path)
    return value


async def create_user(
    session: AsyncSession, *, name: str, email: str, handle: str, role: models.Role, path: tuple[str, ...] = ()
) -> models.User:
    """A new user of the session's organisation; refuses a taken e-mail or handle."""
    name = check_name(name, *path, "name")
    email = check_email(email, *path, "email")
    handle = check_handle(handle, *path, "handle")
    if await session.scalar(select(func.count()).select_from(models.User).where(models.User.handle == handle)):
        raise UserErrors.conflict(f"The handle @{handle} is already taken.", *path, "handle")
    if await session.scalar(select(func.count()).select_from(models.User).where(func.lower(models.User.email) == email.lower())):
        raise UserErrors.conflict(f"{email} already has an account.", *path, "email")
    user = models.User(name=name, email=email, handle=handle, role=role)
    session.add(user)
    await session.flush()
    return user

"""The demo organisation: users and teams made here, the rest by each plugin's
``seed_demo`` hook, all in one transaction."""

from __future__ import annotations

import dataclasses
import inspect
import random
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fiche.accounts import models
from fiche.auth import issue_token
from fiche.db import Database
from fiche.settings import Settings
from fiche.storage import FileStorage

__all__ = ["DemoContext", "DemoResult", "create_demo", "demo_tokens"]

DEMO_PEOPLE: tuple[tuple[str, str, models.Role, str], ...] = (
    ("Camille Laurent", "camille", models.Role.ADMIN, "Direction"),
    ("Marc Lefèvre", "marc", models.Role.MANAGER, "Ventes Nord"),
    ("Sophie Martin", "sophie", models.Role.MEMBER, "Ventes Nord"),
    ("Julien Bernard", "julien", models.Role.MEMBER, "Ventes Sud"),
    ("Élodie Garnier", "elodie", models.Role.MANAGER, "Ventes Sud"),
    ("Thomas Petit", "thomas", models.Role.TECHNICIAN, "Techniciens"),
    ("Nadia Benali", "nadia", models.Role.TECHNICIAN, "Techniciens"),
)


@dataclasses.dataclass
class DemoContext:
    """What ``seed_demo`` implementations receive."""

    session: AsyncSession
    organization: models.Organization
    users: list[models.User]
    teams: dict[str, models.Team]
    size: int
    rng: random.Random
    shared: dict[str, Any] = dataclasses.field(default_factory=dict)
    storage: FileStorage | None = None
    """Where demo files go (equipment pictures...): the gateway's file storage."""
    pm: Any = None
    """The plugin manager, to ask other plugins through hooks (e.g. :mod:`fiche.directory`)."""


@dataclasses.dataclass
class DemoResult:
    organization_id: int
    slug: str
    tokens: dict[str, str]


async def create_demo(settings: Settings, db: Database, pm: Any, *, size: int = 50, seed: int = 1, slug: str | None = None) -> DemoResult:
    slug = slug or f"demo-{secrets.token_hex(3)}"
    async with db.session(system=True) as session:
        async with session.begin():
            organization = models.Organization(name="Démo Fiche", slug=slug)
            session.add(organization)
            await session.flush()
            session.info["organization_id"] = organization.id
            teams: dict[str, models.Team] = {}
            users: list[models.User] = []
            for name, handle, role, team_name in DEMO_PEOPLE:
                user = models.User(name=name, handle=handle, email=f"{handle}@{slug}.example", role=role)
                session.add(user)
                if team_name not in teams:
                    teams[team_name] = models.Team(name=team_name)
                    session.add(teams[team_name])
                users.append(user)
            await session.flush()
            for (_, _, _, team_name), user in zip(DEMO_PEOPLE, users, strict=True):
                session.add(models.TeamMembership(team_id=teams[team_name].id, user_id=user.id))
            await session.flush()
            session.info["user_id"] = users[0].id
            demo = DemoContext(
                session=session, organization=organization, users=users, teams=teams, size=size, rng=random.Random(seed),
                storage=pm.hook.file_storage(settings=settings), pm=pm,
            )  # fmt: skip
            # Registration order: a plugin sees the rows of the plugins registered before it.
            for impl in pm.hook.seed_demo.get_hookimpls():
                outcome = impl.function(**{name: demo for name in impl.argnames})
                if inspect.isawaitable(outcome):
                    await outcome
                await session.flush()
    tokens = {user.email: issue_token(settings, user.id, organization.id) for user in users}
    return DemoResult(organization_id=organization.id, slug=slug, tokens=tokens)


async def demo_tokens(settings: Settings, db: Database, slug: str) -> DemoResult | None:
    """Fresh tokens for the users of an existing demo organisation, or None if it is absent."""
    from sqlalchemy import select

    async with db.reader(None, system=True) as session:
        organization_id = await session.scalar(select(models.Organization.id).where(models.Organization.slug == slug))
        if organization_id is None:
            return None
        rows = (
            await session.execute(
                select(models.User.id, models.User.email)
                .where(models.User.organization_id == organization_id, models.User.is_active.is_(True))
                .order_by(models.User.id)
            )
        ).all()
    tokens = {row.email: issue_token(settings, row.id, organization_id) for row in rows}
    return DemoResult(organization_id=organization_id, slug=slug, tokens=tokens)

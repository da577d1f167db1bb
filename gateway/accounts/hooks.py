"""Hook implementations of the accounts feature (identity, node resolution, settings)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fiche import hookimpl
from fiche.accounts import loaders, models
from fiche.accounts.mutations import AccountMutations
from fiche.accounts.queries import AccountQueries
from fiche.accounts.types import Organization, Team, User, Viewer

if TYPE_CHECKING:
    from fiche.context import OperationContext

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


@hookimpl
def register_types() -> list[type]:
    return [User, Team, Viewer, Organization]


@hookimpl
def register_queries() -> list[type]:
    return [AccountQueries]


@hookimpl
def register_mutations() -> list[type]:
    return [AccountMutations]


@hookimpl
def register_loaders(context: OperationContext) -> dict[str, Any]:
    return {
        "users_by_id": loaders.UsersByIdLoader(context),
        "teams_by_user": loaders.TeamsByUserLoader(context),
        "members_by_team": loaders.MembersByTeamLoader(context),
    }


async def _users(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    return await context.loaders["users_by_id"].load_many(list(pks))


async def _teams(context: OperationContext, pks: Sequence[int]) -> list[Any]:
    async with context.read() as session:
        rows = (await session.execute(select(models.Team.id, models.Team.name).where(models.Team.id.in_(list(pks))))).all()
    found = {row.id: Team(pk=row.id, name=row.name) for row in rows}
    return [found.get(pk) for pk in pks]


@hookimpl
def register_node_types() -> dict[str, Any]:
    return {"User": _users, "Team": _teams}


@hookimpl
def register_migrations() -> list[Path]:
    return [MIGRATIONS]


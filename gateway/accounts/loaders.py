"""Per-operation loaders of users and teams."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from sqlalchemy import select

from fiche.accounts import models
from fiche.accounts.types import USER_COLUMNS, Team, User, user_from_row
from fiche.relay import rows_by_id

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["MembersByTeamLoader", "TeamsByUserLoader", "UsersByIdLoader"]


def _users() -> Any:
    return select(*USER_COLUMNS)


class UsersByIdLoader(DataLoader[int, "User | None"]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[int]) -> list[User | None]:
        async with self.context.read() as session:
            return await rows_by_id(session, _users, models.User.id, keys, user_from_row, shape=f"{__name__}.UsersByIdLoader")


class TeamsByUserLoader(DataLoader[int, list[Team]]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[int]) -> list[list[Team]]:
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(models.TeamMembership.user_id, models.Team.id, models.Team.name)
                    .join(models.Team, models.Team.id == models.TeamMembership.team_id)
                    .where(models.TeamMembership.user_id.in_(keys))
                    .order_by(models.Team.name)
                )
            ).all()
        teams: dict[int, list[Team]] = defaultdict(list)
        for row in rows:
            teams[row.user_id].append(Team(pk=row.id, name=row.name))
        return [teams[key] for key in keys]


class MembersByTeamLoader(DataLoader[int, list[User]]):
    def __init__(self, context: OperationContext) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: list[int]) -> list[list[User]]:
        async with self.context.read() as session:
            rows = (
                await session.execute(
                    select(models.TeamMembership.team_id, *USER_COLUMNS)
                    .join(models.User, models.User.id == models.TeamMembership.user_id)
                    .where(models.TeamMembership.team_id.in_(keys))
                    .order_by(models.User.name)
                )
            ).all()
        members: dict[int, list[User]] = defaultdict(list)
        for row in rows:
            members[row.team_id].append(user_from_row(row))
        return [members[key] for key in keys]

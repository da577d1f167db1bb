"""``viewer``, ``users`` and ``teams``."""

from __future__ import annotations

from typing import Annotated, TYPE_CHECKING

import strawberry
from sqlalchemy import or_, select

from fiche.accounts import models
from fiche.accounts.services import MAX_TEAMS
from fiche.accounts.types import USER_COLUMNS, Role, Team, User, Viewer, user_from_row
from fiche.cost import list_size
from fiche.relay import Connection, SortKey, decode_id, page_size, paginate
from fiche.text import like_pattern

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["AccountQueries"]


@strawberry.input(description="Which users to list.")
class UserFilter:
    search: str | None = strawberry.field(default=None, description="Part of the name, handle or e-mail.")
    role: Role | None = strawberry.field(default=None, description="Only users with this role.")
    team_id: strawberry.ID | None = strawberry.field(default=None, description="Only members of this team.")
    include_inactive: bool = strawberry.field(default=False, description="Also list deactivated users.")


@strawberry.type
class AccountQueries:
    @strawberry.field(description="You, the authenticated user.")
    def viewer(self, info: strawberry.Info) -> Viewer:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        return Viewer(user_pk=viewer.user_id, organization_pk=viewer.organization_id)

    @strawberry.field(description="The users of your organisation, by name.")
    async def users(
        self,
        info: strawberry.Info,
        filter: Annotated[UserFilter | None, strawberry.argument(description="Which users; active ones by default.")] = None,
        first: Annotated[int | None, strawberry.argument(description="How many users to return (the page size).")] = None,
        after: Annotated[str | None, strawberry.argument(description="Return the users after this cursor.")] = None,
    ) -> Connection[User]:
        context: OperationContext = info.context
        context.require_viewer()
        size = page_size(first, default=context.settings.default_page_size, maximum=context.settings.max_page_size)
        stmt = select(*USER_COLUMNS)
        filter = filter or UserFilter()
        if not filter.include_inactive:
            stmt = stmt.where(models.User.is_active.is_(True))
        if filter.role is not None:
            stmt = stmt.where(models.User.role == filter.role)
        if filter.search:
            pattern = like_pattern(filter.search)
            stmt = stmt.where(
                or_(models.User.name.ilike(pattern, escape="\\"),
                    models.User.handle.ilike(pattern, escape="\\"),
                    models.User.email.ilike(pattern, escape="\\"),)
            )
        if filter.team_id is not None:
            _, team_pk = decode_id(filter.team_id, "Team")
            stmt = stmt.where(
                models.User.id.in_(select(models.TeamMembership.user_id).where(models.TeamMembership.team_id == team_pk))
            )
        keys = [SortKey(models.User.name), SortKey(models.User.id)]
        async with context.read() as session:
            return await paginate(session, stmt, keys, first=size, after=after, build=user_from_row)

    @strawberry.field(description="The teams of your organisation, by name.", metadata=list_size(MAX_TEAMS))
    async def teams(self, info: strawberry.Info) -> list[Team]:
        context: OperationContext = info.context
        context.require_viewer()
        async with context.read() as session:
            rows = (await session.execute(select(models.Team.id, models.Team.name).order_by(models.Team.name))).all()
        return [Team(pk=row.id, name=row.name) for row in rows]

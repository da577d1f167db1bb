"""GraphQL types of identity: ``User``, ``Team``, ``Organization`` and ``Viewer``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from fiche.accounts import models
from fiche.accounts.services import MAX_TEAM_MEMBERS, MAX_TEAMS_PER_USER
from fiche.cost import list_size
from fiche.relay import Node

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["Organization", "Role", "Team", "User", "Viewer", "user_from_row"]

Role = models.Role


@strawberry.type(description="A person of your organisation.")
class User(Node):
    name: str = strawberry.field(description="Full name.")
    handle: str = strawberry.field(description="The `@handle` colleagues use to mention this user (without `@`).")
    email: str = strawberry.field(description="E-mail address.")
    role: Role = strawberry.field(description="Role in the organisation.")
    is_active: bool = strawberry.field(description="False once the user was deactivated.")

    @strawberry.field(description="The teams this user belongs to.", metadata=list_size(MAX_TEAMS_PER_USER))
    async def teams(self, info: strawberry.Info) -> list[Team]:
        context: OperationContext = info.context
        return await context.loaders["teams_by_user"].load(self.pk)


@strawberry.type(description="A team of users (sales area, technicians, ...).")
class Team(Node):
    name: str = strawberry.field(description="The team's name.")

    @strawberry.field(description="The members of the team.", metadata=list_size(MAX_TEAM_MEMBERS))
    async def members(self, info: strawberry.Info) -> list[User]:
        context: OperationContext = info.context
        return await context.loaders["members_by_team"].load(self.pk)


@strawberry.type(description="An organisation (tenant): nothing is ever shared across organisations.")
class Organization:
    name: str = strawberry.field(description="The organisation's name.")
    slug: str = strawberry.field(description="Short unique name.")


@strawberry.type(description="You: the authenticated user, and what plugins attach to you (tasks, follows, ...).")
class Viewer:
    user_pk: strawberry.Private[int]
    organization_pk: strawberry.Private[int]

    @strawberry.field(description="Your user record.")
    async def user(self, info: strawberry.Info) -> User:
        context: OperationContext = info.context
        return await context.loaders["users_by_id"].load(self.user_pk)

    @strawberry.field(description="Your organisation.")
    async def organization(self, info: strawberry.Info) -> Organization:
        context: OperationContext = info.context
        from sqlalchemy import select

        async with context.read() as session:
            row = (
                await session.execute(
                    select(models.Organization.name, models.Organization.slug).where(models.Organization.id == self.organization_pk)
                )
            ).one()
        return Organization(name=row.name, slug=row.slug)


USER_COLUMNS = (
    models.User.id,
    models.User.name,
    models.User.handle,
    models.User.email,
    models.User.role,
    models.User.is_active,
)


def user_from_row(row: Any) -> User:
    return User(pk=row.id, name=row.name, handle=row.handle, email=row.email, role=row.role, is_active=row.is_active)

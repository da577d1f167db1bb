"""Admin mutations on users and teams."""

from __future__ import annotations

from typing import Annotated, TYPE_CHECKING

import strawberry
from sqlalchemy import delete, func, select

from fiche.accounts import models, services
from fiche.accounts.types import Role, Team, User
from fiche.cost import ensure_room
from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.live_access import access_changed
from fiche.relay import load_input_row

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["AccountMutations"]


@strawberry.input(description="A new user of your organisation.")
class UserCreateInput:
    name: str = strawberry.field(description="Full name.")
    email: str = strawberry.field(description="E-mail address, unique in the organisation.")
    handle: str = strawberry.field(description="`@handle`, unique in the organisation.")
    role: Role = strawberry.field(default=models.Role.MEMBER, description="Role; MEMBER by default.")


@strawberry.input(description="Changes to a user; fields left out stay as they are.")
class UserUpdateInput:
    id: strawberry.ID = strawberry.field(description="The user to change.")
    name: str | None = strawberry.field(default=None, description="New full name.")
    role: Role | None = strawberry.field(default=None, description="New role.")
    is_active: bool | None = strawberry.field(default=None, description="False deactivates the user.")


@strawberry.type(description="The outcome of a user mutation.")
class UserPayload:
    user: User | None = strawberry.field(default=None, description="The user, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a team mutation.")
class TeamPayload:
    team: Team | None = strawberry.field(default=None, description="The team, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


def _user(user: models.User) -> User:
    return User(pk=user.id, name=user.name, handle=user.handle, email=user.email, role=user.role, is_active=user.is_active)


async def _check_team_sizes(session: AsyncSession, team_id: int, wanted: set[int]) -> None:
    """The bounds ``Team.members`` and ``User.teams`` declare for the query cost."""
    if len(wanted) > services.MAX_TEAM_MEMBERS:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A team has at most {services.MAX_TEAM_MEMBERS} members.", "userIds")
    if not wanted:
        return
    membership = models.TeamMembership
    # Locking the users makes two teams changed at once count their memberships in turn.
    await session.execute(select(models.User.id).where(models.User.id.in_(wanted)).with_for_update())
    counts = await session.execute(
        select(membership.user_id, func.count())
        .where(membership.user_id.in_(wanted), membership.team_id != team_id)
        .group_by(membership.user_id)
    )
    if any(count >= services.MAX_TEAMS_PER_USER for _, count in counts.all()):
        raise UserErrors.one(
            ErrorCode.LIMIT_EXCEEDED, f"A user belongs to at most {services.MAX_TEAMS_PER_USER} teams.", "userIds"
        )


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Create a user (admins only).")
    async def user_create(self, info: strawberry.Info, input: Annotated[UserCreateInput, strawberry.argument(description="The new user.")]) -> UserPayload:
        context: OperationContext = info.context

        async def change() -> UserPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            user = await services.create_user(
                session, name=input.name, email=input.email, handle=input.handle, role=input.role, path=("input",)
            )
            return UserPayload(user=_user(user))

        return await context.mutate(change, UserPayload)

    @strawberry.mutation(description="Change a user's name, role or active flag (admins only).")
    async def user_update(self, info: strawberry.Info, input: Annotated[UserUpdateInput, strawberry.argument(description="The user and the changes.")]) -> UserPayload:
        context: OperationContext = info.context

        async def change() -> UserPayload:
            viewer = context.require_role_error(admin=True)
            session = await context.session()
            user = await load_input_row(session, models.User, input.id, "User", "input", "id", noun="user")
            if input.name is not None:
                user.name = services.check_name(input.name, "input", "name")
            if user.id == viewer.user_id and (input.is_active is False or (input.role not in (None, models.Role.ADMIN))):
                raise UserErrors.conflict("You cannot demote or deactivate yourself.", "input")
            access = (user.role, user.is_active)
            if input.role is not None:
                user.role = input.role
            if input.is_active is not None:
                user.is_active = input.is_active
            await session.flush()
            if (user.role, user.is_active) != access:
                access_changed(context, [user.id])
            return UserPayload(user=_user(user))

        return await context.mutate(change, UserPayload)

    @strawberry.mutation(description="Create a team (admins only).")
    async def team_create(self, info: strawberry.Info, name: Annotated[str, strawberry.argument(description="The team's name, unique in the organisation.")]) -> TeamPayload:
        context: OperationContext = info.context

        async def change() -> TeamPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            clean = services.check_name(name, "name")
            await ensure_room(
                session,
                select(func.count()).select_from(models.Team),
                services.MAX_TEAMS,
                f"An organisation has at most {services.MAX_TEAMS} teams.",
                "name",
            )
            if await session.scalar(select(func.count()).select_from(models.Team).where(models.Team.name == clean)):
                raise UserErrors.conflict(f"A team named {clean!r} exists already.", "name")
            team = models.Team(name=clean)
            session.add(team)
            await session.flush()
            return TeamPayload(team=Team(pk=team.id, name=team.name))

        return await context.mutate(change, TeamPayload)

    @strawberry.mutation(description="Replace the members of a team (admins only).")
    async def team_set_members(
        self,
        info: strawberry.Info,
        team_id: Annotated[strawberry.ID, strawberry.argument(description="The team.")],
        user_ids: Annotated[list[strawberry.ID], strawberry.argument(description="Every member the team should have.")],
    ) -> TeamPayload:
        context: OperationContext = info.context

        async def change() -> TeamPayload:
            context.require_role_error(admin=True)
            session = await context.session()
            team = await load_input_row(session, models.Team, team_id, "Team", "teamId", noun="team")
            wanted: set[int] = set()
            for index, global_id in enumerate(user_ids):
                user = await load_input_row(session, models.User, global_id, "User", "userIds", str(index), noun="user")
                wanted.add(user.id)
            await _check_team_sizes(session, team.id, wanted)
            members = set(
                (await session.scalars(select(models.TeamMembership.user_id).where(models.TeamMembership.team_id == team.id))).all()
            )
            await session.execute(delete(models.TeamMembership).where(models.TeamMembership.team_id == team.id))
            session.add_all(models.TeamMembership(team_id=team.id, user_id=user_id) for user_id in sorted(wanted))
            await session.flush()
            access_changed(context, members ^ wanted)  # who joined or left
            return TeamPayload(team=Team(pk=team.id, name=team.name))

        return await context.mutate(change, TeamPayload)

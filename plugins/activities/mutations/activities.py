"""Create, update and delete activities (A2)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import delete, select

from fiche.accounts import models as accounts
from fiche.db import utcnow
from fiche.directory import CustomerLocation, customer_locations
from fiche.errors import UserError, UserErrors
from fiche.files import remove_after_commit
from fiche.plugins.activities import models
from fiche.plugins.activities.common import answers, decode, fetch_activity, get_row
from fiche.plugins.activities.notifications import notify_followers
from fiche.plugins.activities.services.access import check_assignee, check_can_edit, check_team
from fiche.plugins.activities.services.sanitise import clean_description
from fiche.plugins.activities.services.timing import TimeEntry, resolve_times
from fiche.plugins.activities.types import Activity

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from fiche.context import OperationContext

__all__ = ["ActivityMutations", "ActivityPayload", "DeletePayload", "delete_activities"]

UNSET: Any = strawberry.UNSET


@strawberry.input(description="A new activity. Give the start with `startsAt` or `startsNow`, and the end with at most one of `endsAt`, `endsNow` or `durationMinutes` (none: it ends when it starts).")
class ActivityCreateInput:
    type_id: strawberry.ID = strawberry.field(description="The activity's type.")
    location_id: strawberry.ID = strawberry.field(description="The customer or branch concerned.")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="When it starts.")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="When it ends (not before the start).")
    starts_now: bool = strawberry.field(default=False, description="Quick entry: it starts now.")
    ends_now: bool = strawberry.field(default=False, description="Quick entry: it ends now.")
    duration_minutes: int | None = strawberry.field(default=None, description="Quick entry: it lasts 15, 30, 45 or 60 minutes from its start.")
    description: str | None = strawberry.field(default=None, description="Notes, as HTML; sanitised (scripts, styles and event handlers are removed).")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="Who is in charge; you by default. Someone else needs a manager or an admin.")
    team_id: strawberry.ID | None = strawberry.field(
        default=None, description="The team it counts for: one you belong to (a manager or an admin: any team); by default the assignee's team when they belong to exactly one."
    )
    contact_id: strawberry.ID | None = strawberry.field(default=None, description="The contact met or called; by default the location's preferred contact.")


@strawberry.input(description="Changes to an activity; fields left out stay as they are.")
class ActivityUpdateInput:
    id: strawberry.ID = strawberry.field(description="The activity to change.")
    type_id: strawberry.ID | None = strawberry.field(default=None, description="A new type.")
    location_id: strawberry.ID | None = strawberry.field(default=None, description="A new customer or branch (the contact is reset to its preferred contact unless `contactId` is given).")
    starts_at: dt.datetime | None = strawberry.field(default=None, description="A new start (the duration is kept unless the end is given too).")
    ends_at: dt.datetime | None = strawberry.field(default=None, description="A new end.")
    starts_now: bool = strawberry.field(default=False, description="Quick entry: it starts now.")
    ends_now: bool = strawberry.field(default=False, description="Quick entry: it ends now.")
    duration_minutes: int | None = strawberry.field(default=None, description="Quick entry: it lasts 15, 30, 45 or 60 minutes from its start.")
    description: str | None = strawberry.field(default=UNSET, description="New notes (HTML, sanitised); null clears them.")
    assignee_id: strawberry.ID | None = strawberry.field(default=None, description="A new assignee (someone else than you needs a manager or an admin).")
    team_id: strawberry.ID | None = strawberry.field(default=UNSET, description="A new team, one you belong to (a manager or an admin: any team); null clears it.")
    contact_id: strawberry.ID | None = strawberry.field(default=UNSET, description="A new contact of the location; null clears it.")


@strawberry.type(description="The outcome of an activity mutation.")
class ActivityPayload:
    activity: Activity | None = strawberry.field(default=None, description="The activity, when the mutation succeeded.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


@strawberry.type(description="The outcome of a deletion.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(default=None, description="The ID of what was deleted.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why it failed, if it did.")


async def _type(session: AsyncSession, global_id: str, *path: str) -> models.ActivityType:
    row = await get_row(session, models.ActivityType, global_id, "ActivityType", *path)
    if row.archived:
        raise UserErrors.invalid(f"The type {row.name!r} is archived.", *path)
    return row


async def _location(context: OperationContext, session: AsyncSession, global_id: str, *path: str) -> tuple[int, CustomerLocation | None]:
    pk = decode(global_id, "Customer", *path)
    if await context.load_node(global_id, "Customer") is None:
        raise UserErrors.not_found("No customer with this ID.", *path)
    return pk, (await customer_locations(context.pm, session, [pk])).get(pk)


async def _contact(context: OperationContext, global_id: str, location_pk: int, *path: str) -> int:
    pk = decode(global_id, "Contact", *path)
    contact = await context.load_node(global_id, "Contact")
    if contact is None:
        raise UserErrors.not_found("No contact with this ID.", *path)
    if getattr(contact, "customer_pk", None) != location_pk:
        raise UserErrors.invalid("This contact belongs to another customer or branch.", *path)
    return pk


async def _assignee(session: AsyncSession, global_id: str, *path: str) -> int:
    user = await get_row(session, accounts.User, global_id, "User", *path)
    if not user.is_active:
        raise UserErrors.invalid(f"{user.name} is deactivated.", *path)
    return user.id


async def _team(session: AsyncSession, global_id: str, *path: str) -> int:
    return (await get_row(session, accounts.Team, global_id, "Team", *path)).id


async def _default_team(session: AsyncSession, user_id: int) -> int | None:
    teams = (await session.scalars(select(accounts.TeamMembership.team_id).where(accounts.TeamMembership.user_id == user_id))).all()
    return teams[0] if len(teams) == 1 else None


async def delete_activities(context: OperationContext, session: AsyncSession, activity_ids: list[int]) -> list[str]:
    """Delete activities with their reports, checks, attachments and what other plugins
    attached to them (their notes, through ``subjects_deleted``); returns the storage keys
    of the attachments (the caller removes the files once the transaction commits)."""
    if not activity_ids:
        return []
    await answers(context.pm.hook.subjects_deleted(session=session, type_name="Activity", ids=activity_ids))
    keys = list(
        (await session.scalars(select(models.ActivityAttachment.storage_key).where(models.ActivityAttachment.activity_id.in_(activity_ids)))).all()
    )
    for child in (models.Report, models.LocationCheck, models.ActivityAttachment):
        await session.execute(delete(child).where(child.activity_id.in_(activity_ids)).execution_options(synchronize_session=False))
    await session.execute(delete(models.Activity).where(models.Activity.id.in_(activity_ids)).execution_options(synchronize_session=False))
    return keys


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(description="Record an activity with a customer or branch.")
    async def activity_create(self, info: strawberry.Info, input: Annotated[ActivityCreateInput, strawberry.argument(description="The activity to record.")]) -> ActivityPayload:
        context: OperationContext = info.context

        async def change() -> ActivityPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity_type = await _type(session, input.type_id, "input", "typeId")
            location_pk, location = await _location(context, session, input.location_id, "input", "locationId")
            entry = TimeEntry(input.starts_at, input.ends_at, input.starts_now, input.ends_now, input.duration_minutes)
            starts_at, ends_at = resolve_times(entry, now=utcnow())
            assignee = viewer.user_id if input.assignee_id is None else await _assignee(session, input.assignee_id, "input", "assigneeId")
            check_assignee(viewer, assignee, "input", "assigneeId")
            team = await _default_team(session, assignee)
            if input.team_id is not None:
                team = await _team(session, input.team_id, "input", "teamId")
                check_team(viewer, team, "input", "teamId")
            contact: int | None
            if input.contact_id is not None:
                contact = await _contact(context, input.contact_id, location_pk, "input", "contactId")
            else:
                contact = location.preferred_contact_id if location is not None else None
            activity = models.Activity(
                type_id=activity_type.id,
                location_id=location_pk,
                starts_at=starts_at,
                ends_at=ends_at,
                description=clean_description(input.description, "input", "description"),
                assignee_id=assignee,
                team_id=team,
                contact_id=contact,
            )
            session.add(activity)
            await session.flush()
            await notify_followers(context, session, activity, activity_type.name)
            return ActivityPayload(activity=await fetch_activity(session, activity.id))

        return await context.mutate(change, ActivityPayload)

    @strawberry.mutation(description="Change an activity (its assignee, its creator, a manager or an admin).")
    async def activity_update(self, info: strawberry.Info, input: Annotated[ActivityUpdateInput, strawberry.argument(description="The activity and the changes.")]) -> ActivityPayload:
        context: OperationContext = info.context

        async def change() -> ActivityPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, input.id, "Activity", "input", "id")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            if input.type_id is not None:
                activity.type_id = (await _type(session, input.type_id, "input", "typeId")).id
            location: CustomerLocation | None = None
            if input.location_id is not None:
                activity.location_id, location = await _location(context, session, input.location_id, "input", "locationId")
            entry = TimeEntry(input.starts_at, input.ends_at, input.starts_now, input.ends_now, input.duration_minutes)
            if entry.touches_start or entry.touches_end:
                activity.starts_at, activity.ends_at = resolve_times(entry, now=utcnow(), current=(activity.starts_at, activity.ends_at))
            if input.description is not UNSET:
                activity.description = clean_description(input.description, "input", "description")
            if input.assignee_id is not None:
                assignee = await _assignee(session, input.assignee_id, "input", "assigneeId")
                if assignee != activity.assignee_id:
                    check_assignee(viewer, assignee, "input", "assigneeId")
                activity.assignee_id = assignee
            if input.team_id is not UNSET:
                team = await _team(session, input.team_id, "input", "teamId") if input.team_id is not None else None
                if team is not None and team != activity.team_id:
                    check_team(viewer, team, "input", "teamId")
                activity.team_id = team
            if input.contact_id is not UNSET:
                activity.contact_id = (
                    await _contact(context, input.contact_id, activity.location_id, "input", "contactId") if input.contact_id is not None else None
                )
            elif input.location_id is not None:
                activity.contact_id = location.preferred_contact_id if location is not None else None
            await session.flush()
            return ActivityPayload(activity=await fetch_activity(session, activity.id))

        return await context.mutate(change, ActivityPayload)

    @strawberry.mutation(description="Delete an activity with its reports, GPS checks and attachments (its assignee, its creator, a manager or an admin).")
    async def activity_delete(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The activity to delete.")]
    ) -> DeletePayload:
        context: OperationContext = info.context

        async def change() -> DeletePayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, id, "Activity", "id")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            remove_after_commit(context, await delete_activities(context, session, [activity.id]))
            return DeletePayload(deleted_id=id)

        return await context.mutate(change, DeletePayload)

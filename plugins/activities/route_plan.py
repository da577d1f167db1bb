"""``routePlan(date, userId)`` (A8): a user's stops of the day from every plugin that
answers ``route_stops`` (this one's visits and meetings, the interventions plugin's
appointments), in a visiting order from the solver of :mod:`.services.routing`.

Whose day: your own; a manager or an admin any user's; a member or technician a colleague's
who shares a team with them (the calendar's rule, see :mod:`.calendar`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy import or_, select

from fiche.accounts import models as accounts
from fiche.accounts.types import User
from fiche.cost import list_size
from fiche.directory import customer_locations
from fiche.errors import ErrorCode, UserError, UserErrors
from fiche.interop import RouteStop
from fiche.org_settings import get_setting, organization_zone
from fiche.relay import Node, encode_id
from fiche.plugins.activities import models
from fiche.plugins.activities.calendar import visible_to
from fiche.plugins.activities.common import answers, decode
from fiche.plugins.activities.services.geo import valid_coordinates
from fiche.plugins.activities.services.routing import DEFAULT_SERVICE_S, SolverStop, plan_route
from fiche.plugins.activities.services.settings import ROUTE_SPEED

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["RoutePlanQueries", "activity_stops"]

# A day's stops, all plugins together: far beyond a working day, small enough to solve within a second.
MAX_ROUTE_STOPS = 60
# Activities done without travelling are not stops.
NO_TRAVEL = ("inbound_call", "outbound_call", "email", "sms")
NO_COORDINATES = "No coordinates: set them on the customer's primary address to place this stop."


def day_bounds(day: dt.date, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The day's first instant and the next day's, in UTC (23 or 25 hours on DST changes)."""
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def activity_stops(context: OperationContext, user_id: int, day: dt.date) -> list[RouteStop]:
    """This plugin's ``route_stops``: the user's activities starting that day that need a
    trip (not calls, e-mails or text messages), as the viewer may see them. Meetings are set
    with others: their time is fixed; visits may move."""
    viewer = context.require_viewer()
    start, end = day_bounds(day, await organization_zone(context))
    A, T = models.Activity, models.ActivityType
    stmt = visible_to(
        viewer,
        select(A.id, A.location_id, A.starts_at, A.ends_at, T.code, T.name)
        .join(T, T.id == A.type_id)
        .where(A.assignee_id == user_id, A.starts_at >= start, A.starts_at < end, or_(T.code.is_(None), T.code.not_in(NO_TRAVEL)))
        .order_by(A.starts_at, A.id),
    )
    async with context.read() as session:
        rows = (await session.execute(stmt)).all()
        locations = await customer_locations(context.pm, session, sorted({row.location_id for row in rows}))
    stops = []
    for row in rows:
        location = locations.get(row.location_id)
        stops.append(
            RouteStop(
                global_id=encode_id("Activity", row.id),
                title=f"{row.name} · {location.display_name}" if location is not None else row.name,
                customer_id=row.location_id,
                latitude=location.latitude if location is not None else None,
                longitude=location.longitude if location is not None else None,
                start=row.starts_at,
                end=row.ends_at,
                fixed=row.code == "meeting",
            )
        )
    return stops


@strawberry.type(description="A stop of a planned route, in visiting order.")
class RoutePlanStop:
    subject_id: strawberry.ID = strawberry.field(description="Global ID of what the stop is (an `Activity`, an intervention...).")
    customer_pk: strawberry.Private[int | None]
    position: int = strawberry.field(description="Its rank in the visiting order, from 1.")
    title: str = strawberry.field(description="What the stop is, ready to display.")
    latitude: float = strawberry.field(description="Latitude, WGS 84 degrees.")
    longitude: float = strawberry.field(description="Longitude, WGS 84 degrees.")
    start: dt.datetime | None = strawberry.field(description="Its planned start, if any.")
    end: dt.datetime | None = strawberry.field(description="Its planned end, if any.")
    fixed: bool = strawberry.field(description="Whether its time is fixed (the route arrives by then, waiting if early).")
    distance_from_previous_meters: float = strawberry.field(description="Great-circle distance from the previous stop (0 for the first).")
    estimated_arrival: dt.datetime = strawberry.field(description="When the route reaches it at the plan's speed, the day starting at the first stop's time.")

    @strawberry.field(description="What the stop is (an `Activity`, an intervention...), when you may see it.")
    async def subject(self, info: strawberry.Info) -> Node | None:
        return await info.context.load_node(self.subject_id)

    @strawberry.field(description="The customer visited (a `Customer`), if any.")
    async def customer(self, info: strawberry.Info) -> Node | None:
        return None if self.customer_pk is None else await info.context.load_node(encode_id("Customer", self.customer_pk))


@strawberry.type(description="A stop of the day that the route could not place, with the reason.")
class UnplacedStop:
    subject_id: strawberry.ID = strawberry.field(description="Global ID of what the stop is.")
    title: str = strawberry.field(description="What the stop is, ready to display.")
    start: dt.datetime | None = strawberry.field(description="Its planned start, if any.")
    reason: str = strawberry.field(description="Why it is not in the route.")

    @strawberry.field(description="What the stop is, when you may see it.")
    async def subject(self, info: strawberry.Info) -> Node | None:
        return await info.context.load_node(self.subject_id)


@strawberry.type(description="A day's route (A8): the stops in a visiting order that shortens the trip, and the day as planned for comparison.")
class RoutePlan:
    date: dt.date = strawberry.field(description="The day, in the organisation's time zone.")
    user: User = strawberry.field(description="Whose day it is.")
    speed_kmh: float = strawberry.field(description="The average speed that turns distances into travel times (`activities.route_speed_kmh`).")
    optimized: bool = strawberry.field(
        description="True when the solver placed every stop and the order given is the shorter of its order and the planned one; false when the planned order was kept for a reason (`note`)."
    )
    note: str | None = strawberry.field(description="Why the planned order was kept, when it was.")
    stops: list[RoutePlanStop] = strawberry.field(metadata=list_size(MAX_ROUTE_STOPS), description="The stops with coordinates, in visiting order.")
    total_distance_meters: float = strawberry.field(description="Great-circle length of the route in that order, first stop to last.")
    planned_total_distance_meters: float = strawberry.field(description="Great-circle length of the same stops in the order as planned (by start time; stops without one last).")
    unplaced: list[UnplacedStop] = strawberry.field(metadata=list_size(MAX_ROUTE_STOPS), description="Stops left out of the route (no coordinates), with the reason.")


@strawberry.type(description="The outcome of `routePlan`.")
class RoutePlanPayload:
    plan: RoutePlan | None = strawberry.field(default=None, description="The route, when it could be planned.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why not, if it could not.")


async def _check_day_owner(context: OperationContext, user_id: int) -> User:
    viewer = context.require_viewer()
    async with context.read() as session:
        U = accounts.User
        user = (await session.execute(select(U.id, U.name, U.handle, U.email, U.role, U.is_active).where(U.id == user_id))).one_or_none()
        teams = set((await session.scalars(select(accounts.TeamMembership.team_id).where(accounts.TeamMembership.user_id == user_id))).all())
    if user is None:
        raise UserErrors.not_found("No user with this ID.", "userId")
    if user_id != viewer.user_id and not viewer.is_manager and not teams & viewer.team_ids:
        raise UserErrors.forbidden("You can plan the day of a colleague who shares a team with you (a manager or an admin: anyone's).", "userId")
    return User(pk=user.id, name=user.name, handle=user.handle, email=user.email, role=user.role, is_active=user.is_active)


def _seconds(moment: dt.datetime | None, day_start: dt.datetime) -> int | None:
    return None if moment is None else max(0, int((moment - day_start).total_seconds()))


async def plan_day(context: OperationContext, user_id: int, day: dt.date) -> RoutePlan:
    user = await _check_day_owner(context, user_id)
    stops: list[RouteStop] = [stop for answer in await answers(context.pm.hook.route_stops(context=context, user_id=user_id, day=day)) for stop in answer or ()]
    if len(stops) > MAX_ROUTE_STOPS:
        raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"A day has at most {MAX_ROUTE_STOPS} stops to plan; this one has {len(stops)}.", "date")
    placed = [stop for stop in stops if valid_coordinates(stop.latitude, stop.longitude)]
    unplaced = [UnplacedStop(subject_id=strawberry.ID(stop.global_id), title=stop.title, start=stop.start, reason=NO_COORDINATES) for stop in stops if stop not in placed]
    day_start, _ = day_bounds(day, await organization_zone(context))
    solver_stops = [
        SolverStop(
            latitude=float(stop.latitude),  # type: ignore[arg-type]
            longitude=float(stop.longitude),  # type: ignore[arg-type]
            start=_seconds(stop.start, day_start),
            service=max(0, int((stop.end - stop.start).total_seconds())) if stop.start is not None and stop.end is not None else DEFAULT_SERVICE_S,
            fixed=stop.fixed and stop.start is not None,
        )
        for stop in placed
    ]
    speed = float(await get_setting(context, ROUTE_SPEED))
    # CPU-bound (VROOM in C++): off the event loop.
    route = await asyncio.to_thread(plan_route, solver_stops, speed)
    ordered = [
        RoutePlanStop(
            subject_id=strawberry.ID(placed[index].global_id), customer_pk=placed[index].customer_id, position=rank + 1,
            title=placed[index].title, latitude=solver_stops[index].latitude, longitude=solver_stops[index].longitude,
            start=placed[index].start, end=placed[index].end, fixed=solver_stops[index].fixed,
            distance_from_previous_meters=round(route.legs[rank], 1),
            estimated_arrival=day_start + dt.timedelta(seconds=route.arrivals[rank]),
        )
        for rank, index in enumerate(route.order)
    ]  # fmt: skip
    return RoutePlan(
        date=day, user=user, speed_kmh=speed, optimized=route.optimized, note=route.note, stops=ordered,
        total_distance_meters=round(route.total, 1), planned_total_distance_meters=round(route.planned_total, 1), unplaced=unplaced,
    )  # fmt: skip


@strawberry.type
class RoutePlanQueries:
    @strawberry.field(
        description="A day's route (A8): the user's stops from every plugin (visits, meetings, appointments) in an order that shortens the trip "
        "on great-circle distances, arriving in time at fixed appointments (VROOM). Your day by default; a colleague's who shares a team "
        "with you; anyone's for managers and admins."
    )
    async def route_plan(
        self,
        info: strawberry.Info,
        date: Annotated[dt.date, strawberry.argument(description="The day, in the organisation's time zone.")],
        user_id: Annotated[strawberry.ID | None, strawberry.argument(description="Whose day; yours when left out.")] = None,
    ) -> RoutePlanPayload:
        context: OperationContext = info.context
        viewer = context.require_viewer()
        try:
            user_pk = viewer.user_id if user_id is None else decode(user_id, "User", "userId")
            return RoutePlanPayload(plan=await plan_day(context, user_pk, date))
        except UserErrors as exc:
            return RoutePlanPayload(errors=list(exc.errors))

"""GPS check-in of an activity (A5)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated

import strawberry

from fiche.db import utcnow
from fiche.directory import customer_locations
from fiche.errors import UserError, UserErrors
from fiche.org_settings import get_setting
from fiche.plugins.activities import models
from fiche.plugins.activities.common import fetch_activity, get_row
from fiche.plugins.activities.enums import GpsStatus
from fiche.plugins.activities.services.access import check_can_edit
from fiche.plugins.activities.services.geo import distance_m, status_for, valid_coordinates, window_bounds
from fiche.plugins.activities.services.settings import GPS_ENABLED, GPS_RADIUS, GPS_WINDOW
from fiche.plugins.activities.types import Activity, LocationCheck

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = ["GpsMutations"]


@strawberry.input(description="The position of the device, sent to verify an activity.")
class ActivityVerifyLocationInput:
    id: strawberry.ID = strawberry.field(description="The activity.")
    latitude: float = strawberry.field(description="Latitude in degrees (-90 to 90).")
    longitude: float = strawberry.field(description="Longitude in degrees (-180 to 180).")
    accuracy: float = strawberry.field(description="Accuracy reported by the device, in metres (recorded with the check).")


@strawberry.type(description="The outcome of `activityVerifyLocation`.")
class ActivityVerificationPayload:
    activity: Activity | None = strawberry.field(default=None, description="The activity with its new GPS status.")
    check: LocationCheck | None = strawberry.field(default=None, description="The check recorded: position, distance, time, outcome.")
    errors: list[UserError] = strawberry.field(default_factory=list, description="Why the check was refused, if it was.")


@strawberry.type
class GpsMutations:
    @strawberry.mutation(
        description="Check in at an activity's location: VERIFIED within the organisation's radius (`activities.gps_radius_m`), OUT_OF_RANGE beyond. Accepted from `activities.gps_window_minutes` before the start to as long after the end. Once VERIFIED, an activity stays verified; every check is recorded. Refused (CONFLICT) when the organisation switched GPS verification off (`activities.gps_verification`)."
    )
    async def activity_verify_location(self, info: strawberry.Info, input: Annotated[ActivityVerifyLocationInput, strawberry.argument(description="The activity and the device's position.")]) -> ActivityVerificationPayload:
        context: OperationContext = info.context

        async def change() -> ActivityVerificationPayload:
            viewer = context.require_viewer()
            session = await context.session()
            activity = await get_row(session, models.Activity, input.id, "Activity", "input", "id")
            check_can_edit(viewer, assignee_id=activity.assignee_id, created_by_id=activity.created_by_id)
            if not await get_setting(context, GPS_ENABLED):
                raise UserErrors.conflict("GPS verification is switched off in your organisation (setting `activities.gps_verification`).", "input", "id")
            if not valid_coordinates(input.latitude, input.longitude):
                raise UserErrors.invalid("The position is not a valid latitude / longitude pair.", "input", "latitude")
            if not math.isfinite(input.accuracy) or input.accuracy < 0:
                raise UserErrors.invalid("The accuracy is a distance in metres, zero or more.", "input", "accuracy")
            location = (await customer_locations(context.pm, session, [activity.location_id])).get(activity.location_id)
            if location is None or not valid_coordinates(location.latitude, location.longitude):
                raise UserErrors.conflict(
                    "The customer has no valid coordinates: set them on its primary address, then check in again.", "input", "id"
                )
            now = utcnow()
            opens, closes = window_bounds(activity.starts_at, activity.ends_at, int(await get_setting(context, GPS_WINDOW)))
            if not opens <= now <= closes:
                when = "has not opened yet" if now < opens else "is closed"
                raise UserErrors.conflict(
                    f"The check-in window of this activity {when}: it runs from {opens:%Y-%m-%d %H:%M} to {closes:%Y-%m-%d %H:%M} UTC.",
                    "input",
                    "id",
                )
            assert location.latitude is not None and location.longitude is not None
            distance = distance_m(input.latitude, input.longitude, location.latitude, location.longitude)
            status = status_for(distance, float(await get_setting(context, GPS_RADIUS)))
            check = models.LocationCheck(
                activity_id=activity.id,
                user_id=viewer.user_id,
                latitude=input.latitude,
                longitude=input.longitude,
                accuracy_m=input.accuracy,
                distance_m=round(distance, 1),
                status=status,
                checked_at=now,
            )
            session.add(check)
            if activity.gps_status is not GpsStatus.VERIFIED:
                activity.gps_status = status
            await session.flush()
            return ActivityVerificationPayload(
                activity=await fetch_activity(session, activity.id),
                check=LocationCheck(
                    checked_by_pk=viewer.user_id,
                    latitude=check.latitude,
                    longitude=check.longitude,
                    accuracy=check.accuracy_m,
                    distance_meters=check.distance_m,
                    status=status,
                    checked_at=now,
                ),
            )

        return await context.mutate(change, ActivityVerificationPayload)

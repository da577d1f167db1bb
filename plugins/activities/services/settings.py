"""The organisation settings the activities plugin reads (``register_settings``)."""

from __future__ import annotations

from fiche.org_settings import OrganizationSettingSpec

__all__ = ["GPS_ENABLED", "GPS_RADIUS", "GPS_WINDOW", "REPORT_TIME_LIMIT", "ROUTE_SPEED", "SETTINGS"]

GPS_ENABLED = "activities.gps_verification"
GPS_RADIUS = "activities.gps_radius_m"
GPS_WINDOW = "activities.gps_window_minutes"
REPORT_TIME_LIMIT = "activities.report_time_limit_hours"
ROUTE_SPEED = "activities.route_speed_kmh"

SETTINGS: tuple[OrganizationSettingSpec, ...] = (
    OrganizationSettingSpec(
        key=GPS_ENABLED,
        type=bool,
        default=True,
        description="GPS verification of activities (\"si activée\"): when false, `activityVerifyLocation` is refused and no position is recorded.",
    ),
    OrganizationSettingSpec(
        key=GPS_RADIUS,
        type=int,
        default=200,
        description="GPS verification: the largest distance, in metres, between the position sent and the location.",
        minimum=1,
        maximum=100_000,
    ),
    OrganizationSettingSpec(
        key=GPS_WINDOW,
        type=int,
        default=60,
        description="GPS verification: minutes before the start and after the end of an activity when a check is accepted.",
        minimum=0,
        maximum=7 * 24 * 60,
    ),
    OrganizationSettingSpec(
        key=REPORT_TIME_LIMIT,
        type=int,
        default=72,
        description="Hours after the end of an activity during which reports are accepted (0: no limit).",
        minimum=0,
        maximum=24 * 366,
    ),
    OrganizationSettingSpec(
        key=ROUTE_SPEED,
        type=int,
        default=40,
        description="Route planning: the average speed, in km/h, that turns great-circle distances between stops into travel times.",
        minimum=5,
        maximum=130,
    ),
)

"""GPS verification rules (A5): great-circle distance, coordinate validity, time window."""

from __future__ import annotations

import datetime as dt
import math

from fiche.plugins.activities.enums import GpsStatus

__all__ = ["EARTH_RADIUS_M", "distance_m", "status_for", "valid_coordinates", "window_bounds", "within_window"]

# Mean Earth radius (IUGG), the usual choice for the haversine formula.
EARTH_RADIUS_M = 6_371_008.8


def valid_coordinates(latitude: float | None, longitude: float | None) -> bool:
    """Both present, finite and in range."""
    if latitude is None or longitude is None:
        return False
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return False
    return -90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0


def distance_m(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle distance in metres (haversine formula)."""
    phi1, phi2 = math.radians(latitude1), math.radians(latitude2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(longitude2 - longitude1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def window_bounds(starts_at: dt.datetime, ends_at: dt.datetime, window_minutes: int) -> tuple[dt.datetime, dt.datetime]:
    """From ``window`` before the start to ``window`` after the end."""
    margin = dt.timedelta(minutes=window_minutes)
    return starts_at - margin, ends_at + margin


def within_window(now: dt.datetime, starts_at: dt.datetime, ends_at: dt.datetime, window_minutes: int) -> bool:
    opens, closes = window_bounds(starts_at, ends_at, window_minutes)
    return opens <= now <= closes


def status_for(distance: float, radius_m: float) -> GpsStatus:
    """VERIFIED within the radius (inclusive), OUT_OF_RANGE beyond it."""
    return GpsStatus.VERIFIED if distance <= radius_m else GpsStatus.OUT_OF_RANGE

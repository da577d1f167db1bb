"""GPS verification (A5): VERIFIED within the organisation's radius and time window,
OUT_OF_RANGE beyond the radius, NOT_VERIFIED until checked; clear errors without
coordinates or outside the window; every check recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.plugins.activities.fixtures import activity, customer, set_setting
from tests.support import TestOrg

BELLECOUR = (45.7578, 4.8320)
VERIFY = """
mutation ($input: ActivityVerifyLocationInput!) {
  activityVerifyLocation(input: $input) {
    activity { id gpsStatus locationCheck { latitude longitude accuracy distanceMeters status checkedAt checkedBy { name } } }
    check { latitude longitude accuracy distanceMeters status checkedAt }
    errors { code message path }
  }
}
"""
STATUS = "query ($id: ID!) { node(id: $id) { ... on Activity { gpsStatus locationCheck { status } } } }"


async def visit(org: TestOrg, *, coordinates: tuple[float, float] | None = BELLECOUR, started: dt.timedelta = dt.timedelta(minutes=10), as_: str = "admin") -> str:
    """A one-hour visit that started ``started`` ago at a customer with those coordinates."""
    location = await customer(org, latitude=coordinates[0] if coordinates else None, longitude=coordinates[1] if coordinates else None)
    start = dt.datetime.now(dt.UTC) - started
    return str((await activity(org, location, starts_at=start, ends_at=start + dt.timedelta(hours=1), as_=as_))["id"])


async def verify(org: TestOrg, activity_id: str, latitude: float, longitude: float, accuracy: float = 8.0, as_: str = "admin") -> dict[str, Any]:
    variables = {"input": {"id": activity_id, "latitude": latitude, "longitude": longitude, "accuracy": accuracy}}
    return dict((await org.ok(VERIFY, variables, as_=as_))["activityVerifyLocation"])


def errors(payload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(error["code"], error["path"]) for error in payload["errors"]]


async def test_a_new_activity_is_not_verified(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    # when
    node = (await org.ok(STATUS, {"id": activity_id}))["node"]
    # then
    assert node == {"gpsStatus": "NOT_VERIFIED", "locationCheck": None}


async def test_a_position_within_the_radius_verifies_the_activity(org: TestOrg) -> None:
    # given: about 50 m north of the customer
    activity_id = await visit(org, as_="member")
    before = dt.datetime.now(dt.UTC)
    # when
    payload = await verify(org, activity_id, BELLECOUR[0] + 0.00045, BELLECOUR[1], accuracy=12.5, as_="member")
    # then
    assert payload["errors"] == [] and payload["activity"]["gpsStatus"] == "VERIFIED"
    check = payload["activity"]["locationCheck"]
    assert (check["latitude"], check["longitude"], check["accuracy"], check["status"], check["checkedBy"]["name"]) == (
        BELLECOUR[0] + 0.00045, BELLECOUR[1], 12.5, "VERIFIED", "Member Test",
    )  # fmt: skip
    assert 45 < check["distanceMeters"] < 55
    assert before - dt.timedelta(seconds=1) <= dt.datetime.fromisoformat(check["checkedAt"]) <= dt.datetime.now(dt.UTC)


async def test_a_position_beyond_the_radius_is_out_of_range(org: TestOrg) -> None:
    # given: about 1.1 km away
    activity_id = await visit(org)
    # when
    payload = await verify(org, activity_id, BELLECOUR[0] + 0.01, BELLECOUR[1])
    # then
    assert payload["activity"]["gpsStatus"] == "OUT_OF_RANGE" and payload["check"]["status"] == "OUT_OF_RANGE"
    assert 1000 < payload["check"]["distanceMeters"] < 1200


async def test_the_organisation_sets_its_radius(org: TestOrg) -> None:
    # given: about 1.1 km away, the organisation accepts 2 km
    await set_setting(org, "activities.gps_radius_m", 2000)
    activity_id = await visit(org)
    # when
    payload = await verify(org, activity_id, BELLECOUR[0] + 0.01, BELLECOUR[1])
    # then
    assert payload["activity"]["gpsStatus"] == "VERIFIED"


async def test_a_check_after_the_window_is_refused(org: TestOrg) -> None:
    # given: the visit ended 90 minutes ago; the window closes 60 minutes after the end
    activity_id = await visit(org, started=dt.timedelta(minutes=150))
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "id"])] and "is closed" in payload["errors"][0]["message"]
    assert (await org.ok(STATUS, {"id": activity_id}))["node"] == {"gpsStatus": "NOT_VERIFIED", "locationCheck": None}


async def test_a_check_before_the_window_is_refused(org: TestOrg) -> None:
    # given: the visit starts in 2 hours; the window opens 60 minutes before
    activity_id = await visit(org, started=-dt.timedelta(hours=2))
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "id"])] and "has not opened yet" in payload["errors"][0]["message"]


async def test_a_check_inside_the_window_just_before_the_start_is_accepted(org: TestOrg) -> None:
    # given: the visit starts in 30 minutes
    activity_id = await visit(org, started=-dt.timedelta(minutes=30))
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert payload["errors"] == [] and payload["check"]["distanceMeters"] == 0


async def test_the_organisation_sets_its_window(org: TestOrg) -> None:
    # given: ended 90 minutes ago, the organisation allows 2 hours after the end
    await set_setting(org, "activities.gps_window_minutes", 120)
    activity_id = await visit(org, started=dt.timedelta(minutes=150))
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert payload["activity"]["gpsStatus"] == "VERIFIED"


async def test_a_customer_without_coordinates_gives_a_clear_error(org: TestOrg) -> None:
    # given
    activity_id = await visit(org, coordinates=None)
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert errors(payload) == [("CONFLICT", ["input", "id"])] and "no valid coordinates" in payload["errors"][0]["message"]


async def test_an_invalid_position_is_refused(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    # when
    payload = await verify(org, activity_id, 95.0, 4.0)
    # then
    assert errors(payload) == [("INVALID", ["input", "latitude"])]


async def test_a_negative_accuracy_is_refused(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    # when
    payload = await verify(org, activity_id, *BELLECOUR, accuracy=-1)
    # then
    assert errors(payload) == [("INVALID", ["input", "accuracy"])]


async def test_a_verified_activity_stays_verified_and_the_later_check_is_recorded(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    await verify(org, activity_id, *BELLECOUR)
    # when
    payload = await verify(org, activity_id, BELLECOUR[0] + 0.05, BELLECOUR[1])
    # then
    assert payload["activity"]["gpsStatus"] == "VERIFIED" and payload["activity"]["locationCheck"]["status"] == "OUT_OF_RANGE"


async def test_out_of_range_then_within_the_radius_becomes_verified(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    await verify(org, activity_id, BELLECOUR[0] + 0.05, BELLECOUR[1])
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert payload["activity"]["gpsStatus"] == "VERIFIED"


async def test_a_colleague_cannot_check_in_for_someone_elses_activity(org: TestOrg) -> None:
    # given
    activity_id = await visit(org, as_="member")
    # when
    payload = await verify(org, activity_id, *BELLECOUR, as_="member2")
    # then
    assert [error["code"] for error in payload["errors"]] == ["FORBIDDEN"]


async def test_gps_settings_are_registered_with_their_defaults(org: TestOrg) -> None:
    # when
    data = await org.ok("{ organizationSettings { key value default } }")
    # then
    settings = {row["key"]: (row["value"], row["default"]) for row in data["organizationSettings"]}
    assert {key: settings[key] for key in ("activities.gps_radius_m", "activities.gps_window_minutes", "activities.report_time_limit_hours")} == {
        "activities.gps_radius_m": (200, 200),
        "activities.gps_window_minutes": (60, 60),
        "activities.report_time_limit_hours": (72, 72),
    }


async def test_an_organisation_that_switched_gps_verification_off_records_no_check(org: TestOrg) -> None:
    # given
    activity_id = await visit(org, as_="member")
    await set_setting(org, "activities.gps_verification", False)
    # when
    payload = await verify(org, activity_id, *BELLECOUR, as_="member")
    # then
    node = (await org.ok(STATUS, {"id": activity_id}))["node"]
    assert errors(payload) == [("CONFLICT", ["input", "id"])] and "switched off" in payload["errors"][0]["message"]
    assert node == {"gpsStatus": "NOT_VERIFIED", "locationCheck": None}


async def test_switching_gps_verification_back_on_accepts_checks_again(org: TestOrg) -> None:
    # given
    activity_id = await visit(org)
    await set_setting(org, "activities.gps_verification", False)
    await set_setting(org, "activities.gps_verification", True)
    # when
    payload = await verify(org, activity_id, *BELLECOUR)
    # then
    assert payload["errors"] == [] and payload["activity"]["gpsStatus"] == "VERIFIED"

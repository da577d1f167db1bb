"""``routePlan(date, userId)`` (A8) end to end: the day's visits and meetings of a user and
the stops another plugin contributes through ``route_stops`` in one route; the order as
planned compared; stops without coordinates listed apart; calls left out; whose day one may
plan; a constant number of statements whatever the number of stops."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from fiche import hookimpl
from fiche.interop import RouteStop
from fiche.relay import encode_id
from tests.plugins.activities.fixtures import activity, customer
from tests.support import TestOrg, count_statements

ROUTE = """
query ($date: Date!, $userId: ID) {
  routePlan(date: $date, userId: $userId) {
    plan {
      date speedKmh optimized note totalDistanceMeters plannedTotalDistanceMeters user { handle }
      stops { position subjectId title fixed start distanceFromPreviousMeters estimatedArrival subject { id } customer { id } }
      unplaced { subjectId title reason subject { id } }
    }
    errors { code message path }
  }
}
"""
DAY = dt.date(2026, 3, 3)  # a Tuesday; Europe/Paris is UTC+1 then
PARIS = dt.timezone(dt.timedelta(hours=1))
# West to east across Lyon, about 2 km apart.
INTERVENTION = encode_id("Intervention", 77)  # a type no installed plugin resolves: its subject is null
POINTS = [(45.7640, 4.8050), (45.7640, 4.8300), (45.7640, 4.8550), (45.7640, 4.8800), (45.7640, 4.9050)]


class Appointments:
    """A stand-in for the interventions plugin: a fixed appointment for member at 13:00."""

    calls: list[tuple[int, dt.date]] = []

    @hookimpl
    def route_stops(self, context: Any, user_id: int, day: dt.date) -> list[RouteStop]:
        self.calls.append((user_id, day))
        start = dt.datetime.combine(day, dt.time(13, 0), PARIS)
        return [RouteStop(global_id=INTERVENTION, title="Boiler maintenance", customer_id=None, latitude=45.7640, longitude=4.8425,
                          start=start, end=start + dt.timedelta(hours=1), fixed=True)]  # fmt: skip


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return [("appointments", Appointments())]


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), PARIS)


async def visit(org: TestOrg, point: tuple[float, float] | None, hour: int, who: str = "member", type: str = "visit", name: str = "Client") -> str:
    location = await customer(org, name, latitude=point[0] if point else None, longitude=point[1] if point else None)
    start = at(hour)
    created = await activity(org, location, type=type, starts_at=start, ends_at=start + dt.timedelta(minutes=45), assigneeId=encode_id("User", org.users[who].id))
    return str(created["id"])


async def route(org: TestOrg, as_: str = "member", **variables: Any) -> dict[str, Any]:
    return dict((await org.ok(ROUTE, {"date": DAY.isoformat()} | variables, as_=as_))["routePlan"])


async def test_hook_route_stops_a_zigzag_day_becomes_one_line_with_the_other_plugins_appointment(org: TestOrg) -> None:
    # given: visits planned zigzagging across town (points 0, 4, 1, 3) and a fixed 13:00 appointment
    zigzag = [await visit(org, POINTS[index], hour) for index, hour in ((0, 9), (4, 10), (1, 11), (3, 14))]
    # when
    payload = await route(org)
    # then
    plan = payload["plan"]
    assert payload["errors"] == [] and plan["optimized"] and plan["user"]["handle"] == "member"
    assert Appointments.calls[-1] == (org.users["member"].id, DAY)
    order = [stop["subjectId"] for stop in plan["stops"]]
    assert set(order) == {*zigzag, INTERVENTION} and len(order) == 5
    assert plan["totalDistanceMeters"] < plan["plannedTotalDistanceMeters"]
    assert plan["totalDistanceMeters"] == pytest.approx(sum(stop["distanceFromPreviousMeters"] for stop in plan["stops"]), abs=0.5)
    # west to east or east to west: a line, the appointment between points 1 and 3 as it lies
    lines = ([zigzag[0], zigzag[2], INTERVENTION, zigzag[3], zigzag[1]], [zigzag[1], zigzag[3], INTERVENTION, zigzag[2], zigzag[0]])
    assert order in [list(line) for line in lines]
    appointment = next(stop for stop in plan["stops"] if stop["subjectId"] == INTERVENTION)
    assert appointment["fixed"] and dt.datetime.fromisoformat(appointment["estimatedArrival"]) <= at(13)


async def test_stops_without_coordinates_are_listed_apart_with_the_reason(org: TestOrg) -> None:
    # given
    placed = await visit(org, POINTS[0], 9)
    lost = await visit(org, None, 10, name="Sans adresse")
    # when
    plan = (await route(org))["plan"]
    # then
    assert {stop["subjectId"] for stop in plan["stops"]} == {placed, INTERVENTION}
    assert [(stop["subjectId"], stop["subject"]["id"]) for stop in plan["unplaced"]] == [(lost, lost)]
    assert "No coordinates" in plan["unplaced"][0]["reason"]


async def test_calls_other_users_and_other_days_are_not_stops(org: TestOrg) -> None:
    # given
    mine = await visit(org, POINTS[0], 9)
    await visit(org, POINTS[1], 10, type="outbound_call")
    await visit(org, POINTS[2], 11, who="member2")
    location = await customer(org, "Demain", latitude=POINTS[3][0], longitude=POINTS[3][1])
    await activity(org, location, starts_at=at(9, day=DAY + dt.timedelta(days=1)), assigneeId=encode_id("User", org.users["member"].id))
    # when
    plan = (await route(org))["plan"]
    # then
    assert {stop["subjectId"] for stop in plan["stops"]} == {mine, INTERVENTION} and plan["unplaced"] == []


async def test_a_meeting_is_a_fixed_stop_and_a_visit_may_move(org: TestOrg) -> None:
    # given
    meeting = await visit(org, POINTS[0], 9, type="meeting")
    moving = await visit(org, POINTS[4], 10)
    # when
    plan = (await route(org))["plan"]
    # then
    fixed = {stop["subjectId"]: stop["fixed"] for stop in plan["stops"]}
    assert fixed == {meeting: True, moving: False, INTERVENTION: True}


async def test_whose_day_one_may_plan(org: TestOrg, other_org: TestOrg) -> None:
    # when: member shares North with manager, not South with member2
    teammate = await route(org, userId=encode_id("User", org.users["manager"].id))
    outsider = await route(org, userId=encode_id("User", org.users["member2"].id))
    by_manager = await route(org, as_="admin", userId=encode_id("User", org.users["member2"].id))
    stranger = await route(org, userId=encode_id("User", other_org.users["member"].id))
    # then
    assert teammate["errors"] == [] and teammate["plan"]["user"]["handle"] == "manager"
    assert outsider["plan"] is None and [(e["code"], e["path"]) for e in outsider["errors"]] == [("FORBIDDEN", ["userId"])]
    assert by_manager["errors"] == [] and stranger["plan"] is None
    assert [(e["code"], e["path"]) for e in stranger["errors"]] == [("NOT_FOUND", ["userId"])]


async def test_a_day_with_no_stop_of_its_own_is_just_the_appointment(org: TestOrg) -> None:
    # when
    plan = (await route(org))["plan"]
    # then
    assert [stop["subjectId"] for stop in plan["stops"]] == [INTERVENTION]
    assert (plan["totalDistanceMeters"], plan["plannedTotalDistanceMeters"]) == (0.0, 0.0)


async def test_the_plan_costs_the_same_statements_for_2_or_10_stops(org: TestOrg) -> None:
    # given: ten visits on DAY, two a week later
    later = DAY + dt.timedelta(days=7)
    member = encode_id("User", org.users["member"].id)
    for index in range(12):
        day = DAY if index < 10 else later
        location = await customer(org, f"Client {index}", latitude=45.70 + index * 0.01, longitude=4.80 + (index % 3) * 0.02)
        await activity(org, location, starts_at=at(8 + index % 9, day=day), assigneeId=member)
    # when
    with count_statements(org.state.db) as ten:
        many = (await route(org))["plan"]
    with count_statements(org.state.db) as two:
        few = (await route(org, date=later.isoformat()))["plan"]
    # then
    assert (len(many["stops"]), len(few["stops"])) == (11, 3)
    assert ten.count == two.count, (ten.statements, two.statements)


class Flood:
    """A plugin that answers more stops than a day can hold."""

    @hookimpl
    def route_stops(self, context: Any, user_id: int, day: dt.date) -> list[RouteStop]:
        return [RouteStop(global_id=encode_id("Intervention", index), title=f"Stop {index}", customer_id=None, latitude=45.0 + index / 1000,
                          longitude=4.8, start=None, end=None, fixed=False) for index in range(61)]  # fmt: skip


class TestTooManyStops:
    @pytest.fixture
    def plugins(self) -> list[tuple[str, Any]]:
        return [("flood", Flood())]

    async def test_a_day_with_more_stops_than_the_limit_is_refused(self, org: TestOrg) -> None:
        # when
        payload = await route(org)
        # then
        assert payload["plan"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("LIMIT_EXCEEDED", ["date"])]

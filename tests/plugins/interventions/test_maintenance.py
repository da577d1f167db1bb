"""Maintenance plans (I5): an RFC 5545 recurrence checked on input and expanded only
within the period asked (bounded), visits DONE / PLANNED / UNPLANNED, and scheduling a
visit creates its intervention."""

from __future__ import annotations

import time
from typing import Any

from tests.plugins.interventions.fixtures import address, customer, intervention_type, user_id
from tests.support import TestOrg, count_statements

PLAN_CREATE = """
mutation ($input: MaintenancePlanCreateInput!) {
  maintenancePlanCreate(input: $input) {
    plan { id name recurrence startsOn endsOn assignedUser { id } equipment { name } interventionType { name } customer { id } }
    errors { code message path }
  }
}
"""
SCHEDULE = """
mutation ($plan: ID!, $day: Date!, $start: DateTime) {
  maintenancePlanScheduleVisit(planId: $plan, occurrence: $day, startsAt: $start) {
    intervention { id number title occurrence technicians { id } maintenancePlan { name } } errors { code message path }
  }
}
"""
VISITS = """
query ($id: ID!, $from: Date!, $to: Date!, $users: [ID!]) { node(id: $id) { ... on Customer {
  maintenanceVisits(filter: {from: $from, to: $to, assignedUserIds: $users}) { occurrence status plan { name } intervention { number } }
} } }
"""
EQUIPMENT = "mutation ($input: EquipmentCreateInput!) { equipmentCreate(input: $input) { equipment { id } errors { code } } }"
COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code } } }"
CUSTOMERS_VISITS = """
query ($first: Int!) { customers(first: $first) { edges { node { maintenanceVisits(filter: {from: "2026-01-01", to: "2027-01-01"}) {
  occurrence status plan { name assignedUser { name } } intervention { number }
} } } } }
"""


async def any_type(org: TestOrg) -> str:
    existing = (await org.ok("{ interventionTypes { id } }"))["interventionTypes"]
    return str(existing[0]["id"]) if existing else await intervention_type(org)


async def plan(org: TestOrg, client: str, recurrence: str, *, starts_on: str = "2026-01-15", as_: str = "manager", **fields: Any) -> dict[str, Any]:
    values = {"customerId": client, "addressId": fields.pop("address_id", None) or await address(org, client), "typeId": fields.pop("type_id", None) or await any_type(org),
              "name": fields.pop("name", "Entretien chaudière"), "recurrence": recurrence, "startsOn": starts_on, **fields}  # fmt: skip
    return dict((await org.ok(PLAN_CREATE, {"input": values}, as_=as_))["maintenancePlanCreate"])


async def visits(org: TestOrg, client: str, start: str, end: str, users: list[str] | None = None) -> list[tuple[str, str]]:
    data = await org.ok(VISITS, {"id": client, "from": start, "to": end, "users": users})
    return [(visit["occurrence"], visit["status"]) for visit in data["node"]["maintenanceVisits"]]


async def test_visits_are_done_planned_or_unplanned(org: TestOrg) -> None:
    # given: every 6 months from 15 January 2026, with the boiler covered
    client = await customer(org)
    boiler = (await org.ok(EQUIPMENT, {"input": {"customerId": client, "name": "Chaudière"}}))["equipmentCreate"]["equipment"]["id"]
    created = await plan(org, client, "FREQ=MONTHLY;INTERVAL=6", assignedUserId=user_id(org, "technician"), equipmentIds=[boiler])
    assert created["errors"] == []
    plan_id = created["plan"]["id"]
    assert [item["name"] for item in created["plan"]["equipment"]] == ["Chaudière"]
    # when
    first = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-01-15", "start": "2026-01-15T09:00:00Z"}))["maintenancePlanScheduleVisit"]
    second = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-07-15"}))["maintenancePlanScheduleVisit"]
    assert (await org.ok(COMPLETE, {"input": {"id": first["intervention"]["id"], "equipmentIds": [boiler]}}, as_="technician"))["interventionComplete"]["errors"] == []
    # then
    assert (first["intervention"]["occurrence"], first["intervention"]["maintenancePlan"]["name"]) == ("2026-01-15", "Entretien chaudière")
    assert [tech["id"] for tech in second["intervention"]["technicians"]] == [user_id(org, "technician")]
    assert await visits(org, client, "2026-01-01", "2028-01-01") == [
        ("2026-01-15", "DONE"), ("2026-07-15", "PLANNED"), ("2027-01-15", "UNPLANNED"), ("2027-07-15", "UNPLANNED"),
    ]  # fmt: skip
    assert await visits(org, client, "2026-01-01", "2028-01-01", [user_id(org, "member")]) == []


async def test_yearly_in_march_and_rules_without_end_expand_only_within_the_period(org: TestOrg) -> None:
    # given
    client = await customer(org)
    await plan(org, client, "RRULE:FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1", name="Ramonage")
    await plan(org, client, "FREQ=DAILY", name="Relevé", starts_on="2000-01-01")
    # when
    started = time.perf_counter()
    found = await visits(org, client, "2100-03-01", "2100-03-04")
    # then
    assert found == [("2100-03-01", "UNPLANNED"), ("2100-03-01", "UNPLANNED"), ("2100-03-02", "UNPLANNED"), ("2100-03-03", "UNPLANNED")]
    assert time.perf_counter() - started < 10  # a century of a daily rule walked, never more


async def test_invalid_rules_are_refused_at_the_input(org: TestOrg) -> None:
    # given
    client = await customer(org)
    place, kind = await address(org, client), await intervention_type(org)
    rules = ["every six months", "FREQ=SECONDLY", "FREQ=DAILY;BYHOUR=3", "DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
             "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=9", "FREQ=YEARLY;" + "BYMONTH=1;" * 100, ""]  # fmt: skip
    for rule in rules:
        # when
        started = time.perf_counter()
        payload = await plan(org, client, rule, address_id=place, type_id=kind)
        # then
        assert (payload["plan"], [(error["code"], error["path"]) for error in payload["errors"]]) == (None, [("INVALID", ["input", "recurrence"])]), rule
        assert time.perf_counter() - started < 2, rule


async def test_periods_and_dense_rules_are_bounded(org: TestOrg) -> None:
    # given
    client = await customer(org)
    plan_id = (await plan(org, client, "FREQ=DAILY", name="Quotidien", starts_on="2026-01-01"))["plan"]["id"]
    # when
    too_long = await org.gql(VISITS, {"id": client, "from": "2026-01-01", "to": "2036-01-01"})
    too_many = await org.gql(VISITS, {"id": client, "from": "2026-01-01", "to": "2027-06-01"})
    backwards = await org.gql(VISITS, {"id": client, "from": "2026-02-01", "to": "2026-01-01"})
    started = time.perf_counter()
    far = await org.gql(VISITS, {"id": client, "from": "9999-01-01", "to": "9999-12-31"})
    far_visit = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "9999-06-01"}))["maintenancePlanScheduleVisit"]
    # then
    assert (too_long.error_codes, too_many.error_codes, backwards.error_codes) == (["BAD_USER_INPUT"], ["LIMIT_EXCEEDED"], ["BAD_USER_INPUT"])
    assert far.error_codes == ["BAD_USER_INPUT"] and [error["code"] for error in far_visit["errors"]] == ["INVALID"]
    assert time.perf_counter() - started < 2  # no walk of a daily rule to year 9999


async def test_scheduling_checks_the_occurrence_and_refuses_twice(org: TestOrg) -> None:
    # given
    client = await customer(org)
    plan_id = (await plan(org, client, "FREQ=MONTHLY;INTERVAL=6"))["plan"]["id"]
    # when
    not_a_visit = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-02-15"}))["maintenancePlanScheduleVisit"]
    first = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-07-15"}))["maintenancePlanScheduleVisit"]
    again = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-07-15"}))["maintenancePlanScheduleVisit"]
    technician = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2027-01-15"}, as_="technician"))["maintenancePlanScheduleVisit"]
    # then
    assert [(error["code"], error["path"]) for error in not_a_visit["errors"]] == [("INVALID", ["occurrence"])]
    assert first["errors"] == [] and [error["code"] for error in again["errors"]] == ["CONFLICT"]
    assert [error["code"] for error in technician["errors"]] == ["FORBIDDEN"]


async def test_visits_of_many_customers_cost_constant_statements(org: TestOrg) -> None:
    # given
    kind = await intervention_type(org)
    for index in range(8):
        client = await customer(org, f"Client {index}")
        plan_id = (await plan(org, client, "FREQ=MONTHLY;INTERVAL=3", type_id=kind, assignedUserId=user_id(org, "technician")))["plan"]["id"]
        await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-04-15"})
    # when
    with count_statements(org.state.db) as two:
        await org.ok(CUSTOMERS_VISITS, {"first": 2})
    with count_statements(org.state.db) as eight:
        data = await org.ok(CUSTOMERS_VISITS, {"first": 8})
    # then
    assert sum(len(edge["node"]["maintenanceVisits"]) for edge in data["customers"]["edges"]) == 8 * 4
    assert eight.count == two.count


async def test_plans_of_another_organisation_are_invisible(org: TestOrg, other_org: TestOrg) -> None:
    # given
    client = await customer(other_org)
    plan_id = (await plan(other_org, client, "FREQ=YEARLY"))["plan"]["id"]
    # when
    node = await org.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": plan_id})
    schedule = (await org.ok(SCHEDULE, {"plan": plan_id, "day": "2026-01-15"}))["maintenancePlanScheduleVisit"]
    # then
    assert node["node"] is None
    assert [(error["code"], error["path"]) for error in schedule["errors"]] == [("NOT_FOUND", ["planId"])]

"""The planning (I2): one connection with filters at the root and on customers (with
branches); statuses computed in SQL in the organisation's time zone, so filtering and
paging agree; constant SQL statements per page whatever its size."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from tests.plugins.interventions.fixtures import address, bulk, customer, intervention, intervention_type, user_id
from tests.support import TestOrg, count_statements

PLANNING = """
query ($filter: InterventionFilter, $first: Int, $after: String, $order: InterventionOrder) {
  interventions(filter: $filter, first: $first, after: $after, orderBy: $order) {
    edges { node { id number title status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PLANNING_FULL = """
query ($first: Int!) {
  interventions(first: $first) { edges { node {
    id number title status startsAt endsAt toInvoice type { name colour } customer { id } address { id }
    technicians { id name } customerMemo preferredContact { id } canComplete report { workDone photos { id } equipment { id } }
  } } }
}
"""
CUSTOMERS = """
query ($first: Int!, $branches: Boolean!) {
  customers(first: $first) { edges { node { id interventions(first: 20, includeBranches: $branches) { edges { node {
    number status type { name } technicians { name } address { id }
  } } } } } }
}
"""
CUSTOMER_INTERVENTIONS = """
query ($id: ID!, $branches: Boolean!) {
  node(id: $id) { ... on Customer { interventions(includeBranches: $branches, first: 50) { edges { node { number } } } } }
}
"""
SETTING_SET = "mutation ($key: String!, $value: JSON!) { organizationSettingSet(key: $key, value: $value) { errors { code message } } }"
COMPLETE = "mutation ($input: InterventionCompleteInput!) { interventionComplete(input: $input) { errors { code message } } }"
ARCHIVE = "mutation ($id: ID!) { interventionArchive(id: $id) { errors { code } } }"


async def numbers(org: TestOrg, filter: dict[str, Any] | None = None, *, as_: str = "manager", order: str = "APPOINTMENT", first: int = 50) -> list[int]:
    """Every number the filter keeps, walking the pages."""
    found: list[int] = []
    after = None
    while True:
        data = await org.ok(PLANNING, {"filter": filter, "first": first, "after": after, "order": order}, as_=as_)
        connection = data["interventions"]
        found += [edge["node"]["number"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return found
        after = connection["pageInfo"]["endCursor"]


def local_hour_zone(now: dt.datetime, hours: range) -> str:
    """An IANA zone (``Etc/GMT±N``) whose local time now has an hour in ``hours``."""
    for offset in range(-12, 15):
        name = f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"
        if now.astimezone(zoneinfo.ZoneInfo(name)).hour in hours:
            return name
    raise AssertionError("no zone found")


async def test_status_follows_the_organisations_time_zone(org: TestOrg) -> None:
    # given: an appointment that ended 2 hours ago
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    now = dt.datetime.now(dt.UTC)
    created = await intervention(org, client, place, kind, starts_at=now - dt.timedelta(hours=3), hours=1)
    statuses = {}
    for label, hours in (("just after midnight", range(0, 2)), ("afternoon", range(5, 23))):
        zone = local_hour_zone(now, hours)
        assert (await org.ok(SETTING_SET, {"key": "organization.time_zone", "value": zone}))["organizationSettingSet"]["errors"] == []
        # when
        data = await org.ok(PLANNING, {"filter": {"statuses": ["LATE"]}})
        node = await org.ok("query ($id: ID!) { node(id: $id) { ... on Intervention { status } } }", {"id": created["id"]})
        statuses[label] = (node["node"]["status"], len(data["interventions"]["edges"]))
    # then: yesterday's appointment is late there; earlier today it is TODAY's
    assert statuses == {"just after midnight": ("LATE", 1), "afternoon": ("TODAY", 0)}


async def test_filtering_by_status_and_paging_agree(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    now = dt.datetime.now(dt.UTC)
    late = [await intervention(org, client, place, kind, starts_at=now - dt.timedelta(days=days)) for days in (3, 4, 5)]
    upcoming = [await intervention(org, client, place, kind, starts_at=now + dt.timedelta(days=days)) for days in (3, 4)]
    unscheduled = await intervention(org, client, place, kind)
    done = await intervention(org, client, place, kind, starts_at=now - dt.timedelta(days=2))
    assert (await org.ok(COMPLETE, {"input": {"id": done["id"], "workDone": "ok"}}, as_="technician"))["interventionComplete"]["errors"] == []
    # when
    walked = await numbers(org, {"statuses": ["LATE", "UPCOMING"]}, first=2)
    # then
    assert walked == [item["number"] for item in late[::-1] + upcoming]
    assert await numbers(org, {"statuses": ["DONE"]}) == [done["number"]]
    assert await numbers(org, {"statuses": ["UNSCHEDULED"]}) == [unscheduled["number"]]
    assert await numbers(org, {"hasAppointment": False}) == [unscheduled["number"]]
    assert await numbers(org, order="NEWEST", first=3) == list(range(7, 0, -1))


async def test_search_types_addresses_technicians_invoicing_archived_and_dates(org: TestOrg) -> None:
    # given
    client, repair, service = await customer(org), await intervention_type(org, "Dépannage"), await intervention_type(org, "Entretien")
    home, shop = await address(org, client), await address(org, client, line1="3 quai Saint-Antoine")
    start = dt.datetime(2031, 6, 2, 8, tzinfo=dt.UTC)
    one = await intervention(org, client, home, repair, title="Panne ÉLECTRIQUE cuisine", starts_at=start)
    two = await intervention(org, client, shop, service, title="Entretien climatisation", starts_at=start + dt.timedelta(days=7), toInvoice=True)
    three = await intervention(org, client, shop, service, title="Contrôle annuel", technicians=("member2",))
    await org.ok(ARCHIVE, {"id": three["id"]}, as_="manager")
    # when / then
    assert await numbers(org, {"search": "electrique"}) == [one["number"]]
    assert await numbers(org, {"search": str(two["number"])}) == [two["number"]]
    assert await numbers(org, {"typeIds": [service]}) == [two["number"]]
    assert await numbers(org, {"typeIds": [service], "archived": None}) == [two["number"], three["number"]]
    assert await numbers(org, {"archived": True}) == [three["number"]]
    assert await numbers(org, {"addressIds": [shop], "archived": None}) == [two["number"], three["number"]]
    assert await numbers(org, {"technicianIds": [user_id(org, "member2")], "archived": None}) == [three["number"]]
    assert await numbers(org, {"toInvoice": True}) == [two["number"]]
    week = {"from": start.isoformat(), "to": (start + dt.timedelta(days=7)).isoformat()}
    assert await numbers(org, week) == [one["number"]]


async def test_bad_filters_are_client_errors(org: TestOrg) -> None:
    # when
    results = [
        await org.gql(PLANNING, {"filter": {"typeIds": ["not-an-id"]}}),
        await org.gql(PLANNING, {"filter": {"from": "2030-01-02T00:00:00Z", "to": "2030-01-01T00:00:00Z"}}),
        await org.gql(PLANNING, {"filter": {"from": "2030-01-02T00:00:00"}}),
        await org.gql(PLANNING, {"filter": {"search": "x" * 500}}),
    ]
    # then
    assert [result.error_codes for result in results] == [["BAD_USER_INPUT"]] * 4


async def test_a_technician_plans_only_their_own_week(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    mine = await intervention(org, client, place, kind)
    await intervention(org, client, place, kind, technicians=("member2",))
    # when / then
    assert await numbers(org, as_="technician") == [mine["number"]]
    assert len(await numbers(org, as_="member")) == 2


async def test_the_planning_costs_the_same_statements_at_10_and_500_interventions(org: TestOrg) -> None:
    # given
    client, kind = await customer(org), await intervention_type(org)
    place = await address(org, client)
    await bulk(org, client, place, kind, 10, start=dt.datetime(2031, 1, 5, 7, tzinfo=dt.UTC))
    with count_statements(org.state.db) as ten:
        small = await org.ok(PLANNING_FULL, {"first": 100})
    await bulk(org, client, place, kind, 490, start=dt.datetime(2031, 2, 5, 7, tzinfo=dt.UTC), technicians=("technician", "member2"), first_number=11)
    # when
    with count_statements(org.state.db) as five_hundred:
        large = await org.ok(PLANNING_FULL, {"first": 100})
    # then
    assert (len(small["interventions"]["edges"]), len(large["interventions"]["edges"])) == (10, 100)
    assert five_hundred.count == ten.count, (ten.statements, five_hundred.statements)


async def test_customer_interventions_cost_the_same_for_3_and_12_customers(org: TestOrg) -> None:
    # given
    kind = await intervention_type(org)
    start = dt.datetime(2031, 1, 5, 7, tzinfo=dt.UTC)
    for index in range(12):
        client = await customer(org, f"Client {index:02}")
        await bulk(org, client, await address(org, client), kind, 5, start=start, first_number=100 * index + 1)
    # when
    with count_statements(org.state.db) as three:
        await org.ok(CUSTOMERS, {"first": 3, "branches": True})
    with count_statements(org.state.db) as twelve:
        data = await org.ok(CUSTOMERS, {"first": 12, "branches": True})
    # then
    assert sum(len(edge["node"]["interventions"]["edges"]) for edge in data["customers"]["edges"]) == 60
    assert twelve.count == three.count


async def test_customer_interventions_include_branches_on_demand(org: TestOrg) -> None:
    # given
    kind = await intervention_type(org)
    parent = await customer(org, "Groupe")
    branch = await customer(org, "Agence Nord", parent=parent)
    now = dt.datetime.now(dt.UTC)
    at_parent = await intervention(org, parent, await address(org, parent), kind, starts_at=now + dt.timedelta(days=2))
    at_branch = await intervention(org, branch, await address(org, branch), kind, starts_at=now + dt.timedelta(days=1))
    # when
    alone = await org.ok(CUSTOMER_INTERVENTIONS, {"id": parent, "branches": False})
    with_branches = await org.ok(CUSTOMER_INTERVENTIONS, {"id": parent, "branches": True})
    # then
    assert [edge["node"]["number"] for edge in alone["node"]["interventions"]["edges"]] == [at_parent["number"]]
    assert [edge["node"]["number"] for edge in with_branches["node"]["interventions"]["edges"]] == [at_branch["number"], at_parent["number"]]

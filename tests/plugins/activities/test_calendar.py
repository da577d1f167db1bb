"""The calendar (A8): root ``activities`` with a time range, assignees, teams and types;
oldest first with stable cursors; members see theirs and their teams', managers all; a
constant number of statements whatever the page size."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fiche.relay import encode_id
from tests.plugins.activities.fixtures import activity, customer, type_ids
from tests.support import TestOrg, count_statements

CALENDAR = """
query ($filter: CalendarFilter, $first: Int, $after: String) {
  activities(filter: $filter, first: $first, after: $after) {
    edges { node { id startsAt type { code } assignee { handle } team { name } location { id } reports { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
MONDAY = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def user(org: TestOrg, who: str) -> str:
    return encode_id("User", org.users[who].id)


def team(org: TestOrg, name: str) -> str:
    return encode_id("Team", org.teams[name].id)


async def calendar(org: TestOrg, as_: str = "admin", **variables: Any) -> dict[str, Any]:
    return dict((await org.ok(CALENDAR, variables, as_=as_))["activities"])


def ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def plan(org: TestOrg, location: str, who: str, hours: float, type: str = "visit", **fields: Any) -> str:
    start = MONDAY + dt.timedelta(hours=hours)
    created = await activity(org, location, type=type, starts_at=start, ends_at=start + dt.timedelta(minutes=45), assigneeId=user(org, who), **fields)
    return str(created["id"])


async def test_a_week_of_activities_oldest_first_overlapping_the_range(org: TestOrg) -> None:
    # given: one before the week, one straddling its start, two inside, one after
    location = await customer(org)
    before = await plan(org, location, "member", -48)
    straddling = await plan(org, location, "member", -0.5)
    inside = [await plan(org, location, "member", hours) for hours in (30, 2)]
    after = await plan(org, location, "member", 24 * 7 + 1)
    # when
    page = await calendar(org, filter={"from": MONDAY.isoformat(), "to": (MONDAY + dt.timedelta(days=7)).isoformat()})
    # then
    assert ids(page) == [straddling, inside[1], inside[0]] and before not in ids(page) and after not in ids(page)


async def test_filters_by_assignee_team_and_type(org: TestOrg) -> None:
    # given
    location = await customer(org)
    visits = {who: await plan(org, location, who, 1) for who in ("member", "member2", "manager")}
    call = await plan(org, location, "member", 3, type="outbound_call")
    types = await type_ids(org)
    # when
    by_assignee = await calendar(org, filter={"assigneeIds": [user(org, "member")]})
    by_team = await calendar(org, filter={"teamIds": [team(org, "south")]})
    by_type = await calendar(org, filter={"types": [types["outbound_call"]], "assigneeIds": [user(org, "member"), user(org, "member2")]})
    # then
    assert ids(by_assignee) == [visits["member"], call]
    assert ids(by_team) == [visits["member2"]]
    assert ids(by_type) == [call]


async def test_members_see_their_own_and_their_teams_activities_managers_all(org: TestOrg) -> None:
    # given: member and manager are in North; member2 and technician in South; admin in none
    location = await customer(org)
    mine = await plan(org, location, "member", 1)
    north = await plan(org, location, "manager", 2)
    south = await plan(org, location, "member2", 3)
    unteamed = await plan(org, location, "admin", 4)
    # when
    member = await calendar(org, as_="member")
    asking_for_south = await calendar(org, as_="member", filter={"assigneeIds": [user(org, "member2")]})
    manager = await calendar(org, as_="manager")
    # then
    assert ids(member) == [mine, north] and ids(asking_for_south) == []
    assert ids(manager) == [mine, north, south, unteamed]


async def test_another_organisations_activities_never_show(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await plan(other_org, await customer(other_org), "member", 1)
    # when
    page = await calendar(org, filter={"assigneeIds": [user(other_org, "member")]})
    # then
    assert ids(page) == []


async def test_pages_follow_each_other_without_gaps_on_equal_start_times(org: TestOrg) -> None:
    # given: five activities at the same time
    location = await customer(org)
    created = [await plan(org, location, "member", 1) for _ in range(5)]
    # when
    seen: list[str] = []
    after = None
    while True:
        page = await calendar(org, first=2, after=after)
        seen += ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert seen == created


async def test_a_bad_id_in_the_filter_is_a_clear_error(org: TestOrg) -> None:
    # when
    result = await org.gql(CALENDAR, {"filter": {"teamIds": [user(org, "member")]}})
    # then
    assert result.data is None or result.data.get("activities") is None
    assert result.errors and "teamIds" in result.errors[0]["message"]


async def test_a_filter_listing_too_many_ids_is_refused(org: TestOrg) -> None:
    # when
    result = await org.gql(CALENDAR, {"filter": {"assigneeIds": [user(org, "member")] * 201}})
    # then
    assert result.errors and "at most 200" in result.errors[0]["message"]


async def test_the_calendar_costs_the_same_statements_for_5_or_50_activities(org: TestOrg) -> None:
    # given: 50 activities at 10 customers, half with a report-less team
    locations = [await customer(org, f"Client {index}") for index in range(10)]
    for index in range(50):
        await plan(org, locations[index % 10], ("member", "member2")[index % 2], index, teamId=team(org, ("north", "south")[index % 2]) if index % 2 == 0 else None)
    # when
    with count_statements(org.state.db) as small:
        five = await calendar(org, first=5)
    with count_statements(org.state.db) as large:
        fifty = await calendar(org, first=50)
    # then
    assert len(five["edges"]) == 5 and len(fifty["edges"]) == 50
    assert small.count == large.count, (small.statements, large.statements)

"""``Customer.activities`` (A3): newest first with type, time, assignee and whether reports
are attached; filters by date range, types and team; branches included on demand; pages
that neither skip nor repeat, even with equal start times."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from tests.plugins.activities.fixtures import activity, ago, customer, iso, type_ids
from tests.support import TestOrg

CUSTOMER_ACTIVITIES = """
query ($id: ID!, $filter: ActivityFilter, $first: Int, $after: String) {
  node(id: $id) {
    ... on Customer {
      activities(filter: $filter, first: $first, after: $after) {
        edges { cursor node { id startsAt hasReports type { code icon colour } assignee { name } location { id } } }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }
  }
}
"""


async def listed(org: TestOrg, customer_id: str, as_: str = "admin", **variables: Any) -> dict[str, Any]:
    data = await org.ok(CUSTOMER_ACTIVITIES, {"id": customer_id, **variables}, as_=as_)
    return dict(data["node"]["activities"])


def ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_activities_are_listed_newest_first_with_their_type_and_assignee(org: TestOrg) -> None:
    # given
    location = await customer(org)
    old = await activity(org, location, starts_at=ago(days=3), type="inbound_call")
    new = await activity(org, location, starts_at=ago(days=1), as_="member")
    # when
    page = await listed(org, location)
    # then
    assert ids(page) == [new["id"], old["id"]]
    first = page["edges"][0]["node"]
    assert (first["type"]["code"], first["type"]["icon"], first["type"]["colour"], first["assignee"]["name"], first["hasReports"]) == (
        "visit", "map-pin", "#2E7D32", "Member Test", False,
    )  # fmt: skip


async def test_other_customers_activities_are_not_listed(org: TestOrg) -> None:
    # given
    location, other = await customer(org, "A"), await customer(org, "B")
    await activity(org, other)
    # when
    page = await listed(org, location)
    # then
    assert page["edges"] == []


async def test_date_range_keeps_activities_starting_inside_it(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await activity(org, location, starts_at=ago(days=10))
    inside = await activity(org, location, starts_at=ago(days=5))
    await activity(org, location, starts_at=ago(days=1))
    # when
    page = await listed(org, location, filter={"from": iso(ago(days=6)), "to": iso(ago(days=2))})
    # then
    assert ids(page) == [inside["id"]]


async def test_type_filter(org: TestOrg) -> None:
    # given
    location = await customer(org)
    types = await type_ids(org)
    call = await activity(org, location, type="outbound_call")
    await activity(org, location, type="visit")
    meeting = await activity(org, location, type="meeting")
    # when
    page = await listed(org, location, filter={"typeIds": [types["outbound_call"], types["meeting"]]})
    # then
    assert set(ids(page)) == {call["id"], meeting["id"]}


async def test_team_filter(org: TestOrg) -> None:
    # given
    location = await customer(org)
    north = await activity(org, location, as_="member")
    await activity(org, location, as_="member2")
    # when
    page = await listed(org, location, filter={"teamId": encode_id("Team", org.teams["north"].id)})
    # then
    assert ids(page) == [north["id"]]


async def test_branches_are_left_out_by_default(org: TestOrg) -> None:
    # given
    main = await customer(org, "Main")
    branch = await customer(org, "Branch", parent=main)
    await activity(org, branch)
    # when
    page = await listed(org, main)
    # then
    assert page["edges"] == []


async def test_include_branches_merges_every_level_newest_first(org: TestOrg) -> None:
    # given
    main = await customer(org, "Main")
    branch = await customer(org, "Branch", parent=main)
    sub_branch = await customer(org, "Sub-branch", parent=branch)
    a = await activity(org, main, starts_at=ago(days=4))
    b = await activity(org, branch, starts_at=ago(days=3))
    c = await activity(org, sub_branch, starts_at=ago(days=2))
    d = await activity(org, main, starts_at=ago(days=1))
    # when
    page = await listed(org, main, filter={"includeBranches": True})
    # then
    assert ids(page) == [d["id"], c["id"], b["id"], a["id"]]
    assert [edge["node"]["location"]["id"] for edge in page["edges"]] == [main, sub_branch, branch, main]


async def test_pages_with_branches_neither_skip_nor_repeat(org: TestOrg) -> None:
    # given
    main = await customer(org, "Main")
    branch = await customer(org, "Branch", parent=main)
    same_time = ago(hours=5)
    created = [await activity(org, location, starts_at=same_time) for location in (main, branch, main, branch, main)]
    created += [await activity(org, branch, starts_at=ago(days=2))]
    # when
    seen: list[str] = []
    after = None
    while True:
        page = await listed(org, main, filter={"includeBranches": True}, first=2, after=after)
        seen += ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then: equal start times are ordered by id, newest first, across the two locations
    assert seen == [item["id"] for item in reversed(created[:5])] + [created[5]["id"]]


async def test_pages_follow_each_other_with_equal_start_times(org: TestOrg) -> None:
    # given
    location = await customer(org)
    moment = ago(hours=1)
    created = [await activity(org, location, starts_at=moment) for _ in range(5)]
    # when
    first = await listed(org, location, first=2)
    second = await listed(org, location, first=2, after=first["pageInfo"]["endCursor"])
    third = await listed(org, location, first=2, after=second["pageInfo"]["endCursor"])
    # then
    assert ids(first) + ids(second) + ids(third) == [item["id"] for item in reversed(created)]
    assert (first["pageInfo"]["hasNextPage"], second["pageInfo"]["hasPreviousPage"], third["pageInfo"]["hasNextPage"]) == (True, True, False)


async def test_future_planned_visits_come_first(org: TestOrg) -> None:
    # given
    location = await customer(org)
    past = await activity(org, location, starts_at=ago(days=1))
    planned = await activity(org, location, type="planned_visit", starts_at=ago(days=-7))
    # when
    page = await listed(org, location)
    # then
    assert ids(page) == [planned["id"], past["id"]]


async def test_an_invalid_type_id_in_the_filter_is_a_bad_request(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    result = await org.gql(CUSTOMER_ACTIVITIES, {"id": location, "filter": {"typeIds": [location]}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_first_is_capped(org: TestOrg) -> None:
    # given
    location = await customer(org)
    # when
    result = await org.gql(CUSTOMER_ACTIVITIES, {"id": location, "first": 1000})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]

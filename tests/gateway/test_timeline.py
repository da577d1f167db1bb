"""The unified timeline (G12) with stand-in plugins (the customers plugin is disabled): a
``Customer`` whose primary keys are team ids, a SQL source (team memberships, through
``latest_per_location``) and an in-memory source (memos). Merged newest first, filtered,
paginated with a stable cursor, batched across customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update

from fiche import hookimpl
from fiche.accounts import models
from fiche.relay import encode_cursor, encode_id
from tests.gateway import probe_plugins
from tests.gateway.probe_plugins import Memo
from tests.support import TestOrg

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
TIMELINE = """
query Timeline($pk: Int!, $first: Int, $after: String, $filter: TimelineFilter) {
  probeCustomer(pk: $pk) {
    timeline(first: $first, after: $after, filter: $filter) {
      edges { cursor node { __typename kind summary occurredAt } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""
TWO_TIMELINES = """
query Two($a: Int!, $b: Int!) {
  a: probeCustomer(pk: $a) { timeline(first: 10) { edges { node { summary } } } }
  b: probeCustomer(pk: $b) { timeline(first: 10) { edges { node { summary } } } }
}
"""
LATEST = "query Latest($pk: Int!) { probeCustomer(pk: $pk) { latestEvents(first: 2) { summary } } }"
LOCATION = """
query Location($pk: Int!) {
  probeCustomer(pk: $pk) { timeline(first: 1) { edges { node { location { __typename id } } } } }
}
"""


class BranchesProbe:
    """``customer_branches`` from a mapping the test fills in."""

    def __init__(self) -> None:
        self.branches: dict[int, list[int]] = {}

    @hookimpl
    def customer_branches(self, session: Any, customer_ids: list[int]) -> dict[int, list[int]]:
        return {customer_id: self.branches.get(customer_id, []) for customer_id in customer_ids}


@pytest.fixture
def sql_source() -> probe_plugins.TimelineSqlProbe:
    return probe_plugins.TimelineSqlProbe()


@pytest.fixture
def memo_source() -> probe_plugins.TimelineMemoProbe:
    return probe_plugins.TimelineMemoProbe([])


@pytest.fixture
def branches() -> BranchesProbe:
    return BranchesProbe()


@pytest.fixture
def plugins(
    sql_source: probe_plugins.TimelineSqlProbe, memo_source: probe_plugins.TimelineMemoProbe, branches: BranchesProbe
) -> list[tuple[str, Any]]:
    return [
        ("stand-in-customers", probe_plugins.TimelineCustomerProbe()),
        ("members-source", sql_source),
        ("memos-source", memo_source),
        ("stand-in-branches", branches),
    ]


async def joined_at(tenant: TestOrg, **hours: float) -> None:
    """Set when users were created (= when they joined their teams), in hours after T0."""
    async with tenant.state.db.session(organization_id=tenant.organization_id) as session, session.begin():
        for who, offset in hours.items():
            await session.execute(
                update(models.User).where(models.User.id == tenant.users[who].id).values(created_at=T0 + dt.timedelta(hours=offset))
            )


def memo(location: int, pk: int, hours: float, kind: str = "MEMO") -> Memo:
    return Memo(location_pk=location, pk=pk, occurred_at=T0 + dt.timedelta(hours=hours), kind=kind)


async def timeline(tenant: TestOrg, pk: int, **variables: Any) -> dict[str, Any]:
    data = await tenant.ok(TIMELINE, {"pk": pk, **variables}, as_="member")
    return dict(data["probeCustomer"]["timeline"])


def summaries(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["summary"] for edge in page["edges"]]


@pytest.fixture
async def north(org: TestOrg, memo_source: probe_plugins.TimelineMemoProbe) -> int:
    """The north "customer": manager joined at +1h, member at +2h; memos at +1.5h and +3h."""
    await joined_at(org, manager=1, member=2, member2=1, technician=2)
    north = org.teams["north"].id
    memo_source.memos.extend([memo(north, 1, 1.5), memo(north, 2, 3)])
    return north


# ------------------------------------------------------------------ merging


async def test_hook_timeline_entries(org: TestOrg, north: int) -> None:
    # when
    page = await timeline(org, north, first=10)
    # then: both plugins' entries, newest first
    assert summaries(page) == ["memo 2", "Member Test joined", "memo 1", "Manager Test joined"]
    assert [edge["node"]["__typename"] for edge in page["edges"]] == [
        "ProbeMemoEntry",
        "ProbeMembershipEntry",
        "ProbeMemoEntry",
        "ProbeMembershipEntry",
    ]
    assert page["edges"][0]["node"]["occurredAt"].startswith("2026-03-01T12:00:00")


async def test_entries_at_the_same_time_have_a_stable_order(org: TestOrg, north: int, memo_source: probe_plugins.TimelineMemoProbe) -> None:
    # given: a memo at exactly the member's join time
    memo_source.memos.append(memo(north, 3, 2))
    # when
    first = summaries(await timeline(org, north, first=10))
    second = summaries(await timeline(org, north, first=10))
    # then
    assert first == second
    assert first.index("memo 3") == first.index("Member Test joined") - 1  # memos sort above members on a tie


async def test_pages_walk_the_merged_timeline_without_duplicates_or_gaps(
    org: TestOrg, north: int, memo_source: probe_plugins.TimelineMemoProbe
) -> None:
    # given: ties inside a source and across sources
    memo_source.memos.extend([memo(north, 3, 2), memo(north, 4, 2), memo(north, 5, 1)])
    everything = summaries(await timeline(org, north, first=50))
    # when
    walked, after, pages = [], None, []
    while True:
        page = await timeline(org, north, first=2, after=after)
        pages.append(page)
        walked.extend(summaries(page))
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then
    assert walked == everything
    assert len(walked) == len(set(walked)) == 7
    assert [page["pageInfo"]["hasPreviousPage"] for page in pages] == [False, True, True, True]


async def test_customer_without_entries_has_an_empty_timeline(org: TestOrg) -> None:
    # when
    page = await timeline(org, org.teams["north"].id + 10_000)
    # then
    assert page == {"edges": [], "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "endCursor": None}}


async def test_timeline_of_another_organisation_location_is_empty(org: TestOrg, other_org: TestOrg, north: int) -> None:
    # when: org's viewer asks for other_org's team as a customer
    page = await timeline(org, other_org.teams["north"].id)
    # then: the SQL source is tenant-filtered
    assert page["edges"] == []


# ------------------------------------------------------------------ filters


async def test_kinds_filter_keeps_only_those_kinds(org: TestOrg, north: int) -> None:
    # when
    page = await timeline(org, north, filter={"kinds": ["MEMO"]})
    # then
    assert summaries(page) == ["memo 2", "memo 1"]


async def test_date_range_keeps_entries_from_inclusive_to_exclusive(org: TestOrg, north: int) -> None:
    # given
    window = {"from": (T0 + dt.timedelta(hours=1.5)).isoformat(), "to": (T0 + dt.timedelta(hours=3)).isoformat()}
    # when
    page = await timeline(org, north, filter=window)
    # then
    assert summaries(page) == ["Member Test joined", "memo 1"]


async def test_branches_are_included_only_when_asked(org: TestOrg, north: int, branches: BranchesProbe) -> None:
    # given: south is a branch of north
    south = org.teams["south"].id
    branches.branches[north] = [south]
    # when
    without = summaries(await timeline(org, north))
    including = summaries(await timeline(org, north, filter={"includeBranches": True}))
    # then
    assert "Member2 Test joined" not in without
    # (equal times in one source: the newer row first; south's memberships were made after north's)
    assert including == ["memo 2", "Technician Test joined", "Member Test joined", "memo 1", "Member2 Test joined", "Manager Test joined"]


async def test_latest_events_include_branches(org: TestOrg, north: int, branches: BranchesProbe, memo_source: probe_plugins.TimelineMemoProbe) -> None:
    # given
    south = org.teams["south"].id
    branches.branches[north] = [south]
    memo_source.memos.append(memo(south, 9, 4))
    # when
    data = await org.ok(LATEST, {"pk": north}, as_="member")
    # then
    assert [event["summary"] for event in data["probeCustomer"]["latestEvents"]] == ["memo 9", "memo 2"]


async def test_entry_location_is_the_customer(org: TestOrg, north: int) -> None:
    # when
    data = await org.ok(LOCATION, {"pk": north}, as_="member")
    # then
    location = data["probeCustomer"]["timeline"]["edges"][0]["node"]["location"]
    assert location == {"__typename": "Customer", "id": encode_id("Customer", north)}


# ------------------------------------------------------------------ batching and limits


async def test_timelines_of_many_customers_cost_one_hook_call_per_plugin(
    org: TestOrg, north: int, sql_source: probe_plugins.TimelineSqlProbe
) -> None:
    # given
    south = org.teams["south"].id
    # when
    data = await org.ok(TWO_TIMELINES, {"a": north, "b": south}, as_="member")
    # then
    assert [call[0] for call in sql_source.calls] == [sorted([north, south])]
    assert [edge["node"]["summary"] for edge in data["b"]["timeline"]["edges"]] == ["Technician Test joined", "Member2 Test joined"]


async def test_plugins_are_asked_for_one_more_entry_than_the_page(org: TestOrg, north: int, sql_source: probe_plugins.TimelineSqlProbe) -> None:
    # when
    await timeline(org, north, first=3)
    # then
    assert [call[2] for call in sql_source.calls] == [4]


@pytest.mark.parametrize(
    "after",
    ["%%%", encode_cursor(["not a date", "memos", 1]), encode_cursor([T0, "memos"]), encode_cursor([T0, 3, 1])],
)
async def test_bad_timeline_cursor_is_refused(org: TestOrg, north: int, after: str) -> None:
    # when
    result = await org.gql(TIMELINE, {"pk": north, "after": after}, as_="member")
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_timeline_page_above_the_cap_is_refused(org: TestOrg, north: int) -> None:
    # when
    result = await org.gql(TIMELINE, {"pk": north, "first": org.state.settings.max_page_size + 1}, as_="member")
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_malformed_team_filter_is_refused(org: TestOrg, north: int) -> None:
    # when
    result = await org.gql(TIMELINE, {"pk": north, "filter": {"teamId": encode_id("User", 1)}}, as_="member")
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]


# ------------------------------------------------------------------ totalCount

TOTAL = """
query Total($pk: Int!, $first: Int, $after: String, $filter: TimelineFilter) {
  probeCustomer(pk: $pk) { timeline(first: $first, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } } }
}
"""


async def total(tenant: TestOrg, pk: int, **variables: Any) -> dict[str, Any]:
    data = await tenant.ok(TOTAL, {"pk": pk, **variables}, as_="member")
    return dict(data["probeCustomer"]["timeline"])


async def test_total_count_of_a_timeline_whose_plugins_count_is_the_whole_timeline(
    org: TestOrg, north: int, memo_source: probe_plugins.TimelineMemoProbe, branches: BranchesProbe
) -> None:
    # given: only the SQL source (latest_per_location) has entries; north's two memberships
    memo_source.memos.clear()
    branches.branches[north] = [org.teams["south"].id]
    # when
    first = await total(org, north, first=1)
    second = await total(org, north, first=1, after=first["pageInfo"]["endCursor"])
    with_branches = await total(org, north, first=1, filter={"includeBranches": True})
    dated = await total(org, north, first=1, filter={"from": (T0 + dt.timedelta(hours=1.5)).isoformat()})
    # then: the size of the whole list, filters applied
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (2, True)
    # past the first page the memo source's silence no longer means it has nothing: no count
    # (with the real plugins, which all count, later pages have it: tests/plugins/test_total_count.py)
    assert second["totalCount"] is None
    assert with_branches["totalCount"] == 4
    assert dated["totalCount"] == 1


async def test_total_count_is_null_when_a_plugin_cannot_count_beyond_the_page(org: TestOrg, north: int) -> None:
    # given: the memo source answers without latest_per_location (2 memos, 2 memberships)
    # when
    paged = await total(org, north, first=1)
    whole = await total(org, north, first=10)
    # then: a page of a longer list cannot be counted; a list that fits on its page can
    assert (paged["totalCount"], paged["pageInfo"]["hasNextPage"]) == (None, True)
    assert whole["totalCount"] == 4

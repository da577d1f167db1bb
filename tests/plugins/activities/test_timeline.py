"""The unified customer timeline (G12) end to end: entries of activities, reports, notes,
tasks and customer events merged newest first; pages with stable cursors across sources
(equal times included); kinds, team and branch options; restricted notes hidden from
those outside them; ``latestEvents``; a constant number of statements for 5 or 50
customers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fiche.relay import encode_id
from tests.plugins.activities.fixtures import activity, ago, customer, form, link_forms, type_ids
from tests.support import TestOrg, count_statements

TIMELINE = """
query ($id: ID!, $filter: TimelineFilter, $first: Int, $after: String) {
  node(id: $id) {
    ... on Customer {
      timeline(filter: $filter, first: $first, after: $after) {
        edges {
          cursor
          node {
            kind occurredAt summary location { id }
            ... on ActivityTimelineEntry { activity { id type { code } } }
            ... on ReportTimelineEntry { report { id } activity { id } }
            ... on NoteTimelineEntry { note { id } }
            ... on TaskTimelineEntry { task { id } }
          }
        }
        pageInfo { hasNextPage hasPreviousPage endCursor }
      }
    }
  }
}
"""
LATEST = "query ($id: ID!) { node(id: $id) { ... on Customer { latestEvents(first: 5) { kind summary occurredAt location { id } } } } }"
LATEST_PLANNED = """
query ($id: ID!, $planned: Boolean!) { node(id: $id) { ... on Customer { latestEvents(first: 5, includePlanned: $planned) { kind occurredAt } } } }
"""
NOTE_CREATE = """
mutation ($input: NoteCreateInput!) { noteCreate(input: $input) { note { id createdAt } errors { code message path } } }
"""
TASK_CREATE = """
mutation ($input: TaskCreateInput!) { taskCreate(input: $input) { task { id createdAt } errors { code message path } } }
"""
REPORT_SUBMIT = """
mutation ($input: ReportSubmitInput!) { reportSubmit(input: $input) { report { id submittedAt } errors { code message } } }
"""
CUSTOMERS_TIMELINES = """
query ($first: Int!) {
  customers(first: $first) { edges { node { id timeline(first: 20) { edges { node { kind occurredAt summary } } } } } }
}
"""
CUSTOMERS = "query ($first: Int!) { customers(first: $first) { edges { node { id } } } }"


async def timeline(org: TestOrg, customer_id: str, as_: str = "admin", **variables: Any) -> dict[str, Any]:
    data = await org.ok(TIMELINE, {"id": customer_id, **variables}, as_=as_)
    return dict(data["node"]["timeline"])


def entry_id(node: dict[str, Any]) -> str:
    """The ID of the object behind a timeline entry (kind and time for customer events)."""
    key = {"ACTIVITY": "activity", "REPORT": "report", "NOTE": "note", "TASK": "task"}.get(node["kind"])
    return str(node[key]["id"]) if key else f"{node['kind']}@{node['occurredAt']}"


def keys(page: dict[str, Any]) -> list[str]:
    return [entry_id(edge["node"]) for edge in page["edges"]]


async def note(org: TestOrg, target: str, body: str = "Called about the invoice", as_: str = "admin", **fields: Any) -> dict[str, Any]:
    payload = (await org.ok(NOTE_CREATE, {"input": {"body": body, "targetId": target, **fields}}, as_=as_))["noteCreate"]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["note"])


async def task(org: TestOrg, target: str, body: str = "Send the quote") -> dict[str, Any]:
    payload = (await org.ok(TASK_CREATE, {"input": {"body": body, "targetId": target}}))["taskCreate"]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["task"])


async def report(org: TestOrg, activity_id: str) -> dict[str, Any]:
    visit = (await type_ids(org))["visit"]
    form_id = await form(org, [{"key": "summary", "label": "Summary", "type": "TEXT"}])
    await link_forms(org, visit, [form_id])
    payload = (await org.ok(REPORT_SUBMIT, {"input": {"activityId": activity_id, "formId": form_id, "values": {"summary": "Fine"}}}))["reportSubmit"]
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["report"])


async def every_page(org: TestOrg, customer_id: str, first: int, **variables: Any) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        page = await timeline(org, customer_id, first=first, after=after, **variables)
        nodes += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the timeline never ends")


async def test_entries_of_every_source_are_merged_newest_first(org: TestOrg) -> None:
    # given: the customer is created (CUSTOMER_CREATED), then a note, a report on a past
    # visit and a task are written now; a visit happened 2 days ago, one is planned in 2 days
    location = await customer(org)
    past = await activity(org, location, starts_at=ago(days=2))
    planned = await activity(org, location, type="planned_visit", starts_at=ago(days=-2))
    written = await note(org, location)
    submitted = await report(org, past["id"])
    todo = await task(org, location)
    # when
    page = await timeline(org, location, filter={"includePlanned": True})
    # then
    assert [edge["node"]["kind"] for edge in page["edges"]] == ["ACTIVITY", "TASK", "REPORT", "NOTE", "CUSTOMER_CREATED", "ACTIVITY"]
    assert keys(page)[:4] == [planned["id"], todo["id"], submitted["id"], written["id"]] and keys(page)[5] == past["id"]
    occurred = [dt.datetime.fromisoformat(edge["node"]["occurredAt"]) for edge in page["edges"]]
    assert occurred == sorted(occurred, reverse=True)


async def test_the_timeline_shows_what_happened_and_planned_entries_only_when_asked(org: TestOrg) -> None:
    # given: a visit yesterday, one planned tomorrow
    location = await customer(org)
    past = await activity(org, location, starts_at=ago(days=1))
    planned = await activity(org, location, type="planned_visit", starts_at=ago(days=-1))
    # when
    default = await timeline(org, location, filter={"kinds": ["ACTIVITY"]})
    everything = await timeline(org, location, filter={"kinds": ["ACTIVITY"], "includePlanned": True})
    # then
    assert keys(default) == [past["id"]] and keys(everything) == [planned["id"], past["id"]]


async def test_latest_events_show_the_past_first_and_planned_entries_only_when_asked(org: TestOrg) -> None:
    # given: six planned visits would fill the widget if they counted
    location = await customer(org)
    for days in range(1, 7):
        await activity(org, location, type="planned_visit", starts_at=ago(days=-days))
    await activity(org, location, starts_at=ago(hours=3))
    # when
    default = (await org.ok(LATEST_PLANNED, {"id": location, "planned": False}))["node"]["latestEvents"]
    planned = (await org.ok(LATEST_PLANNED, {"id": location, "planned": True}))["node"]["latestEvents"]
    # then
    now = dt.datetime.now(dt.UTC)
    assert [event["kind"] for event in default] == ["CUSTOMER_CREATED", "ACTIVITY"]
    assert all(dt.datetime.fromisoformat(event["occurredAt"]) <= now for event in default)
    assert len(planned) == 5 and all(dt.datetime.fromisoformat(event["occurredAt"]) > now for event in planned)


async def test_activity_summaries_keep_words_of_list_items_and_blocks_apart(org: TestOrg) -> None:
    # given
    location = await customer(org)
    description = "<p>Apporter les échantillons.</p><ul><li>tarifs</li><li>délais</li></ul><p>Fin&nbsp;<strong>ok</strong>!</p>"
    await activity(org, location, starts_at=ago(hours=1), description=description)
    # when
    page = await timeline(org, location, filter={"kinds": ["ACTIVITY"]})
    # then
    assert page["edges"][0]["node"]["summary"] == "Visit · Admin Test: Apporter les échantillons. tarifs délais Fin ok!"


async def test_activity_and_report_entries_carry_a_summary_and_their_objects(org: TestOrg) -> None:
    # given
    location = await customer(org)
    past = await activity(org, location, starts_at=ago(hours=2), description="<p>Met the <b>buyer</b></p>", as_="member")
    submitted = await report(org, past["id"])
    # when
    page = await timeline(org, location, filter={"kinds": ["ACTIVITY", "REPORT"]})
    # then
    report_entry, activity_entry = (edge["node"] for edge in page["edges"])
    assert (report_entry["kind"], report_entry["report"]["id"], report_entry["activity"]["id"]) == ("REPORT", submitted["id"], past["id"])
    assert report_entry["summary"] == "Report “Compte rendu” on Visit"
    assert (activity_entry["activity"]["type"]["code"], activity_entry["summary"]) == ("visit", "Visit · Member Test: Met the buyer")
    assert activity_entry["location"] == {"id": location}


async def test_pages_across_sources_neither_skip_nor_repeat(org: TestOrg) -> None:
    # given
    location = await customer(org)
    for days in (5, 4, 1):
        await activity(org, location, starts_at=ago(days=days))
    past = await activity(org, location, starts_at=ago(hours=3))
    await note(org, location)
    await report(org, past["id"])
    await task(org, location)
    await note(org, location, "Second note")
    everything = keys(await timeline(org, location, first=100))
    # when
    paged = [entry_id(node) for node in await every_page(org, location, first=2)]
    # then
    assert len(everything) == 9 and paged == everything


async def test_equal_times_across_sources_are_ordered_and_paged_by_the_cursor(org: TestOrg) -> None:
    # given: activities at exactly the creation time of a note and of the customer record
    location = await customer(org)
    created_at = (await timeline(org, location, filter={"kinds": ["CUSTOMER_CREATED"]}))["edges"][0]["node"]["occurredAt"]
    written = await note(org, location)
    at_note = [await activity(org, location, starts_at=dt.datetime.fromisoformat(written["createdAt"])) for _ in range(2)]
    at_creation = [await activity(org, location, starts_at=dt.datetime.fromisoformat(created_at)) for _ in range(2)]
    # when
    paged = await every_page(org, location, first=1)
    # then: at equal times, sources in descending order of their tag, then ids descending
    assert [entry_id(node) for node in paged] == [
        written["id"], at_note[1]["id"], at_note[0]["id"], f"CUSTOMER_CREATED@{created_at}", at_creation[1]["id"], at_creation[0]["id"],
    ]  # fmt: skip


async def test_kinds_filter_keeps_only_the_kinds_asked_for(org: TestOrg) -> None:
    # given
    location = await customer(org)
    past = await activity(org, location, starts_at=ago(hours=1))
    await report(org, past["id"])
    await note(org, location)
    await task(org, location)
    # when
    activities_only = await timeline(org, location, filter={"kinds": ["ACTIVITY"]})
    notes_only = await timeline(org, location, filter={"kinds": ["NOTE", "REPORT"]})
    # then
    assert [edge["node"]["kind"] for edge in activities_only["edges"]] == ["ACTIVITY"]
    assert [edge["node"]["kind"] for edge in notes_only["edges"]] == ["NOTE", "REPORT"]


async def test_date_range_applies_to_every_source(org: TestOrg) -> None:
    # given
    location = await customer(org)
    await note(org, location)
    kept = await activity(org, location, starts_at=ago(days=2))
    await activity(org, location, starts_at=ago(days=10))
    # when
    page = await timeline(org, location, filter={"from": ago(days=5).isoformat(), "to": ago(days=1).isoformat()})
    # then
    assert keys(page) == [kept["id"]]


async def test_team_filter_keeps_the_activities_of_the_team(org: TestOrg) -> None:
    # given
    location = await customer(org)
    north = await activity(org, location, starts_at=ago(days=1), as_="member")
    await activity(org, location, starts_at=ago(days=2), as_="member2")
    # when
    page = await timeline(org, location, filter={"kinds": ["ACTIVITY", "REPORT"], "teamId": encode_id("Team", org.teams["north"].id)})
    # then
    assert keys(page) == [north["id"]]


async def test_branches_are_included_only_when_asked(org: TestOrg) -> None:
    # given
    main = await customer(org, "Main")
    branch = await customer(org, "Branch", parent=main)
    branch_visit = await activity(org, branch, starts_at=ago(days=1))
    branch_note = await note(org, branch)
    # when
    without = await timeline(org, main, filter={"kinds": ["ACTIVITY", "NOTE"]})
    with_branches = await timeline(org, main, filter={"kinds": ["ACTIVITY", "NOTE"], "includeBranches": True})
    # then
    assert without["edges"] == []
    assert keys(with_branches) == [branch_note["id"], branch_visit["id"]]
    assert {edge["node"]["location"]["id"] for edge in with_branches["edges"]} == {branch}


async def test_a_team_restricted_note_is_absent_for_users_outside_the_team(org: TestOrg) -> None:
    # given
    location = await customer(org)
    secret = await note(org, location, "North only", as_="member", visibility="TEAM", teamId=encode_id("Team", org.teams["north"].id))
    # when
    outside = await timeline(org, location, as_="member2", filter={"kinds": ["NOTE"]})
    inside = await timeline(org, location, as_="manager", filter={"kinds": ["NOTE"]})
    # then
    assert outside["edges"] == [] and keys(inside) == [secret["id"]]


async def test_a_managers_only_note_is_absent_for_members(org: TestOrg) -> None:
    # given
    location = await customer(org)
    secret = await note(org, location, "Managers only", as_="manager", visibility="MANAGERS")
    # when
    member = await timeline(org, location, as_="member")
    manager = await timeline(org, location, as_="manager")
    # then
    assert secret["id"] not in keys(member) and secret["id"] in keys(manager)


async def test_latest_events_shows_the_five_newest_branches_included(org: TestOrg) -> None:
    # given
    main = await customer(org, "Main")
    branch = await customer(org, "Branch", parent=main)
    for days in (6, 5, 4, 3):
        await activity(org, main, starts_at=ago(days=days))
    await activity(org, branch, starts_at=ago(days=1))
    await note(org, main)
    # when
    latest = (await org.ok(LATEST, {"id": main}))["node"]["latestEvents"]
    # then: the branch's creation and visit are there, the main customer's older visits are not
    assert [(event["kind"], event["location"]["id"]) for event in latest] == [
        ("NOTE", main), ("CUSTOMER_CREATED", branch), ("CUSTOMER_CREATED", main), ("ACTIVITY", branch), ("ACTIVITY", main),
    ]  # fmt: skip
    occurred = [dt.datetime.fromisoformat(event["occurredAt"]) for event in latest]
    assert occurred == sorted(occurred, reverse=True) and occurred[4] < dt.datetime.now(dt.UTC) - dt.timedelta(days=2, hours=23)


async def _seed_customers(org: TestOrg, count: int) -> None:
    for index in range(count):
        location = await customer(org, f"Client {index:02d}")
        if index % 10 == 0:
            past = await activity(org, location, starts_at=ago(days=1))
            await note(org, location)
            await task(org, location)
            if index == 0:
                await report(org, past["id"])


async def test_timelines_of_50_customers_cost_the_same_statements_as_5(org: TestOrg) -> None:
    # given
    await _seed_customers(org, 50)
    await org.ok(CUSTOMERS_TIMELINES, {"first": 5})  # warm-up: lazily created rows, caches
    # when
    with count_statements(org.state.db) as five:
        small = await org.ok(CUSTOMERS_TIMELINES, {"first": 5})
    with count_statements(org.state.db) as fifty:
        large = await org.ok(CUSTOMERS_TIMELINES, {"first": 50})
    # then
    assert len(small["customers"]["edges"]) == 5 and len(large["customers"]["edges"]) == 50
    assert sum(len(edge["node"]["timeline"]["edges"]) for edge in large["customers"]["edges"]) >= 50 + 5 * 2
    assert fifty.count == five.count, (five.statements, fifty.statements)

"""Notes and tasks in the customer timeline (N8, G12): entries, kinds, team, dates, branches."""

from __future__ import annotations

import datetime as dt

from fiche.relay import encode_id
from tests.plugins.notes.support import add_note, add_task, create_customer, team_id, user_id
from tests.support import TestOrg, count_statements

TIMELINE = """
query($id: ID!, $filter: TimelineFilter, $first: Int, $after: String) {
  node(id: $id) { ... on Customer { timeline(filter: $filter, first: $first, after: $after) {
    edges { node {
      kind summary location { id }
      ... on NoteTimelineEntry { note { id body author { handle } } }
      ... on TaskTimelineEntry { task { id body assignee { handle } } }
    } }
    pageInfo { hasNextPage endCursor }
  } } }
}
"""


async def entries(org: TestOrg, customer: str, *, as_: str = "admin", **variables: object) -> list[dict]:
    data = await org.ok(TIMELINE, {"id": customer, **variables}, as_=as_)
    return [edge["node"] for edge in data["node"]["timeline"]["edges"] if edge["node"]["kind"] in ("NOTE", "TASK")]


async def test_notes_and_tasks_are_in_the_timeline_newest_first(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    note = await add_note(org, "Première visite", as_="member", targetId=customer)
    task = await add_task(org, "Envoyer le devis", targetId=customer, assigneeId=user_id(org, "member"))
    # when
    found = await entries(org, customer)
    # then
    assert [(entry["kind"], entry["summary"]) for entry in found] == [("TASK", "Envoyer le devis"), ("NOTE", "Première visite")]
    assert found[0]["task"] == {"id": task["id"], "body": "Envoyer le devis", "assignee": {"handle": "member"}}
    assert found[1]["note"] == {"id": note["id"], "body": "Première visite", "author": {"handle": "member"}}
    assert found[1]["location"] == {"id": customer}


async def test_the_timeline_filters_by_kind(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "note", targetId=customer)
    await add_task(org, "task", targetId=customer)
    # when
    only_tasks = await entries(org, customer, filter={"kinds": ["TASK"]})
    only_notes = await entries(org, customer, filter={"kinds": ["NOTE"]})
    # then
    assert [entry["kind"] for entry in only_tasks] == ["TASK"]
    assert [entry["kind"] for entry in only_notes] == ["NOTE"]


async def test_other_kinds_do_not_query_notes_at_all(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "note", targetId=customer)
    # when
    with count_statements(org.state.db) as counter:
        found = await entries(org, customer, filter={"kinds": ["ACTIVITY"]})
    # then
    assert found == []
    assert not [sql for sql in counter.statements if "FROM notes" in sql]


async def test_the_timeline_filters_by_the_authors_team(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "par le nord", as_="member", targetId=customer)
    await add_note(org, "par le sud", as_="member2", targetId=customer)
    # when
    found = await entries(org, customer, filter={"teamId": team_id(org, "south")})
    # then
    assert [entry["summary"] for entry in found] == ["par le sud"]


async def test_the_timeline_filters_by_date(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "aujourd'hui", targetId=customer)
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat()
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    # when
    future = await entries(org, customer, filter={"from": tomorrow})
    today = await entries(org, customer, filter={"from": yesterday, "to": tomorrow})
    # then
    assert future == []
    assert [entry["summary"] for entry in today] == ["aujourd'hui"]


async def test_the_timeline_includes_branch_notes_when_asked(org: TestOrg) -> None:
    # given
    main = await create_customer(org, "Main")
    branch = await create_customer(org, "Branch", parent_id=main)
    await add_note(org, "sur la succursale", targetId=branch)
    # when
    without = await entries(org, main)
    with_branches = await entries(org, main, filter={"includeBranches": True})
    # then
    assert without == []
    assert [(entry["summary"], entry["location"]["id"]) for entry in with_branches] == [("sur la succursale", branch)]


async def test_the_timeline_pages_through_notes(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    for n in range(3):
        await add_note(org, f"note {n}", targetId=customer)
    data = await org.ok(TIMELINE, {"id": customer, "filter": {"kinds": ["NOTE"]}, "first": 2})
    cursor = data["node"]["timeline"]["pageInfo"]["endCursor"]
    # when
    rest = await entries(org, customer, filter={"kinds": ["NOTE"]}, first=2, after=cursor)
    # then
    assert [edge["node"]["summary"] for edge in data["node"]["timeline"]["edges"]] == ["note 2", "note 1"]
    assert [entry["summary"] for entry in rest] == ["note 0"]


async def test_a_long_note_is_summarised_on_one_line(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "ligne un\nligne deux " + "x" * 200, targetId=customer)
    # when
    [entry] = await entries(org, customer)
    # then
    assert entry["summary"].startswith("ligne un ligne deux") and len(entry["summary"]) == 140


async def test_general_notes_are_in_no_timeline(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "générale")
    # when
    found = await entries(org, customer)
    # then
    assert found == []


async def test_a_team_filter_needs_a_team_id(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    result = await org.gql(TIMELINE, {"id": customer, "filter": {"teamId": encode_id("User", 1)}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]

"""Loaders and read paths: ``customers(first: N) { activities(first: 20) { ... } }`` costs
the same statements for 5 and 50 customers (branches included or not), column selects
still get the tenant filter, and each loader answers in one statement per batch."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fiche.context import operation_context
from fiche.relay import decode_id
from fiche.accounts.types import User
from fiche.plugins.activities.reads import ActivityBuilder, activity_select, lean_report_from_row
from fiche.plugins.activities.types import Activity, ActivityType, Report
from tests.plugins.activities.fixtures import activity, ago, customer, form, link_forms, type_ids
from tests.support import TestOrg, count_statements

CUSTOMERS_ACTIVITIES = """
query ($first: Int!, $filter: ActivityFilter) {
  customers(first: $first) {
    edges { node { id activities(first: 20, filter: $filter) { edges { node {
      type { name icon colour } startsAt assignee { name } hasReports reports { id }
    } } } } }
  }
}
"""
REPORT_SUBMIT = """
mutation ($input: ReportSubmitInput!) { reportSubmit(input: $input) { errors { code message } } }
"""


async def seed(org: TestOrg, count: int) -> None:
    """``count`` customers, each with a branch every fifth; two activities each (by several
    users, of several types) and a report on the first customer's visit."""
    form_id = await form(org, [{"key": "summary", "label": "Summary", "type": "TEXT"}])
    await link_forms(org, (await type_ids(org))["visit"], [form_id])
    for index in range(count):
        location = await customer(org, f"Client {index:02d}")
        visit = await activity(org, location, starts_at=ago(hours=2), as_="member")
        await activity(org, location, type="outbound_call", starts_at=ago(days=1), as_="member2")
        if index % 5 == 0:
            branch = await customer(org, f"Client {index:02d} - branch", parent=location)
            await activity(org, branch, starts_at=ago(days=2), as_="manager")
        if index == 0:
            values = {"activityId": visit["id"], "formId": form_id, "values": {"summary": "ok"}}
            assert (await org.ok(REPORT_SUBMIT, {"input": values}, as_="member"))["reportSubmit"]["errors"] == []


async def counts(org: TestOrg, filter: dict[str, Any] | None = None) -> tuple[int, int, Any]:
    await org.ok(CUSTOMERS_ACTIVITIES, {"first": 5, "filter": filter})  # warm-up
    with count_statements(org.state.db) as five:
        await org.ok(CUSTOMERS_ACTIVITIES, {"first": 5, "filter": filter})
    with count_statements(org.state.db) as fifty:
        data = await org.ok(CUSTOMERS_ACTIVITIES, {"first": 50, "filter": filter})
    return five.count, fifty.count, data


async def test_activities_of_50_customers_cost_the_same_statements_as_5(org: TestOrg) -> None:
    # given
    await seed(org, 50)
    # when
    five, fifty, data = await counts(org)
    # then
    nodes = [node for edge in data["customers"]["edges"] for node in (e["node"] for e in edge["node"]["activities"]["edges"])]
    assert len(data["customers"]["edges"]) == 50 and len(nodes) > 80 and any(node["hasReports"] for node in nodes)
    assert {node["assignee"]["name"] for node in nodes} >= {"Member Test", "Member2 Test"}
    assert fifty == five, (five, fifty)


async def test_activities_with_branches_of_50_customers_cost_the_same_statements_as_5(org: TestOrg) -> None:
    # given
    await seed(org, 50)
    # when
    five, fifty, data = await counts(org, {"includeBranches": True})
    # then
    sizes = [len(edge["node"]["activities"]["edges"]) for edge in data["customers"]["edges"]]
    assert 3 in sizes and fifty == five, (five, fifty)


async def test_has_reports_costs_no_statement_of_its_own(org: TestOrg) -> None:
    # given
    await seed(org, 3)
    without = "query { customers(first: 3) { edges { node { activities(first: 20) { edges { node { startsAt } } } } } } }"
    with_flag = "query { customers(first: 3) { edges { node { activities(first: 20) { edges { node { startsAt hasReports } } } } } } }"
    # when
    with count_statements(org.state.db) as plain:
        await org.ok(without)
    with count_statements(org.state.db) as flagged:
        await org.ok(with_flag)
    # then
    assert flagged.count == plain.count


async def test_has_reports_is_the_same_whether_the_page_reads_the_reports_or_not(org: TestOrg) -> None:
    # given: activities with and without reports
    await seed(org, 5)
    flag_only = "query { customers(first: 5) { edges { node { activities(first: 20) { edges { node { id hasReports } } } } } } }"
    with_reports = "query { customers(first: 5) { edges { node { activities(first: 20) { edges { node { id hasReports reports { id } } } } } } } }"
    # when
    flags = await org.ok(flag_only)
    read = await org.ok(with_reports)
    # then: the flag (an EXISTS in the page statement, or set from the reports read with
    # the page) says whether reports exist, both ways
    def nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
        return [e["node"] for edge in data["customers"]["edges"] for e in edge["node"]["activities"]["edges"]]

    assert all(node["hasReports"] == bool(node["reports"]) for node in nodes(read))
    assert {node["id"]: node["hasReports"] for node in nodes(flags)} == {node["id"]: node["hasReports"] for node in nodes(read)}
    assert {True, False} == {node["hasReports"] for node in nodes(read)}


async def test_column_selects_get_the_tenant_filter(org: TestOrg, other_org: TestOrg) -> None:
    # given
    mine = await activity(org, await customer(org))
    await activity(other_org, await customer(other_org))
    # when
    async with org.state.db.reader(org.organization_id) as session:
        rows = (await session.execute(activity_select())).all()
    # then
    assert [row.id for row in rows] == [decode_id(mine["id"])[1]]


async def test_the_activities_loader_answers_a_batch_in_one_statement(org: TestOrg) -> None:
    # given
    created = [await activity(org, await customer(org, f"C{index}")) for index in range(4)]
    pks = [decode_id(item["id"])[1] for item in created]
    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        with count_statements(org.state.db) as counter:
            loaded = await context.loaders["activities_by_id"].load_many([*pks, 999_999])
    # then
    assert [item.pk if item else None for item in loaded] == [*pks, None] and counter.count == 1


async def test_the_type_loader_hides_other_organisations_types(org: TestOrg, other_org: TestOrg) -> None:
    # given
    theirs = decode_id((await type_ids(other_org))["visit"])[1]
    mine = decode_id((await type_ids(org))["visit"])[1]
    # when
    async with operation_context(org.state, org.viewer("member")) as context:
        loaded = await context.loaders["activity_types_by_id"].load_many([mine, theirs])
    # then
    assert [item.name if item else None for item in loaded] == ["Visit", None]


async def test_reports_selected_through_nodes_or_a_fragment_come_with_the_page(org: TestOrg) -> None:
    # given
    await seed(org, 2)
    edges = "{ customers(first: 5) { edges { node { activities { edges { node { id reports { id } } } } } } } }"
    nodes = "{ customers(first: 5) { edges { node { activities { nodes { id ...R } } } } } } fragment R on Activity { reports { id } }"
    # when
    with count_statements(org.state.db) as by_edges:
        first = await org.ok(edges)
    with count_statements(org.state.db) as by_nodes:
        second = await org.ok(nodes)
    # then
    assert _reports(first) == _reports(second) and any(ids for _, ids in _reports(first))
    assert by_nodes.count == by_edges.count


def _reports(data: dict[str, Any]) -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for edge in data["customers"]["edges"]:
        page = edge["node"]["activities"]
        activities = [e["node"] for e in page["edges"]] if "edges" in page else page["nodes"]
        found += [(activity["id"], tuple(report["id"] for report in activity["reports"])) for activity in activities]
    return sorted(found)


REPORT_IDS = "{ customers(first: 5) { edges { node { activities { edges { node { id reports { id submittedAt } } } } } } } }"
REPORT_VALUES = "{ customers(first: 5) { edges { node { activities { edges { node { id reports { id values } } } } } } } }"


async def test_reports_of_a_page_are_read_without_their_values_unless_selected(org: TestOrg) -> None:
    # given
    await seed(org, 2)
    # when
    with count_statements(org.state.db) as lean:
        ids = await org.ok(REPORT_IDS)
    with count_statements(org.state.db) as full:
        values = await org.ok(REPORT_VALUES)
    # then: same statements, but only the second reads the JSON column
    reads = [[statement for statement in counter.statements if statement.startswith("SELECT activity_reports.id")] for counter in (lean, full)]
    assert [len(statements) for statements in reads] == [1, 1]
    values_column = re.compile(r'activity_reports\."?values"?')  # quoted on SQLite
    assert not values_column.search(reads[0][0]) and values_column.search(reads[1][0])
    assert lean.count == full.count
    assert _reports(ids) == _reports(values)
    reports = [report for edge in values["customers"]["edges"] for a in edge["node"]["activities"]["edges"] for report in a["node"]["reports"]]
    assert [report["values"] for report in reports] == [{"summary": "ok"}]


LEAN_PAGE = """
{ customers(first: 5) { edges { node { activities(first: 20) { edges { node {
  id startsAt endsAt hasReports type { id name icon colour } assignee { id name } reports { id }
} } } } } } }
"""
# The same, and one field a lean row does not carry (`builtIn`: the type's code).
FULL_PAGE = LEAN_PAGE.replace("type { id name icon colour }", "type { id name icon colour builtIn }")
# The same fields as LEAN_PAGE through a fragment, plus `description`: a full row.
FRAGMENT_PAGE = """
{ customers(first: 5) { edges { node { activities(first: 20) { nodes { ...A } } } } } }
fragment A on Activity { id startsAt endsAt hasReports type { id name icon colour } assignee { id name } reports { id } description }
"""


def _activity_statement(counter: Any) -> str:
    # the page statement: a window per location (SQLite), a LATERAL page per location (PostgreSQL)
    (statement,) = [statement for statement in counter.statements if "activity_types" in statement and ("row_number()" in statement or "LATERAL" in statement)]
    return statement


async def test_a_page_selecting_only_lean_fields_reads_only_their_columns(org: TestOrg) -> None:
    # given
    await seed(org, 5)
    # when
    with count_statements(org.state.db) as lean:
        lean_data = await org.ok(LEAN_PAGE)
    with count_statements(org.state.db) as full:
        full_data = await org.ok(FULL_PAGE)
    # then: the lean page reads neither the description nor the GPS status nor the
    # assignee's e-mail, in as many statements, and answers alike
    assert "description" not in _activity_statement(lean) and "gps_status" not in _activity_statement(lean)
    assert "email" not in _activity_statement(lean)
    assert "description" in _activity_statement(full) and "gps_status" in _activity_statement(full)
    assert lean.count == full.count

    def strip(data: dict[str, Any]) -> list[dict[str, Any]]:
        nodes = [e["node"] for edge in data["customers"]["edges"] for e in edge["node"]["activities"]["edges"]]
        for node in nodes:
            node["type"].pop("builtIn", None)
        return nodes

    assert any(e["node"]["type"]["builtIn"] for edge in full_data["customers"]["edges"] for e in edge["node"]["activities"]["edges"])
    assert strip(lean_data) == strip(full_data) and len(strip(lean_data)) > 5


async def test_a_field_beyond_the_lean_ones_through_a_fragment_reads_every_column(org: TestOrg) -> None:
    # given
    await seed(org, 2)
    # when
    with count_statements(org.state.db) as counter:
        data = await org.ok(FRAGMENT_PAGE)
    # then
    assert "description" in _activity_statement(counter)
    nodes = [node for edge in data["customers"]["edges"] for node in edge["node"]["activities"]["nodes"]]
    assert nodes and all("description" in node and node["type"]["name"] for node in nodes)


async def test_the_builder_makes_the_objects_their_dataclasses_would(org: TestOrg) -> None:
    # given: a row of every column
    await activity(org, await customer(org), as_="member")
    async with org.state.db.reader(org.organization_id) as session:
        (row,) = (await session.execute(activity_select())).all()
    # when
    built = ActivityBuilder()(row)
    # then: the same attributes as the dataclasses' own __init__ (and Node's ID) give
    expected = Activity(
        pk=row.id, type_pk=row.type_id, location_pk=row.location_id, assignee_pk=row.assignee_id, team_pk=row.team_id,
        contact_pk=row.contact_id, created_by_pk=row.created_by_id, starts_at=row.starts_at, ends_at=row.ends_at,
        description=row.description, gps_status=row.gps_status, has_reports=bool(row.has_reports), created_at=row.created_at,
        updated_at=row.updated_at, type=built.type, assignee=built.assignee,
    )  # fmt: skip
    assert vars(built) == vars(expected)
    assert built.assignee is not None
    assert vars(built.assignee) == vars(User(
        pk=row.assignee_id, name=row.assignee_name, handle=row.assignee_handle, email=row.assignee_email,
        role=row.assignee_role, is_active=row.assignee_is_active,
    ))  # fmt: skip
    assert vars(built.type) == vars(ActivityType(
        pk=row.type_id, code=row.type_code, name=row.type_name, description=row.type_description, icon=row.type_icon,
        colour=row.type_colour, archived=row.type_archived,
    ))  # fmt: skip


def test_a_lean_report_row_makes_the_object_the_dataclass_would() -> None:
    # given: a row of LEAN_REPORT_COLUMNS
    at = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)
    # when
    built = lean_report_from_row((11, 12, 13, None, at))
    # then
    expected = Report(pk=11, activity_pk=12, form_pk=13, submitted_by_pk=None, values=None, submitted_at=at)
    assert type(built) is Report and vars(built) == vars(expected)

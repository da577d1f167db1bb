"""Performance: nested note lists and the viewer's tasks cost a constant number of SQL
statements (the same for 5 and 50 parents), and read paths stay tenant-filtered."""

from __future__ import annotations

import datetime as dt

import pytest

from fiche.db import utcnow
from fiche.plugins.notes import models
from fiche.plugins.notes.types import Note, NoteVisibility, lean_note_from_row, note_from_row
from tests.plugins.notes.support import create_customer
from tests.support import TestOrg, count_statements

CUSTOMERS_WITH_NOTES = """
query($first: Int!) {
  customers(first: $first) { edges { node { id
    notes(first: 10) { edges { node { body author { handle } mentions { start user { handle } } category { name } } } }
  } } }
}
"""
VIEWER_TASKS = """
query($first: Int!) {
  viewer { tasks(first: $first) { edges { node {
    body target { id ... on Customer { displayName } } author { handle } assignee { handle }
  } } } }
}
"""
FOLLOW_STATE = """
query($first: Int!) {
  customers(first: $first) { edges { node { id isFollowed noteCount followers { edges { node { handle } } } } } }
}
"""


async def seed(org: TestOrg, customers: int, *, notes_each: int = 2) -> list[int]:
    """``customers`` customers (through the customers plugin), each with notes that mention a
    colleague and have a category, a task for the member, a follower."""
    from fiche.relay import decode_id

    pks = [decode_id(await create_customer(org, f"Client {i:03}"))[1] for i in range(customers)]
    authors = [org.users[who].id for who in ("admin", "manager", "member2")]
    async with (
        org.state.db.session(organization_id=org.organization_id, user_id=org.users["admin"].id) as session,
        session.begin(),
    ):
        category = models.NoteCategory(name="Visite", color="#1e88e5")
        session.add(category)
        await session.flush()
        created = utcnow() - dt.timedelta(days=1)
        notes = []
        for index, pk in enumerate(pks):
            for n in range(notes_each):
                notes.append(
                    models.Note(
                        body="@member à voir",
                        author_id=authors[(index + n) % len(authors)],
                        category_id=category.id,
                        target_type="Customer",
                        target_id=pk,
                        customer_id=pk,
                        created_at=created + dt.timedelta(seconds=index * 10 + n),
                    )
                )
            notes.append(
                models.Note(
                    body="Rappeler",
                    author_id=authors[index % len(authors)],
                    target_type="Customer",
                    target_id=pk,
                    customer_id=pk,
                    is_task=True,
                    assignee_id=org.users["member"].id,
                    created_at=created + dt.timedelta(seconds=index * 10 + 9),
                )
            )
            session.add(models.CustomerFollow(customer_id=pk, user_id=authors[index % len(authors)]))
        session.add_all(notes)
        await session.flush()
        session.add_all(
            models.NoteMention(note_id=note.id, user_id=org.users["member"].id, start=0, stop=7)
            for note in notes
            if not note.is_task
        )
    return pks


async def statements_for(org: TestOrg, query: str, first: int, *, as_: str = "admin") -> tuple[int, dict]:
    with count_statements(org.state.db) as counter:
        data = await org.ok(query, {"first": first}, as_=as_)
    return counter.count, data


@pytest.mark.parametrize("query", [CUSTOMERS_WITH_NOTES, FOLLOW_STATE], ids=["notes", "follows"])
async def test_customer_note_fields_cost_the_same_for_5_and_50_customers(org: TestOrg, query: str) -> None:
    # given
    await seed(org, 50)
    # when
    few, small = await statements_for(org, query, 5)
    many, large = await statements_for(org, query, 50)
    # then
    assert len(small["customers"]["edges"]) == 5 and len(large["customers"]["edges"]) == 50
    assert few == many


async def test_customer_notes_are_fully_loaded(org: TestOrg) -> None:
    # given
    await seed(org, 3)
    # when
    _, data = await statements_for(org, CUSTOMERS_WITH_NOTES, 3)
    # then
    for edge in data["customers"]["edges"]:
        notes = [note["node"] for note in edge["node"]["notes"]["edges"]]
        assert [note["body"] for note in notes] == ["Rappeler", "@member à voir", "@member à voir"]
        notes = notes[1:]
        assert all(note["mentions"] == [{"start": 0, "user": {"handle": "member"}}] for note in notes)
        assert all(note["category"] == {"name": "Visite"} and note["author"]["handle"] for note in notes)


async def test_viewer_tasks_cost_the_same_for_5_and_50_tasks(org: TestOrg) -> None:
    # given
    await seed(org, 50, notes_each=0)
    # when
    few, small = await statements_for(org, VIEWER_TASKS, 5, as_="member")
    many, large = await statements_for(org, VIEWER_TASKS, 50, as_="member")
    # then
    assert len(small["viewer"]["tasks"]["edges"]) == 5 and len(large["viewer"]["tasks"]["edges"]) == 50
    assert all(edge["node"]["target"]["displayName"].startswith("Client") for edge in large["viewer"]["tasks"]["edges"])
    assert few == many


async def test_note_reads_are_tenant_filtered_statements(org: TestOrg) -> None:
    # given
    await seed(org, 2)
    # when
    with count_statements(org.state.db) as counter:
        await org.ok(CUSTOMERS_WITH_NOTES, {"first": 2})
    # then: the ORM added the organisation to the statement that reads notes
    [notes_sql] = [sql for sql in counter.statements if "FROM notes" in sql]
    assert "notes.organization_id" in notes_sql


def test_a_note_row_makes_the_object_the_dataclass_would() -> None:
    # given: a row of NOTE_COLUMNS, a task in a team
    at = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)
    row = (7, "Call back", at, at, models.Visibility.TEAM, True, at, None, 3, 4, 5, "Customer", 6, 6, 8, None)
    # when
    built = note_from_row(row)
    # then: what Note's own __init__ and Node.__post_init__ make
    expected = Note(
        pk=7, body="Call back", created_at=at, updated_at=at, visibility=NoteVisibility.TEAM, is_task=True, due_at=at,
        completed_at=None, author_pk=3, category_pk=4, team_pk=5, target_type="Customer", target_pk=6, assignee_pk=8,
        completed_by_pk=None,
    )  # fmt: skip
    assert type(built) is Note and vars(built) == vars(expected)


LEAN_NOTES = """
query($first: Int!) {
  customers(first: $first) { edges { node { id
    notes(first: 10) { edges { node { __typename id body createdAt viewerCanEdit author { handle } mentions { start } } } }
  } } }
}
"""
# The same, and one field a lean note row does not carry.
FULL_NOTES = LEAN_NOTES.replace("mentions { start }", "mentions { start } updatedAt")


async def test_a_page_of_notes_reads_only_the_columns_its_selection_needs(org: TestOrg) -> None:
    # given
    await seed(org, 3)
    # when
    with count_statements(org.state.db) as lean_counter:
        lean = await org.ok(LEAN_NOTES, {"first": 3})
    with count_statements(org.state.db) as full_counter:
        full = await org.ok(FULL_NOTES, {"first": 3})
    # then: the lean page reads no visibility, dates or links it does not answer...
    [lean_sql] = [sql for sql in lean_counter.statements if "FROM notes" in sql]
    [full_sql] = [sql for sql in full_counter.statements if "FROM notes" in sql]
    assert "notes.updated_at" not in lean_sql and "notes.visibility" not in lean_sql and "notes.organization_id" in lean_sql
    assert "notes.updated_at" in full_sql and "notes.visibility" in full_sql
    assert lean_counter.count == full_counter.count
    # ... and answers what the full page answers
    for lean_edge, full_edge in zip(lean["customers"]["edges"], full["customers"]["edges"], strict=True):
        full_notes = [edge["node"] for edge in full_edge["node"]["notes"]["edges"]]
        assert all(note.pop("updatedAt") for note in full_notes)
        assert [edge["node"] for edge in lean_edge["node"]["notes"]["edges"]] == full_notes
        assert len(full_notes) == 3


def test_a_lean_note_row_makes_the_object_note_from_row_would_with_the_rest_unread() -> None:
    # given: the same note as a row of NOTE_COLUMNS and of LEAN_NOTE_COLUMNS
    at = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)
    full = note_from_row((7, "Call back", at, at, models.Visibility.TEAM, True, at, None, 3, 4, 5, "Customer", 6, 6, 8, None))
    # when
    lean = lean_note_from_row((7, "Call back", at, 3))
    # then
    assert type(lean) is Note and vars(lean).keys() == vars(full).keys()
    read = {"pk", "id", "body", "created_at", "author_pk"}
    assert {name: value for name, value in vars(lean).items() if name in read} == {name: value for name, value in vars(full).items() if name in read}
    assert all(value is None for name, value in vars(lean).items() if name not in read)

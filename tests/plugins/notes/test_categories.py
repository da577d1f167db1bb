"""Categories (N7): organisation categories managed by admins; notes and tasks filtered by them."""

from __future__ import annotations

from fiche.relay import encode_id
from tests.plugins.notes.support import CATEGORY_CREATE, NODE, add_note, add_task, create_customer, note_create, user_id
from tests.support import TestOrg

CATEGORY_UPDATE = """
mutation($input: NoteCategoryUpdateInput!) {
  noteCategoryUpdate(input: $input) { category { id name colour } errors { code message path } }
}
"""
CATEGORY_DELETE = """
mutation($id: ID!) { noteCategoryDelete(id: $id) { deletedCategoryId errors { code message path } } }
"""
CATEGORIES = "{ noteCategories { name colour } }"
# Clients written before `colour` became the one spelling.
CATEGORY_CREATE_OLD = """
mutation($input: NoteCategoryCreateInput!) {
  noteCategoryCreate(input: $input) { category { id color colour } errors { code message path } }
}
"""
CATEGORY_UPDATE_OLD = """
mutation($input: NoteCategoryUpdateInput!) {
  noteCategoryUpdate(input: $input) { category { id color colour } errors { code message path } }
}
"""
CUSTOMER_NOTES = """
query($id: ID!, $filter: NoteFilter) {
  node(id: $id) { ... on Customer { notes(filter: $filter) { edges { node { body } } } noteCount(filter: $filter) } }
}
"""
MY_TASKS = """
query($filter: TaskFilter) { viewer { tasks(filter: $filter) { edges { node { body category { name } } } } } }
"""


async def create_category(org: TestOrg, name: str, color: str = "#1e88e5", *, as_: str = "admin") -> dict:
    data = await org.ok(CATEGORY_CREATE, {"input": {"name": name, "colour": color}}, as_=as_)
    return dict(data["noteCategoryCreate"])


async def category_id(org: TestOrg, name: str) -> str:
    payload = await create_category(org, name)
    assert payload["errors"] == [], payload["errors"]
    return str(payload["category"]["id"])


async def test_an_admin_creates_a_category(org: TestOrg) -> None:
    # when
    payload = await create_category(org, "Visite", "#1E88E5")
    # then
    assert payload["errors"] == []
    assert (payload["category"]["name"], payload["category"]["colour"]) == ("Visite", "#1e88e5")
    assert (await org.ok(CATEGORIES, as_="member"))["noteCategories"] == [{"name": "Visite", "colour": "#1e88e5"}]


async def test_categories_are_listed_by_name(org: TestOrg) -> None:
    # given
    for name in ("Relance", "Mise en place de compte", "Visite"):
        await category_id(org, name)
    # when
    data = await org.ok(CATEGORIES)
    # then
    assert [category["name"] for category in data["noteCategories"]] == ["Mise en place de compte", "Relance", "Visite"]


async def test_only_admins_manage_categories(org: TestOrg) -> None:
    # when
    payload = await create_category(org, "Visite", as_="manager")
    # then
    assert [e["code"] for e in payload["errors"]] == ["FORBIDDEN"]
    assert (await org.ok(CATEGORIES))["noteCategories"] == []


async def test_category_names_are_unique_ignoring_case_and_accents(org: TestOrg) -> None:
    # given
    await category_id(org, "Réunion")
    # when
    payload = await create_category(org, "reunion")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("CONFLICT", ["input", "name"])]


async def test_a_category_needs_a_valid_colour(org: TestOrg) -> None:
    # when
    payload = await create_category(org, "Visite", "blue")
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "colour"])]


async def test_the_deprecated_color_spelling_still_reads_and_writes_the_colour(org: TestOrg) -> None:
    # given
    created = (await org.ok(CATEGORY_CREATE_OLD, {"input": {"name": "Visite", "color": "#ABCDEF"}}))["noteCategoryCreate"]
    # when
    updated = (await org.ok(CATEGORY_UPDATE_OLD, {"input": {"id": created["category"]["id"], "color": "#000000"}}))["noteCategoryUpdate"]
    # then
    assert (created["category"]["color"], created["category"]["colour"]) == ("#abcdef", "#abcdef")
    assert (updated["category"]["color"], updated["category"]["colour"]) == ("#000000", "#000000")


async def test_a_colour_given_under_both_spellings_is_refused(org: TestOrg) -> None:
    # when
    payload = (await org.ok(CATEGORY_CREATE_OLD, {"input": {"name": "Visite", "color": "#abcdef", "colour": "#abcdef"}}))["noteCategoryCreate"]
    # then
    assert payload["category"] is None and [(e["code"], e["path"]) for e in payload["errors"]] == [("INVALID", ["input", "color"])]


async def test_a_category_without_a_colour_gets_the_default(org: TestOrg) -> None:
    # when
    payload = (await org.ok(CATEGORY_CREATE_OLD, {"input": {"name": "Visite"}}))["noteCategoryCreate"]
    # then
    assert payload["category"]["colour"] == "#607d8b"


async def test_an_admin_renames_and_recolours_a_category(org: TestOrg) -> None:
    # given
    category = await category_id(org, "Visite")
    # when
    data = await org.ok(CATEGORY_UPDATE, {"input": {"id": category, "name": "Visite terrain", "colour": "#000000"}})
    # then
    assert data["noteCategoryUpdate"]["category"] == {"id": category, "name": "Visite terrain", "colour": "#000000"}


async def test_renaming_a_category_to_another_ones_name_is_a_conflict(org: TestOrg) -> None:
    # given
    await category_id(org, "Visite")
    category = await category_id(org, "Relance")
    # when
    data = await org.ok(CATEGORY_UPDATE, {"input": {"id": category, "name": "VISITE"}})
    # then
    assert [e["code"] for e in data["noteCategoryUpdate"]["errors"]] == ["CONFLICT"]


async def test_deleting_a_category_keeps_its_notes_uncategorised(org: TestOrg) -> None:
    # given
    category = await category_id(org, "Visite")
    note = await add_note(org, "vu le client", categoryId=category)
    # when
    data = await org.ok(CATEGORY_DELETE, {"id": category})
    # then
    assert data["noteCategoryDelete"] == {"deletedCategoryId": category, "errors": []}
    assert (await org.ok(NODE, {"id": note["id"]}))["node"]["category"] is None


async def test_a_note_carries_its_category(org: TestOrg) -> None:
    # given
    category = await category_id(org, "Visite")
    # when
    note = await add_note(org, "vu le client", categoryId=category)
    # then
    assert note["category"] == {"id": category, "name": "Visite"}


async def test_customer_notes_are_filtered_by_category(org: TestOrg) -> None:
    # given
    visit = await category_id(org, "Visite")
    follow_up = await category_id(org, "Relance")
    customer = await create_customer(org)
    await add_note(org, "visite", targetId=customer, categoryId=visit)
    await add_note(org, "relance", targetId=customer, categoryId=follow_up)
    await add_note(org, "sans catégorie", targetId=customer)
    # when
    data = await org.ok(CUSTOMER_NOTES, {"id": customer, "filter": {"categoryIds": [visit]}})
    # then
    assert [edge["node"]["body"] for edge in data["node"]["notes"]["edges"]] == ["visite"]
    assert data["node"]["noteCount"] == 1


async def test_tasks_are_filtered_by_category(org: TestOrg) -> None:
    # given
    follow_up = await category_id(org, "Relance")
    me = user_id(org, "member")
    await add_task(org, "relancer", assigneeId=me, categoryId=follow_up)
    await add_task(org, "autre", assigneeId=me)
    # when
    data = await org.ok(MY_TASKS, {"filter": {"categoryIds": [follow_up]}}, as_="member")
    # then
    assert data["viewer"]["tasks"]["edges"] == [{"node": {"body": "relancer", "category": {"name": "Relance"}}}]


async def test_notes_and_tasks_can_be_filtered_by_kind(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "note", targetId=customer)
    await add_task(org, "task", targetId=customer)
    # when
    notes = await org.ok(CUSTOMER_NOTES, {"id": customer, "filter": {"kind": "NOTE"}})
    tasks = await org.ok(CUSTOMER_NOTES, {"id": customer, "filter": {"kind": "TASK"}})
    # then
    assert [edge["node"]["body"] for edge in notes["node"]["notes"]["edges"]] == ["note"]
    assert [edge["node"]["body"] for edge in tasks["node"]["notes"]["edges"]] == ["task"]


async def test_another_organisations_category_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await category_id(other_org, "Visite")
    # when
    payload = await note_create(org, "note", categoryId=foreign)
    # then
    assert [(e["code"], e["path"]) for e in payload["errors"]] == [("NOT_FOUND", ["input", "categoryId"])]


async def test_a_category_filter_needs_category_ids(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    result = await org.gql(CUSTOMER_NOTES, {"id": customer, "filter": {"categoryIds": [encode_id("User", 1)]}})
    # then
    assert result.error_codes == ["BAD_USER_INPUT"]

"""Notes (N1, N5, N8): writing, reading, editing and deleting, and typed errors."""

from __future__ import annotations

from fiche.relay import encode_id
from fiche.plugins.notes.services import MAX_BODY_LENGTH
from tests.plugins.notes.support import (
    NODE,
    NOTE_DELETE,
    NOTE_UPDATE,
    add_note,
    create_customer,
    note_create,
    user_id,
)
from tests.support import TestOrg

CUSTOMER_NOTES = """
query($id: ID!, $first: Int, $after: String, $filter: NoteFilter) {
  node(id: $id) { ... on Customer { notes(first: $first, after: $after, filter: $filter) {
    edges { node { body target { id } } } pageInfo { hasNextPage endCursor }
  } noteCount(filter: $filter) } }
}
"""
ROOT_NOTES = """
query($scope: NoteScope!) { notes(scope: $scope) { edges { node { body } } } }
"""


async def customer_notes(org: TestOrg, customer: str, *, as_: str = "admin", **variables: object) -> dict:
    data = await org.ok(CUSTOMER_NOTES, {"id": customer, **variables}, as_=as_)
    return data["node"]


async def test_a_note_on_a_customer_records_author_time_and_target(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    # when
    note = await add_note(org, "Préfère l'e-mail.", as_="member", targetId=customer)
    # then
    assert note["body"] == "Préfère l'e-mail."
    assert note["author"] == {"handle": "member"}
    assert note["target"] == {"id": customer}
    assert note["visibility"] == "ORGANIZATION"
    assert note["isTask"] is False and note["assignee"] is None
    assert note["createdAt"] == note["updatedAt"]


async def test_a_general_note_has_no_target_and_is_listed_as_general(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "Sur le client", targetId=customer)
    # when
    note = await add_note(org, "Réunion lundi")
    data = await org.ok(ROOT_NOTES, {"scope": "GENERAL"})
    # then
    assert note["target"] is None
    assert [edge["node"]["body"] for edge in data["notes"]["edges"]] == ["Réunion lundi"]


async def test_customer_notes_are_newest_first_and_paginate(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    for body in ("one", "two", "three"):
        await add_note(org, body, targetId=customer)
    # when
    first = await customer_notes(org, customer, first=2)
    rest = await customer_notes(org, customer, first=2, after=first["notes"]["pageInfo"]["endCursor"])
    # then
    assert [edge["node"]["body"] for edge in first["notes"]["edges"]] == ["three", "two"]
    assert first["notes"]["pageInfo"]["hasNextPage"] is True
    assert [edge["node"]["body"] for edge in rest["notes"]["edges"]] == ["one"]
    assert rest["notes"]["pageInfo"]["hasNextPage"] is False


async def test_branch_notes_stay_on_the_branch(org: TestOrg) -> None:
    # given
    main = await create_customer(org, "Main")
    branch = await create_customer(org, "Branch", parent_id=main)
    await add_note(org, "on the branch", targetId=branch)
    # when
    on_main = await customer_notes(org, main)
    on_branch = await customer_notes(org, branch)
    # then
    assert on_main["notes"]["edges"] == [] and on_main["noteCount"] == 0
    assert [edge["node"]["body"] for edge in on_branch["notes"]["edges"]] == ["on the branch"]


async def test_the_main_customer_can_include_its_branches_notes(org: TestOrg) -> None:
    # given
    main = await create_customer(org, "Main")
    branch = await create_customer(org, "Branch", parent_id=main)
    sub_branch = await create_customer(org, "Sub-branch", parent_id=branch)
    await add_note(org, "main 1", targetId=main)
    await add_note(org, "branch", targetId=branch)
    await add_note(org, "sub-branch", targetId=sub_branch)
    await add_note(org, "main 2", targetId=main)
    # when
    page = await customer_notes(org, main, filter={"includeBranches": True}, first=3)
    # then
    assert [edge["node"]["body"] for edge in page["notes"]["edges"]] == ["main 2", "sub-branch", "branch"]
    assert page["notes"]["pageInfo"]["hasNextPage"] is True
    assert page["noteCount"] == 4


async def test_including_branches_paginates_across_them(org: TestOrg) -> None:
    # given
    main = await create_customer(org, "Main")
    branch = await create_customer(org, "Branch", parent_id=main)
    for body, target in (("a", main), ("b", branch), ("c", main), ("d", branch)):
        await add_note(org, body, targetId=target)
    first = await customer_notes(org, main, filter={"includeBranches": True}, first=2)
    # when
    rest = await customer_notes(
        org, main, filter={"includeBranches": True}, first=2, after=first["notes"]["pageInfo"]["endCursor"]
    )
    # then
    assert [edge["node"]["body"] for edge in rest["notes"]["edges"]] == ["b", "a"]
    assert rest["notes"]["pageInfo"]["hasNextPage"] is False


async def test_node_resolves_a_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "hello")
    # when
    data = await org.ok(NODE, {"id": note["id"]}, as_="technician")
    # then
    assert data["node"]["body"] == "hello"


async def test_root_notes_lists_my_notes(org: TestOrg) -> None:
    # given
    await add_note(org, "by member", as_="member")
    await add_note(org, "by manager", as_="manager")
    # when
    data = await org.ok(ROOT_NOTES, {"scope": "MINE"}, as_="member")
    # then
    assert [edge["node"]["body"] for edge in data["notes"]["edges"]] == ["by member"]


async def test_root_notes_lists_notes_mentioning_me(org: TestOrg) -> None:
    # given
    await add_note(org, "hello @member2")
    await add_note(org, "hello @member")
    # when
    data = await org.ok(ROOT_NOTES, {"scope": "MENTIONING_ME"}, as_="member2")
    # then
    assert [edge["node"]["body"] for edge in data["notes"]["edges"]] == ["hello @member2"]


async def test_notes_can_be_filtered_by_author(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "by member", as_="member", targetId=customer)
    await add_note(org, "by admin", targetId=customer)
    # when
    page = await customer_notes(org, customer, filter={"authorId": user_id(org, "member")})
    # then
    assert [edge["node"]["body"] for edge in page["notes"]["edges"]] == ["by member"]


async def test_notes_can_be_searched_ignoring_case_and_accents(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "Problème de LIVRAISON le 5 janvier", targetId=customer)
    await add_note(org, "Tarifs négociés", targetId=customer)
    # when
    page = await customer_notes(org, customer, filter={"search": "livraison"})
    # then
    assert [edge["node"]["body"] for edge in page["notes"]["edges"]] == ["Problème de LIVRAISON le 5 janvier"]


async def test_search_treats_like_wildcards_literally(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "remise de 10%", targetId=customer)
    await add_note(org, "remise de 100 euros", targetId=customer)
    # when
    page = await customer_notes(org, customer, filter={"search": "10%"})
    # then
    assert [edge["node"]["body"] for edge in page["notes"]["edges"]] == ["remise de 10%"]


async def test_an_edited_note_is_found_by_its_new_text(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    note = await add_note(org, "avant", targetId=customer)
    await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "Après modification"}})
    # when
    page = await customer_notes(org, customer, filter={"search": "APRES"})
    # then
    assert [edge["node"]["body"] for edge in page["notes"]["edges"]] == ["Après modification"]


# -- edit and delete -----------------------------------------------------------------------


async def test_the_author_edits_a_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "draft", as_="member")
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "final"}}, as_="member")
    # then
    payload = data["noteUpdate"]
    assert payload["errors"] == []
    assert payload["note"]["body"] == "final"
    assert payload["note"]["updatedAt"] >= note["updatedAt"]


async def test_an_admin_edits_anyones_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "draft", as_="member")
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "fixed by admin"}}, as_="admin")
    # then
    assert data["noteUpdate"]["note"]["body"] == "fixed by admin"


async def test_a_colleague_cannot_edit_someone_elses_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "mine", as_="member")
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "theirs"}}, as_="manager")
    # then
    assert data["noteUpdate"]["note"] is None
    assert [error["code"] for error in data["noteUpdate"]["errors"]] == ["FORBIDDEN"]
    node = await org.ok(NODE, {"id": note["id"]})
    assert node["node"]["body"] == "mine"


async def test_the_author_deletes_a_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "bye @member2", as_="member")
    # when
    data = await org.ok(NOTE_DELETE, {"id": note["id"]}, as_="member")
    # then
    assert data["noteDelete"] == {"deletedNoteId": note["id"], "errors": []}
    assert (await org.ok(NODE, {"id": note["id"]}))["node"] is None


async def test_deleting_a_note_withdraws_its_text_from_notifications(org: TestOrg) -> None:
    # given
    note = await add_note(org, "@member2 information erronée", as_="member")
    # when
    await org.ok(NOTE_DELETE, {"id": note["id"]}, as_="member")
    # then
    data = await org.ok("{ notifications { edges { node { kind message link subject { id } } } } }", as_="member2")
    assert data["notifications"]["edges"] == [
        {"node": {"kind": "MENTION", "message": "A note you were notified about was deleted.", "link": None, "subject": None}}
    ]


async def test_a_colleague_cannot_delete_someone_elses_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "mine", as_="member")
    # when
    data = await org.ok(NOTE_DELETE, {"id": note["id"]}, as_="member2")
    # then
    assert [error["code"] for error in data["noteDelete"]["errors"]] == ["FORBIDDEN"]
    assert (await org.ok(NODE, {"id": note["id"]}))["node"] is not None


async def test_an_admin_deletes_anyones_note(org: TestOrg) -> None:
    # given
    note = await add_note(org, "mine", as_="member")
    # when
    data = await org.ok(NOTE_DELETE, {"id": note["id"]})
    # then
    assert data["noteDelete"]["errors"] == []


async def test_viewer_can_edit_tells_who_may_edit(org: TestOrg) -> None:
    # given
    note = await add_note(org, "mine", as_="member")
    # when
    as_author = (await org.ok(NODE, {"id": note["id"]}, as_="member"))["node"]["viewerCanEdit"]
    as_colleague = (await org.ok(NODE, {"id": note["id"]}, as_="member2"))["node"]["viewerCanEdit"]
    # then
    assert (as_author, as_colleague) == (True, False)


# -- typed errors --------------------------------------------------------------------------


async def test_an_empty_body_is_invalid(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "   \n ")
    # then
    assert payload["note"] is None
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "body"])]


async def test_a_body_over_the_limit_is_refused(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "x" * (MAX_BODY_LENGTH + 1))
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("LIMIT_EXCEEDED", ["input", "body"])]


async def test_an_unknown_target_is_not_found(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", targetId=encode_id("Customer", 987654321))
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("NOT_FOUND", ["input", "targetId"])]


async def test_a_malformed_target_is_invalid(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", targetId="not-an-id")
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "targetId"])]


async def test_a_target_that_is_not_a_subject_type_is_invalid(org: TestOrg) -> None:
    # when
    payload = await note_create(org, "hello", targetId=user_id(org, "member"))
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("INVALID", ["input", "targetId"])]


async def test_another_organisations_customer_is_not_found(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await create_customer(other_org, "Foreign")
    # when
    payload = await note_create(org, "hello", targetId=foreign)
    # then
    assert [(error["code"], error["path"]) for error in payload["errors"]] == [("NOT_FOUND", ["input", "targetId"])]


async def test_another_organisations_note_is_invisible(org: TestOrg, other_org: TestOrg) -> None:
    # given
    foreign = await add_note(other_org, "secret")
    # when
    node = await org.ok(NODE, {"id": foreign["id"]})
    update = await org.ok(NOTE_UPDATE, {"input": {"id": foreign["id"], "body": "hacked"}})
    delete = await org.ok(NOTE_DELETE, {"id": foreign["id"]})
    # then
    assert node["node"] is None
    assert [error["code"] for error in update["noteUpdate"]["errors"]] == ["NOT_FOUND"]
    assert [error["code"] for error in delete["noteDelete"]["errors"]] == ["NOT_FOUND"]


async def test_a_note_needs_authentication(org: TestOrg) -> None:
    # when
    result = await org.gql(NOTE_DELETE, {"id": encode_id("Note", 1)}, as_=None)
    # then
    assert result.error_codes == ["UNAUTHENTICATED"]

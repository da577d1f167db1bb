"""Mentions (N2): ``@handle`` resolution with ranges, MENTION notifications exactly once,
and ``mentionableUsers`` for autocompletion."""

from __future__ import annotations

from fiche.relay import encode_id
from tests.plugins.notes.support import NOTE_UPDATE, add_note, create_customer, inbox, inboxes, nobody_but
from tests.support import TestOrg

MENTIONABLE = """
query($prefix: String!, $first: Int, $visibility: NoteVisibility, $teamId: ID) {
  mentionableUsers(prefix: $prefix, first: $first, visibility: $visibility, teamId: $teamId) { handle }
}
"""
PREFERENCE = """
mutation($kind: String!, $enabled: Boolean!) { notificationPreferenceSet(kind: $kind, enabled: $enabled) { errors { code } } }
"""
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) { errors { code } } }
"""


async def test_mentions_are_resolved_with_their_character_ranges(org: TestOrg) -> None:
    # when
    note = await add_note(org, "Merci @member et @Manager.")
    # then
    assert note["mentions"] == [
        {"handle": "member", "start": 6, "end": 13, "user": {"handle": "member"}},
        {"handle": "manager", "start": 17, "end": 25, "user": {"handle": "manager"}},
    ]
    assert note["body"][6:13] == "@member" and note["body"][17:25] == "@Manager"


async def test_unknown_handles_and_emails_stay_plain_text(org: TestOrg) -> None:
    # when
    note = await add_note(org, "Voir @personne et écrire à member@example.com")
    # then
    assert note["mentions"] == []
    assert note["body"] == "Voir @personne et écrire à member@example.com"
    assert await inboxes(org) == nobody_but({}, org)


async def test_a_mentioned_user_is_notified_once_with_a_link_to_the_customer_and_note(org: TestOrg) -> None:
    # given
    customer = await create_customer(org, "Dupont SA")
    # when
    note = await add_note(org, "@member2 peux-tu rappeler ?", as_="member", targetId=customer)
    # then
    [notification] = await inbox(org, "member2")
    assert notification["kind"] == "MENTION"
    assert notification["subject"] == note["id"]
    assert notification["target"] == customer
    assert notification["actor"] == "member"
    assert notification["link"] == f"/customers/{customer}#note-{note['id']}"
    assert "Dupont SA" in notification["message"]
    assert await inboxes(org) == nobody_but({"member2": ["MENTION"]}, org)


async def test_a_mention_in_a_general_note_leads_to_the_note(org: TestOrg) -> None:
    # when
    note = await add_note(org, "@member2 réunion lundi")
    # then
    [notification] = await inbox(org, "member2")
    assert (notification["target"], notification["link"]) == (None, f"/notes/{note['id']}")


async def test_mentioning_yourself_sends_no_notification(org: TestOrg) -> None:
    # when
    note = await add_note(org, "note à moi-même @member", as_="member")
    # then
    assert [mention["handle"] for mention in note["mentions"]] == ["member"]
    assert await inboxes(org) == nobody_but({}, org)


async def test_a_user_mentioned_twice_is_notified_once(org: TestOrg) -> None:
    # when
    await add_note(org, "@member2 ... et encore @member2 !")
    # then
    assert await inboxes(org) == nobody_but({"member2": ["MENTION"]}, org)


async def test_editing_notifies_only_newly_mentioned_users(org: TestOrg) -> None:
    # given
    note = await add_note(org, "@member2 regarde", as_="member")
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "@member2 et @technician regardez"}}, as_="member")
    # then
    assert data["noteUpdate"]["errors"] == []
    assert await inboxes(org) == nobody_but({"member2": ["MENTION"], "technician": ["MENTION"]}, org)


async def test_editing_without_new_mentions_notifies_nobody(org: TestOrg) -> None:
    # given
    note = await add_note(org, "@member2 regarde", as_="member")
    # when
    await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "body": "@member2 regarde bien"}}, as_="member")
    # then
    assert await inboxes(org) == nobody_but({"member2": ["MENTION"]}, org)


async def test_a_handle_of_another_organisation_mentions_the_user_of_this_one(org: TestOrg, other_org: TestOrg) -> None:
    # when: both organisations have a user @member2
    note = await add_note(org, "@member2 bonjour")
    # then
    assert note["mentions"][0]["user"] == {"handle": "member2"}
    assert await inbox(other_org, "member2") == []
    assert len(await inbox(org, "member2")) == 1


async def test_a_deactivated_user_is_not_mentioned(org: TestOrg) -> None:
    # given
    await org.ok(USER_UPDATE, {"input": {"id": encode_id("User", org.users["member2"].id), "isActive": False}})
    # when
    note = await add_note(org, "@member2 bonjour")
    # then
    assert note["mentions"] == []


async def test_a_note_mentioning_a_since_deactivated_user_can_still_be_edited(org: TestOrg) -> None:
    # given
    note = await add_note(org, "@member2 bonjour", as_="member")
    await org.ok(USER_UPDATE, {"input": {"id": encode_id("User", org.users["member2"].id), "isActive": False}})
    # when
    data = await org.ok(NOTE_UPDATE, {"input": {"id": note["id"], "visibility": "MANAGERS"}}, as_="member")
    # then
    assert data["noteUpdate"]["errors"] == []


async def test_a_mention_honours_the_users_preference(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE, {"kind": "MENTION", "enabled": False}, as_="member2")
    # when
    await add_note(org, "@member2 bonjour")
    # then
    assert await inbox(org, "member2") == []


# -- autocompletion ------------------------------------------------------------------------


async def test_mentionable_users_match_handle_prefixes(org: TestOrg) -> None:
    # when
    data = await org.ok(MENTIONABLE, {"prefix": "mem"}, as_="admin")
    # then
    assert [user["handle"] for user in data["mentionableUsers"]] == ["member", "member2"]


async def test_mentionable_users_match_name_prefixes_ignoring_case_and_accents(org: TestOrg) -> None:
    # when: users are named "<Who> Test"
    data = await org.ok(MENTIONABLE, {"prefix": "TÉS", "first": 2})
    # then
    assert len(data["mentionableUsers"]) == 2


async def test_mentionable_users_accept_the_at_sign_and_put_exact_handles_first(org: TestOrg) -> None:
    # when
    data = await org.ok(MENTIONABLE, {"prefix": "@member"})
    # then
    assert data["mentionableUsers"][0]["handle"] == "member"


async def test_mentionable_users_leave_out_deactivated_users(org: TestOrg) -> None:
    # given
    await org.ok(USER_UPDATE, {"input": {"id": encode_id("User", org.users["member2"].id), "isActive": False}})
    # when
    data = await org.ok(MENTIONABLE, {"prefix": "member"})
    # then
    assert [user["handle"] for user in data["mentionableUsers"]] == ["member"]


async def test_mentionable_users_can_be_limited_to_who_could_read_a_team_note(org: TestOrg) -> None:
    # when
    data = await org.ok(
        MENTIONABLE, {"prefix": "", "visibility": "TEAM", "teamId": encode_id("Team", org.teams["south"].id)}, as_="admin"
    )
    # then: south's members, plus admins (the viewer here)
    assert sorted(user["handle"] for user in data["mentionableUsers"]) == ["admin", "member2", "technician"]


async def test_mentionable_users_can_be_limited_to_managers(org: TestOrg) -> None:
    # when
    data = await org.ok(MENTIONABLE, {"prefix": "", "visibility": "MANAGERS"}, as_="member")
    # then: the author always reads their note
    assert sorted(user["handle"] for user in data["mentionableUsers"]) == ["admin", "manager", "member"]

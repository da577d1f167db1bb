"""What writing a note costs and leaves behind: a note's mentions, its customer's
followers and their access are read in one statement, the note and its mentions are
written in one (PostgreSQL) or two (SQLite), every rule's recipients' preferences in one;
the rows written without the ORM carry the organisation, the audit columns and the search
text; and a failure after the note was written leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fiche.notifications import models as inbox_models
from fiche.notifications import service as inbox_service
from fiche.plugins.notes import models
from fiche.relay import decode_id
from fiche.text import fold
from tests.plugins.notes.support import FOLLOW, create_customer, inboxes, nobody_but
from tests.support import TestOrg, count_statements

NOTE_CREATE = "mutation($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code message path } } }"
PREFERENCE = """
mutation($kind: String!, $enabled: Boolean!) { notificationPreferenceSet(kind: $kind, enabled: $enabled) { errors { code } } }
"""


async def written(org: TestOrg, body: str, *, as_: str = "manager", **fields: Any) -> tuple[int, str]:
    """Statements of one ``noteCreate`` (that must succeed) and the note's ID."""
    with count_statements(org.state.db) as counter:
        data = await org.ok(NOTE_CREATE, {"input": {"body": body, **fields}}, as_=as_)
    payload = data["noteCreate"]
    assert payload["errors"] == [], payload["errors"]
    return counter.count, str(payload["note"]["id"])


async def test_a_note_mentioning_four_colleagues_costs_the_statements_of_one_mentioning_one(org: TestOrg) -> None:
    # when
    one, _ = await written(org, "@member à voir")
    four, _ = await written(org, "@member @member2 @technician @admin à voir")
    # then: mentions and access in one read, note and mentions in one write (two on
    # SQLite), the preferences in one read, the inbox in one write (two on SQLite)
    assert one == four == (6 if org.state.db.is_sqlite else 4)
    assert await inboxes(org) == nobody_but({"member": ["MENTION", "MENTION"], "member2": ["MENTION"], "technician": ["MENTION"], "admin": ["MENTION"]}, org)


async def test_a_note_without_mentions_reads_nobody(org: TestOrg) -> None:
    # when
    count, _ = await written(org, "rien à signaler")
    # then: the note alone
    assert count == 1
    assert await inboxes(org) == nobody_but({}, org)


async def test_followers_and_mentions_cost_no_statement_more_than_mentions_alone(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    mentions_only, _ = await written(org, "@member à voir", targetId=customer)
    for who in ("member2", "technician", "admin"):
        assert (await org.ok(FOLLOW, {"id": customer}, as_=who))["customerFollow"]["errors"] == []
    # when
    both, _ = await written(org, "@member à voir", targetId=customer)
    # then: the followers come with the mentions' read, their preferences with the mentions'
    assert both == mentions_only
    assert await inboxes(org) == nobody_but(
        {"member": ["MENTION", "MENTION"], "member2": ["FOLLOWED_CUSTOMER_NOTE"], "technician": ["FOLLOWED_CUSTOMER_NOTE"], "admin": ["FOLLOWED_CUSTOMER_NOTE"]},
        org,
    )


async def test_a_follower_with_mentions_off_hears_through_the_next_rule_of_the_same_read(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    assert (await org.ok(FOLLOW, {"id": customer}, as_="member"))["customerFollow"]["errors"] == []
    await org.ok(PREFERENCE, {"kind": "MENTION", "enabled": False}, as_="member")
    # when
    await written(org, "@member @member2 à voir", targetId=customer)
    # then
    assert await inboxes(org) == nobody_but({"member": ["FOLLOWED_CUSTOMER_NOTE"], "member2": ["MENTION"]}, org)


async def test_a_note_written_without_the_orm_carries_organisation_audit_columns_and_search_text(org: TestOrg) -> None:
    # when
    _, note_id = await written(org, "Élodie rappelle @member demain")
    # then
    pk = int(decode_id(note_id)[1])
    async with org.state.db.reader(org.organization_id) as session:
        note = (await session.execute(select(models.Note).where(models.Note.id == pk))).scalar_one()
        mentions = (await session.execute(select(models.NoteMention).where(models.NoteMention.note_id == pk))).scalars().all()
    manager = org.users["manager"].id
    assert (note.organization_id, note.author_id, note.created_by_id, note.updated_by_id) == (org.organization_id, manager, manager, manager)
    assert note.search_text == fold("Élodie rappelle @member demain")
    assert note.created_at == note.updated_at and note.visibility is models.Visibility.ORGANIZATION and note.is_task is False
    assert [(m.organization_id, m.user_id, m.start, m.stop) for m in mentions] == [(org.organization_id, org.users["member"].id, 16, 23)]


async def test_another_organisations_users_are_neither_mentioned_nor_notified(org: TestOrg, other_org: TestOrg) -> None:
    # when: both organisations have a user handled "member"
    await written(org, "@member à voir")
    # then
    assert await inboxes(other_org) == nobody_but({}, other_org)
    assert await inboxes(org) == nobody_but({"member": ["MENTION"]}, org)


async def test_a_failure_after_the_note_was_written_leaves_nothing_behind(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: notifying fails once the note and its mentions were written
    async def broken(*args: Any, **kwargs: Any) -> dict[int, str]:
        raise RuntimeError("notification store unavailable")

    monkeypatch.setattr(inbox_service, "notify_first", broken)
    # when
    result = await org.gql(NOTE_CREATE, {"input": {"body": "@member à voir"}}, as_="manager")
    # then
    assert result.errors
    async with org.state.db.reader(org.organization_id) as session:
        assert (await session.execute(select(models.Note.id))).all() == []
        assert (await session.execute(select(models.NoteMention.id))).all() == []
        assert (await session.execute(select(inbox_models.Notification.id))).all() == []

"""A deleted note's ID (and so its ``#note-…`` deep link) is never given to a new note, on
both databases; category names stay unique (ignoring case and accents) when many admins
create them at once."""

from __future__ import annotations

import asyncio

from tests.plugins.notes.support import CATEGORY_CREATE, NODE, NOTE_DELETE, add_note
from tests.support import TestOrg

WRITERS = 12


async def test_a_new_note_never_takes_the_id_of_a_deleted_one(org: TestOrg) -> None:
    # given: the newest note is deleted (on SQLite, the largest ID is the one that was reused)
    await add_note(org, "kept")
    deleted = await add_note(org, "deleted")
    assert (await org.ok(NOTE_DELETE, {"id": deleted["id"]}))["noteDelete"]["errors"] == []
    # when
    created = await add_note(org, "new")
    # then: the old ID and deep link still lead nowhere
    assert created["id"] != deleted["id"]
    assert (await org.ok(NODE, {"id": deleted["id"]}))["node"] is None


async def test_concurrent_categories_with_one_name_have_one_winner(org: TestOrg) -> None:
    # given: one name written with different case and accents
    spellings = ["Été", "ete", "ÉTÉ", "Ete"] * (WRITERS // 4)
    # when
    results = await asyncio.gather(
        *(org.gql(CATEGORY_CREATE, {"input": {"name": name, "colour": "#1565C0"}}) for name in spellings)
    )
    # then
    assert all(result.errors == [] for result in results), [result.errors for result in results]
    payloads = [result.data["noteCategoryCreate"] for result in results]
    assert sum(1 for payload in payloads if payload["errors"] == []) == 1
    errors = [(error["code"], error["path"]) for payload in payloads for error in payload["errors"]]
    assert errors == [("CONFLICT", ["input", "name"])] * (WRITERS - 1)

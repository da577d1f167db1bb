"""GraphQL documents and small helpers shared by the notes tests."""

from __future__ import annotations

from typing import Any

from fiche.relay import encode_id
from tests.support import TestOrg

CUSTOMER_CREATE = """
mutation($input: CustomerCreateInput!) {
  customerCreate(input: $input) { customer { id } errors { code message path } }
}
"""
NOTE_FIELDS = """
  id body visibility isTask createdAt updatedAt dueAt completedAt isDone isOverdue viewerCanEdit
  author { handle } assignee { handle } completedBy { handle } category { id name } team { id name }
  target { id } mentions { handle start end user { handle } }
"""
NOTE_CREATE = f"""
mutation($input: NoteCreateInput!) {{
  noteCreate(input: $input) {{ note {{ {NOTE_FIELDS} }} errors {{ code message path }} }}
}}
"""
NOTE_UPDATE = f"""
mutation($input: NoteUpdateInput!) {{
  noteUpdate(input: $input) {{ note {{ {NOTE_FIELDS} }} errors {{ code message path }} }}
}}
"""
NOTE_DELETE = """
mutation($id: ID!) { noteDelete(id: $id) { deletedNoteId errors { code message path } } }
"""
TASK_CREATE = f"""
mutation($input: TaskCreateInput!) {{
  taskCreate(input: $input) {{ task {{ {NOTE_FIELDS} }} errors {{ code message path }} }}
}}
"""
INBOX = """
{ notifications(first: 100) { edges { node { id kind message link actor { handle } subject { id } target { id } } } } }
"""
CATEGORY_CREATE = """
mutation($input: NoteCategoryCreateInput!) {
  noteCategoryCreate(input: $input) { category { id name colour } errors { code message path } }
}
"""
FOLLOW = """
mutation($id: ID!) { customerFollow(customerId: $id) { isFollowed customer { id } errors { code message path } } }
"""
UNFOLLOW = """
mutation($id: ID!) { customerUnfollow(customerId: $id) { isFollowed customer { id } errors { code message path } } }
"""
NODE = f"""
query($id: ID!) {{ node(id: $id) {{ id ... on Note {{ {NOTE_FIELDS} }} }} }}
"""


def user_id(org: TestOrg, who: str) -> str:
    return encode_id("User", org.users[who].id)


def team_id(org: TestOrg, name: str) -> str:
    return encode_id("Team", org.teams[name].id)


async def create_customer(org: TestOrg, name: str = "Dupont SA", *, parent_id: str | None = None) -> str:
    data = await org.ok(CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": name, "parentId": parent_id}})
    payload = data["customerCreate"]
    assert payload["errors"] == [], payload["errors"]
    return str(payload["customer"]["id"])


async def note_create(org: TestOrg, body: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    """The ``noteCreate`` payload (note and errors)."""
    data = await org.ok(NOTE_CREATE, {"input": {"body": body, **fields}}, as_=as_)
    return dict(data["noteCreate"])


async def add_note(org: TestOrg, body: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    """A note that must be created without error."""
    payload = await note_create(org, body, as_=as_, **fields)
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["note"])


async def task_create(org: TestOrg, body: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    data = await org.ok(TASK_CREATE, {"input": {"body": body, **fields}}, as_=as_)
    return dict(data["taskCreate"])


async def add_task(org: TestOrg, body: str, *, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    payload = await task_create(org, body, as_=as_, **fields)
    assert payload["errors"] == [], payload["errors"]
    return dict(payload["task"])


async def inbox(org: TestOrg, who: str) -> list[dict[str, Any]]:
    """``who``'s notifications, newest first, as ``{kind, subject, target, ...}``."""
    data = await org.ok(INBOX, as_=who)
    return [
        {
            "id": edge["node"]["id"],
            "kind": edge["node"]["kind"],
            "message": edge["node"]["message"],
            "link": edge["node"]["link"],
            "actor": (edge["node"]["actor"] or {}).get("handle"),
            "subject": (edge["node"]["subject"] or {}).get("id"),
            "target": (edge["node"]["target"] or {}).get("id"),
        }
        for edge in data["notifications"]["edges"]
    ]


async def kinds(org: TestOrg, who: str) -> list[str]:
    return [item["kind"] for item in await inbox(org, who)]


async def inboxes(org: TestOrg) -> dict[str, list[str]]:
    """Every test user's notification kinds (to prove nobody else got one)."""
    return {who: await kinds(org, who) for who in org.users}


def nobody_but(expected: dict[str, list[str]], org: TestOrg) -> dict[str, list[str]]:
    return {who: expected.get(who, []) for who in org.users}

"""What a user lost access to leaves their inbox (N4 + G11): after a task is reassigned
away, a role is lowered or a team is left, the notifications about notes the user may no
longer read keep only their kind, actor and read state. The notes plugin answers the
gateway's ``notification_visibility`` hook; the inbox asks it once per page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from fiche.accounts import models as accounts
from fiche.auth import load_viewers
from fiche.context import ConnectionContext, operation_context
from fiche.notifications.visibility import HIDDEN_MESSAGE
from fiche.relay import encode_id
from tests.plugins.notes.support import NOTE_DELETE, add_note, add_task, create_customer, team_id, user_id
from tests.support import TestOrg, count_statements

INBOX = """
{
  notifications(first: 50) { edges { node { kind message link actor { handle } subject { id } target { id } } } }
  unreadNotificationCount
}
"""
NODE = "query($id: ID!) { node(id: $id) { ... on Notification { message link } } }"
REASSIGN = """
mutation($id: ID!, $assigneeId: ID!) { taskReassign(id: $id, assigneeId: $assigneeId) { errors { code } } }
"""


async def as_now(org: TestOrg, who: str, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Run ``query`` as ``who`` with their CURRENT role and teams, read from the database."""
    viewer = (await load_viewers(org.state.db, org.organization_id, [org.users[who].id]))[org.users[who].id]
    result = await org.schema.execute(query, variable_values=variables, context_value=ConnectionContext(org.state, viewer=viewer))
    assert not result.errors, result.errors
    return result.data


async def change_access(org: TestOrg, *, role: tuple[str, accounts.Role] | None = None, team: tuple[str, list[str]] | None = None) -> None:
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        if role is not None:
            who, value = role
            await session.execute(update(accounts.User).where(accounts.User.id == org.users[who].id).values(role=value))
        if team is not None:
            name, members = team
            await session.execute(
                accounts.TeamMembership.__table__.delete().where(accounts.TeamMembership.team_id == org.teams[name].id)
            )
            session.add_all(accounts.TeamMembership(team_id=org.teams[name].id, user_id=org.users[who].id) for who in members)


def messages(data: Any) -> list[str]:
    return [edge["node"]["message"] for edge in data["notifications"]["edges"]]


async def test_a_task_reassigned_away_leaves_the_previous_assignees_inbox(org: TestOrg) -> None:
    # given: a managers-only task the member read only as its assignee
    task = await add_task(org, "Négocier la remise", as_="manager", assigneeId=user_id(org, "member"), visibility="MANAGERS")
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "admin")}, as_="manager")
    # then
    data = await as_now(org, "member", INBOX)
    [node] = [edge["node"] for edge in data["notifications"]["edges"]]
    assert node == {
        "kind": "TASK_ASSIGNED", "message": HIDDEN_MESSAGE, "link": None,
        "actor": {"handle": "manager"}, "subject": None, "target": None,
    }


async def test_a_task_reassigned_away_stays_readable_when_the_note_is_public(org: TestOrg) -> None:
    # given
    task = await add_task(org, "Rappeler le client", as_="manager", assigneeId=user_id(org, "member"))
    # when
    await org.ok(REASSIGN, {"id": task["id"], "assigneeId": user_id(org, "admin")}, as_="manager")
    # then
    assert "Rappeler le client" in messages(await as_now(org, "member", INBOX))[0]


async def test_a_lowered_role_hides_managers_notes_from_the_inbox(org: TestOrg) -> None:
    # given
    customer = await create_customer(org)
    await add_note(org, "@manager marge à 12 %", as_="admin", visibility="MANAGERS", targetId=customer)
    await add_note(org, "@manager bonjour", as_="admin")
    # when
    await change_access(org, role=("manager", accounts.Role.MEMBER))
    # then: the note's text, link, subject and customer are gone; the count does not change
    data = await as_now(org, "manager", INBOX)
    assert messages(data) == ["Admin Test mentioned you in a note: “@manager bonjour”", HIDDEN_MESSAGE]
    assert data["notifications"]["edges"][1]["node"]["target"] is None
    assert data["unreadNotificationCount"] == 2


async def test_leaving_a_team_hides_its_notes_from_the_inbox_and_from_node(org: TestOrg) -> None:
    # given
    await add_note(org, "@member plan de tournée", as_="manager", visibility="TEAM", teamId=team_id(org, "north"))
    notification = (await as_now(org, "member", "{ notifications { nodes { id } } }"))["notifications"]["nodes"][0]["id"]
    # when
    await change_access(org, team=("north", ["manager"]))
    # then
    assert messages(await as_now(org, "member", INBOX)) == [HIDDEN_MESSAGE]
    assert (await as_now(org, "member", NODE, {"id": notification}))["node"] == {"message": HIDDEN_MESSAGE, "link": None}


async def test_joining_the_team_again_shows_the_notification_again(org: TestOrg) -> None:
    # given
    await add_note(org, "@member plan de tournée", as_="manager", visibility="TEAM", teamId=team_id(org, "north"))
    await change_access(org, team=("north", ["manager"]))
    # when
    await change_access(org, team=("north", ["manager", "member"]))
    # then
    assert "plan de tournée" in messages(await as_now(org, "member", INBOX))[0]


async def test_an_inbox_page_asks_about_its_notes_in_a_constant_number_of_statements(org: TestOrg) -> None:
    # given: the manager, lowered to member, had notifications about few, then many, hidden notes
    counts = []
    for total in (2, 7):
        for index in range(total):
            await add_note(org, f"@manager secret {total}-{index}", as_="admin", visibility="MANAGERS")
        await change_access(org, role=("manager", accounts.Role.MEMBER))
        # when
        with count_statements(org.state.db) as counter:
            data = await as_now(org, "manager", INBOX)
        counts.append(counter.count)
        assert set(messages(data)) == {HIDDEN_MESSAGE}
        await change_access(org, role=("manager", accounts.Role.MANAGER))
    # then: the same statements for 2 and for 9 notifications (load_viewers included)
    assert counts[0] == counts[1]


async def test_hook_notification_visibility_answers_for_notes_only(org: TestOrg) -> None:
    # given
    secret = await add_note(org, "réservé", as_="admin", visibility="MANAGERS")
    public = await add_note(org, "pour tous", as_="admin")
    deleted = await add_note(org, "bientôt supprimée", as_="admin", visibility="MANAGERS")
    await org.ok(NOTE_DELETE, {"id": deleted["id"]})
    customer = await create_customer(org)
    ids = [secret["id"], public["id"], deleted["id"], customer, "not-an-id"]
    # when
    async with operation_context(org.state, org.viewer("member")) as context:
        [answer] = [await result for result in org.state.pm.hook.notification_visibility(context=context, object_ids=ids)]
    # then: hidden only what exists and may not be read; a deleted note's notifications say so already
    assert answer == {secret["id"]: False, public["id"]: True, deleted["id"]: True}


async def test_hook_notification_visibility_shows_every_note_to_an_admin_without_a_statement(org: TestOrg) -> None:
    # given
    secret = await add_note(org, "réservé", as_="manager", visibility="MANAGERS")
    # when
    async with operation_context(org.state, org.viewer("admin")) as context:
        with count_statements(org.state.db) as counter:
            [answer] = [await result for result in org.state.pm.hook.notification_visibility(context=context, object_ids=[secret["id"]])]
    # then
    assert answer == {secret["id"]: True}
    assert counter.count == 0


async def test_hook_notification_visibility_leaves_unknown_notes_visible(org: TestOrg) -> None:
    # given: a managers-only note ID used as the target of someone else's notification
    secret = await add_note(org, "réservé", as_="admin", visibility="MANAGERS")
    missing = encode_id("Note", 10**9)
    async with operation_context(org.state, org.viewer("member")) as context:
        # when
        [answer] = [await result for result in org.state.pm.hook.notification_visibility(context=context, object_ids=[secret["id"], missing])]
    # then
    assert answer == {secret["id"]: False, missing: True}

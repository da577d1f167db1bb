"""Access re-checked on an open WebSocket (fiche.live_access), over real sockets on the
memory broker and on Redis: a deactivated user's socket is closed with 4403, idle or not;
a lowered role or a team left applies to the next operation on the socket and to the
events of a subscription already running; an expired token closes the socket."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from fiche.accounts.models import Role
from fiche.app import create_app
from fiche.auth import issue_token
from fiche.context import AppState
from fiche.notifications.visibility import HIDDEN_MESSAGE
from tests.plugins.notes.live_access_support import NOTE_BODY, ask, close_code, set_team_members, update_user, wait_for_role
from tests.plugins.notes.support import FOLLOW, NOTE_CREATE, add_note, create_customer, inbox, team_id
from tests.plugins.notes.test_live import live_subscription
from tests.plugins.notes.wsclient import WsClient, post_graphql
from tests.support import TestOrg, live_server
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

CUSTOMER_DELETE = """
mutation($id: ID!) { customerDelete(id: $id) { deletedId errors { code } } }
"""
CUSTOMER = "query($id: ID!) { node(id: $id) { id } }"
NOTIFICATIONS_WITH_CUSTOMER_NOTES = """
subscription($after: ID) {
  notifications(after: $after) {
    id kind message
    target { ... on Customer { notes(first: 10) { nodes { body } } } }
  }
}
"""
REPLAY = "subscription($after: ID) { notifications(after: $after) { id kind message link subject { id } } }"


@pytest.fixture
def app(state: AppState) -> Starlette:
    return create_app(state.settings, state=state)


async def test_deactivating_a_user_closes_their_idle_socket_with_4403(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # when: nothing runs on the socket
        await update_user(host, org, "member", isActive=False)
        # then
        code, received = await close_code(client, within=2.0)
    assert (code, received) == (4403, [])


async def test_a_deactivated_users_subscription_gets_nothing_more_and_the_socket_closes(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when
        await update_user(host, org, "member", isActive=False)
        await add_note(org, "@member encore là ?", as_="manager")
        # then
        code, received = await close_code(client, within=2.0)
    assert (code, received) == (4403, [])


async def test_a_manager_lowered_to_member_loses_manager_rights_on_the_open_socket(org: TestOrg, app: Starlette) -> None:
    customer = await create_customer(org)
    secret = await add_note(org, "réservé aux managers", as_="admin", visibility="MANAGERS")
    async with live_server(app) as host, WsClient.connect(host, org.token("manager")) as client:
        assert (await ask(client, NOTE_BODY, {"id": secret["id"]}))["node"] == {"body": "réservé aux managers"}
        # when
        await update_user(host, org, "manager", role="MEMBER")
        # then
        assert (await ask(client, NOTE_BODY, {"id": secret["id"]}))["node"] is None
        deleted = (await ask(client, CUSTOMER_DELETE, {"id": customer}))["customerDelete"]
        assert (deleted["deletedId"], deleted["errors"]) == (None, [{"code": "FORBIDDEN"}])
    assert (await org.ok(CUSTOMER, {"id": customer}))["node"] == {"id": customer}


async def test_a_user_removed_from_a_team_no_longer_reads_its_notes_on_the_open_socket(org: TestOrg, app: Starlette) -> None:
    note = await add_note(org, "pour le nord", as_="manager", visibility="TEAM", teamId=team_id(org, "north"))
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        assert (await ask(client, NOTE_BODY, {"id": note["id"]}))["node"] == {"body": "pour le nord"}
        # when
        await set_team_members(host, org, "north", ["manager"])
        # then
        assert (await ask(client, NOTE_BODY, {"id": note["id"]}))["node"] is None


async def test_a_user_added_to_a_team_reads_its_notes_on_the_open_socket(org: TestOrg, app: Starlette) -> None:
    note = await add_note(org, "pour le nord", as_="manager", visibility="TEAM", teamId=team_id(org, "north"))
    async with live_server(app) as host, WsClient.connect(host, org.token("member2")) as client:
        assert (await ask(client, NOTE_BODY, {"id": note["id"]}))["node"] is None
        # when
        await set_team_members(host, org, "north", ["manager", "member", "member2"])
        # then
        assert (await ask(client, NOTE_BODY, {"id": note["id"]}))["node"] == {"body": "pour le nord"}


async def test_an_expired_token_closes_the_idle_socket_with_4403(org: TestOrg, app: Starlette) -> None:
    token = issue_token(org.state.settings, org.users["member"].id, org.organization_id, ttl=2)
    async with live_server(app) as host, WsClient.connect(host, token) as client:
        # when: the token expires while nothing runs on the socket
        code, received = await close_code(client, within=4.0)
    # then
    assert (code, received) == (4403, [])


async def test_a_role_change_reaches_a_running_subscription_without_a_new_operation(
    org: TestOrg, state: AppState, app: Starlette
) -> None:
    # given: the manager follows a customer with a managers-only note, and listens
    customer = await create_customer(org)
    await org.ok(FOLLOW, {"id": customer}, as_="manager")
    await add_note(org, "@manager bonjour", as_="admin")
    await add_note(org, "marge négociée", as_="admin", targetId=customer, visibility="MANAGERS")
    older = (await inbox(org, "manager"))[1]["id"]
    async with live_server(app) as host, WsClient.connect(host, org.token("manager")) as client:
        await client.subscribe(NOTIFICATIONS_WITH_CUSTOMER_NOTES, {"after": older})
        replayed = (await client.next())["notifications"]
        assert replayed["target"]["notes"]["nodes"] == [{"body": "marge négociée"}]
        # when: lowered to member (no operation on the socket), then a colleague writes on the customer
        await update_user(host, org, "manager", role="MEMBER")
        await wait_for_role(state, org, "manager", Role.MEMBER, within=1.0)
        await post_graphql(host, org.token("member"), NOTE_CREATE, {"input": {"body": "livraison lundi", "targetId": customer}})
        event = (await client.next(timeout=2.0))["notifications"]
    # then: the event is resolved with the rights of a member
    assert event["kind"] == "FOLLOWED_CUSTOMER_NOTE"
    assert event["target"]["notes"]["nodes"] == [{"body": "livraison lundi"}]


async def test_a_reconnecting_client_replays_what_it_lost_access_to_without_its_text(org: TestOrg, app: Starlette) -> None:
    # given: the manager was mentioned in a managers-only note, then lowered to member
    await add_note(org, "@manager bonjour", as_="admin")
    secret = await add_note(org, "@manager marge négociée", as_="admin", visibility="MANAGERS")
    older = (await inbox(org, "manager"))[1]["id"]
    async with live_server(app) as host:
        await update_user(host, org, "manager", role="MEMBER")
        # when
        async with WsClient.connect(host, org.token("manager")) as client:
            await client.subscribe(REPLAY, {"after": older})
            replayed = (await client.next())["notifications"]
    # then
    assert replayed["kind"] == "MENTION"
    assert (replayed["message"], replayed["link"], replayed["subject"]) == (HIDDEN_MESSAGE, None, None)
    assert secret["body"] not in str(replayed)

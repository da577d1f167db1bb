"""Live delivery over a real WebSocket (graphql-transport-ws) on the memory and Redis
brokers: a mention arrives on the mentioned user's socket and a reconnecting client gets
exactly what it missed. Delivery across two instances is in ``test_two_instances.py``.

Synchronising with the server: a subscription with ``after`` first replays the inbox
(after subscribing to the broker), so receiving a replayed notification proves the
subscription is live; only then is the note under test written.
"""

from __future__ import annotations

import asyncio

import pytest
import websockets
from sqlalchemy import select
from starlette.applications import Starlette

from fiche.app import create_app
from fiche.context import AppState
from fiche.notifications import models as inbox_models
from tests.plugins.notes.support import FOLLOW, NOTE_CREATE, TASK_CREATE, add_note, create_customer, inbox, user_id
from tests.gateway.ws_client import receive_text
from tests.plugins.notes.wsclient import NOTIFICATIONS, WsClient, post_graphql
from tests.support import TestOrg, live_server
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)


@pytest.fixture
def app(state: AppState) -> Starlette:
    return create_app(state.settings, state=state)


async def live_subscription(org: TestOrg, client: WsClient, who: str) -> str:
    """Subscribe ``who`` and wait until the subscription is live; returns the last id seen."""
    await add_note(org, f"@{who} un", as_="manager")
    await add_note(org, f"@{who} deux", as_="manager")
    older, newer = reversed([item["id"] for item in await inbox(org, who)][:2])
    await client.subscribe(NOTIFICATIONS, {"after": older})
    replayed = await client.next()
    assert replayed["notifications"]["id"] == newer
    return str(newer)


async def write_note(host: str, org: TestOrg, body: str, *, as_: str = "manager") -> str:
    data = await post_graphql(host, org.token(as_), NOTE_CREATE, {"input": {"body": body}})
    assert data["noteCreate"]["errors"] == []
    return str(data["noteCreate"]["note"]["id"])


async def test_a_mention_arrives_on_the_mentioned_users_socket(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when
        note = await write_note(host, org, "@member regarde ce client")
        # then
        received = (await client.next(timeout=2.0))["notifications"]
        assert (received["kind"], received["subject"]["id"]) == ("MENTION", note)
        assert await client.silent_for(0.3)


async def test_an_assigned_task_arrives_live(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when
        data = await post_graphql(
            host, org.token("manager"), TASK_CREATE, {"input": {"body": "Rappeler", "assigneeId": user_id(org, "member")}}
        )
        # then
        received = (await client.next(timeout=2.0))["notifications"]
        assert (received["kind"], received["subject"]["id"]) == ("TASK_ASSIGNED", data["taskCreate"]["task"]["id"])
        assert await client.silent_for(0.3)


async def test_a_note_on_a_followed_customer_arrives_live(org: TestOrg, app: Starlette) -> None:
    customer = await create_customer(org)
    await org.ok(FOLLOW, {"id": customer}, as_="member")
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when
        data = await post_graphql(
            host, org.token("manager"), NOTE_CREATE, {"input": {"body": "Livraison décalée", "targetId": customer}}
        )
        # then
        received = (await client.next(timeout=2.0))["notifications"]
        assert (received["kind"], received["subject"]["id"], received["target"]["id"]) == (
            "FOLLOWED_CUSTOMER_NOTE",
            data["noteCreate"]["note"]["id"],
            customer,
        )
        assert await client.silent_for(0.3)


async def test_other_users_sockets_get_nothing(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member2")) as client:
        # given
        await live_subscription(org, client, "member2")
        # when
        await write_note(host, org, "@member seulement")
        # then
        assert await client.silent_for(0.5)


async def test_a_reconnecting_client_receives_exactly_what_it_missed(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host:
        # given: a live notification received, then the socket drops
        async with WsClient.connect(host, org.token("member")) as client:
            await live_subscription(org, client, "member")
            await write_note(host, org, "@member premier")
            last = (await client.next(timeout=2.0))["notifications"]["id"]
        missed = [await write_note(host, org, f"@member manqué {n}") for n in range(3)]
        # when
        async with WsClient.connect(host, org.token("member")) as client:
            await client.subscribe(NOTIFICATIONS, {"after": last})
            received = [(await client.next(timeout=2.0))["notifications"] for _ in range(3)]
            # then
            assert [item["subject"]["id"] for item in received] == missed
            assert [item["kind"] for item in received] == ["MENTION"] * 3
            assert await client.silent_for(0.3)


async def test_a_replayed_client_then_receives_live_events(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when
        notes = [await write_note(host, org, f"@member {n}") for n in range(2)]
        # then
        received = [(await client.next(timeout=2.0))["notifications"]["subject"]["id"] for _ in range(2)]
        assert received == notes


async def test_notes_written_at_once_reach_the_mentioned_user_once_each_in_commit_order(org: TestOrg, app: Starlette) -> None:
    async with live_server(app) as host, WsClient.connect(host, org.token("member")) as client:
        # given
        await live_subscription(org, client, "member")
        # when: twenty notes mentioning the member are written concurrently
        notes = await asyncio.gather(*(write_note(host, org, f"@member ensemble {n}") for n in range(20)))
        received = [(await client.next(timeout=10.0))["notifications"] for _ in range(20)]
        # then: each mention once
        assert sorted(item["subject"]["id"] for item in received) == sorted(notes)
        assert await client.silent_for(0.3)
    # in commit order, which is the inbox's order, numbered without gaps
    assert [item["id"] for item in received] == list(reversed([item["id"] for item in await inbox(org, "member")]))[2:]
    async with org.state.db.reader(org.organization_id) as session:
        numbers = list(
            await session.scalars(
                select(inbox_models.Notification.recipient_seq)
                .where(inbox_models.Notification.recipient_id == org.users["member"].id)
                .order_by(inbox_models.Notification.id)
            )
        )
    assert numbers == list(range(1, 23))


async def test_an_invalid_token_closes_the_socket_with_4403(state: AppState, app: Starlette) -> None:
    async with live_server(app) as host:
        # when
        async with WsClient.connect(host, "not-a-token", expect_ack=False) as client:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await receive_text(client.socket, 5)
        # then
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

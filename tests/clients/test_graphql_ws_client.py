"""The reference ``graphql-ws`` client (npm, in Node, on ``ws``) against real gateways:
a mention written on instance B reaches its subscription on instance A through Redis, a bad
token is refused with 4403, and queries and mutations sent over the socket get their
results. Nothing here speaks the protocol in Python: the client is the one browsers and Node
applications use."""

from __future__ import annotations

import contextlib
import json

from fiche.app import build_state, create_app
from fiche.notifications.service import user_topic
from fiche.plugin_host import get_plugin_manager
from fiche.settings import Settings
from tests.clients.support import NodeScript, wait_until_subscribed
from tests.plugins.notes.support import NODE
from tests.plugins.notes.test_live import write_note
from tests.plugins.notes.wsclient import NOTIFICATIONS
from tests.support import TestOrg, live_server
from tests.live_fixtures import each_ws_server  # noqa: F401  (both WebSocket layers)

VIEWER = "query { viewer { user { handle } } }"
NOTE_CREATE = """
mutation($input: NoteCreateInput!) {
  noteCreate(input: $input) { note { id body author { handle } } errors { code message } }
}
"""


def connect(host: str, token: str) -> contextlib.AbstractAsyncContextManager[NodeScript]:
    """The Node graphql-ws client for ``host``, with the token in ``connectionParams``."""
    config = {"url": f"ws://{host}/graphql", "connectionParams": {"Authorization": f"Bearer {token}"}}
    return NodeScript.start("graphql_ws_client.mjs", json.dumps(config))


def redis_channel(org: TestOrg, settings: Settings, who: str) -> str:
    return f"{settings.broker_namespace}:{user_topic(org.organization_id, org.users[who].id)}"


async def test_a_mention_written_on_instance_b_reaches_the_graphql_ws_client_on_instance_a(
    node_client: None, org: TestOrg, settings: Settings, host: str
) -> None:
    # given: instance B shares the database and Redis with instance A, where the client subscribes
    instance_b = create_app(settings, state=build_state(settings, get_plugin_manager(settings)))
    async with live_server(instance_b) as host_b, connect(host, org.token("member")) as client:
        await client.send({"subscribe": "inbox", "query": NOTIFICATIONS})
        await client.wait_for(lambda event: event["event"] == "connected")
        await wait_until_subscribed(settings.broker_url, redis_channel(org, settings, "member"))
        # when
        note = await write_note(host_b, org, "@member regarde ce client, via l'instance B")
        # then
        event = await client.event(timeout=5)
    assert event["event"] == "next", event
    assert "errors" not in event["payload"], event["payload"]
    received = event["payload"]["data"]["notifications"]
    assert (received["kind"], received["subject"]["id"]) == ("MENTION", note)


async def test_a_bad_token_closes_the_graphql_ws_client_with_4403(node_client: None, host: str) -> None:
    async with connect(host, "not-a-token") as client:
        # when
        await client.send({"subscribe": "viewer", "query": VIEWER})
        # then
        error = await client.wait_for(lambda event: event["event"] == "error")
        closed = [event for event in client.seen if event["event"] == "closed"]
    assert error["error"]["code"] == 4403, error
    assert [event["code"] for event in closed] == [4403]
    assert not [event for event in client.seen if event["event"] in ("connected", "next")]


async def test_a_query_over_the_graphql_ws_client_gets_its_result(node_client: None, org: TestOrg, host: str) -> None:
    async with connect(host, org.token("member")) as client:
        # when
        await client.send({"subscribe": "viewer", "query": VIEWER})
        # then
        result = await client.wait_for(lambda event: event["event"] == "next")
        completed = await client.event()
    assert result["payload"] == {"data": {"viewer": {"user": {"handle": "member"}}}}
    assert completed == {"event": "complete", "id": "viewer", "at": completed["at"]}


async def test_a_mutation_over_the_graphql_ws_client_gets_its_result(node_client: None, org: TestOrg, host: str) -> None:
    async with connect(host, org.token("member")) as client:
        # when
        await client.send({"subscribe": "create", "query": NOTE_CREATE, "variables": {"input": {"body": "Posée par graphql-ws"}}})
        # then
        result = await client.wait_for(lambda event: event["event"] == "next")
        completed = await client.event()
    payload = result["payload"]["data"]["noteCreate"]
    assert payload["errors"] == []
    assert (payload["note"]["body"], payload["note"]["author"]["handle"]) == ("Posée par graphql-ws", "member")
    assert completed["event"] == "complete"
    stored = await org.ok(NODE, {"id": payload["note"]["id"]}, as_="member")
    assert stored["node"]["body"] == "Posée par graphql-ws"

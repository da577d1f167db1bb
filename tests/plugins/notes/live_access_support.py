"""Helpers of the live-access tests: admin changes over HTTP, questions over an open socket,
waiting for the server to close a socket or to refresh its viewer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets

from fiche.accounts.models import Role
from fiche.context import AppState
from fiche.relay import encode_id
from tests.plugins.notes.wsclient import WsClient, post_graphql
from tests.support import TestOrg

__all__ = [
    "NOTE_BODY",
    "USER_UPDATE",
    "TEAM_SET_MEMBERS",
    "ask",
    "close_code",
    "set_team_members",
    "update_user",
    "wait_for_role",
]

NOTE_BODY = "query($id: ID!) { node(id: $id) { ... on Note { body } } }"
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) { user { id role isActive } errors { code } } }
"""
TEAM_SET_MEMBERS = """
mutation($team: ID!, $users: [ID!]!) { teamSetMembers(teamId: $team, userIds: $users) { team { id } errors { code } } }
"""


async def update_user(host: str, org: TestOrg, who: str, **changes: Any) -> None:
    """``userUpdate`` by the admin, through the gateway at ``host``."""
    variables = {"input": {"id": encode_id("User", org.users[who].id), **changes}}
    data = await post_graphql(host, org.token("admin"), USER_UPDATE, variables)
    assert data["userUpdate"]["errors"] == []


async def set_team_members(host: str, org: TestOrg, team: str, members: list[str]) -> None:
    variables = {"team": encode_id("Team", org.teams[team].id), "users": [encode_id("User", org.users[who].id) for who in members]}
    data = await post_graphql(host, org.token("admin"), TEAM_SET_MEMBERS, variables)
    assert data["teamSetMembers"]["errors"] == []


async def ask(client: WsClient, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """A query or mutation over the open socket: its data (then its ``complete``)."""
    operation = await client.subscribe(query, variables)
    data = await client.next()
    complete = await client._receive(5.0)
    assert complete == {"id": operation, "type": "complete"}, complete
    return data


async def close_code(client: WsClient, within: float) -> tuple[int | None, list[dict[str, Any]]]:
    """Read the socket until the server closes it (at most ``within`` seconds): the close
    code, and every message received before it."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            try:
                received.append(json.loads(await client.socket.recv()))
            except websockets.ConnectionClosed as closed:
                return (closed.rcvd.code if closed.rcvd else None), received


async def wait_for_role(state: AppState, org: TestOrg, who: str, role: Role, within: float) -> None:
    """Poll the server's registry until the open socket of ``who`` acts with ``role``."""
    async with asyncio.timeout(within):
        while True:
            sockets = state.live.sockets_of(org.users[who].id)
            if sockets and all(socket.viewer is not None and socket.viewer.role is role for socket in sockets):
                return
            await asyncio.sleep(0.01)

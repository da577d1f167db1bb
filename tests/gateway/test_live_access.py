"""The host's side of access on open WebSockets (fiche.live_access), with no domain
plugin: each operation reloads the user, account changes are announced on the broker's
``access`` topic, a deleted user's socket is closed, and the registry forgets closed sockets."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest
import websockets
from sqlalchemy import delete, update

from fiche import hookimpl
from fiche.accounts import models
from fiche.auth import Identity, identify, issue_token, load_viewers
from fiche.context import AppState, operation_context
from fiche.db import utcnow
from fiche.live_access import ACCESS_TOPIC, access_changed
from fiche.relay import encode_id
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import LEGACY_WS, TRANSPORT_WS, GraphQLSocket, open_socket
from tests.support import TestOrg
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)

USER_CREATE = """
mutation($input: UserCreateInput!) { userCreate(input: $input) { user { handle } errors { code } } }
"""
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) { user { role } errors { code } } }
"""
TEAM_SET_MEMBERS = """
mutation($team: ID!, $users: [ID!]!) { teamSetMembers(teamId: $team, userIds: $users) { errors { code } } }
"""
WHO_AM_I = "subscription { probeWhoAmI }"


class ExpiringAuthProbe:
    """``expiring-token:<user id>:<organisation id>``, valid for one more second."""

    @hookimpl
    def authenticate(self, token: str) -> Identity | None:
        if not token.startswith("expiring-token:"):
            return None
        user_id, _, organization_id = token.removeprefix("expiring-token:").partition(":")
        expires_at = utcnow() + dt.timedelta(seconds=1)
        return Identity(user_id=int(user_id), organization_id=int(organization_id), expires_at=expires_at)


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return [*PROBE, ("expiring-auth", ExpiringAuthProbe())]


async def connected(socket: GraphQLSocket, tenant: TestOrg, who: str) -> None:
    ack = await socket.init({"Authorization": f"Bearer {tenant.token(who)}"})
    assert ack["type"] == "connection_ack"


async def close_code(socket: GraphQLSocket, within: float = 2.0) -> int | None:
    """Read until the server closes the socket; its close code (any message but a
    keep-alive before it fails the test)."""
    async with asyncio.timeout(within):
        while True:
            try:
                message = json.loads(await socket.connection.recv())
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None
            if message.get("type") != "ka":
                raise AssertionError(f"unexpected message {message!r}")


def new_user(handle: str) -> dict[str, Any]:
    return {"input": {"name": handle.title(), "email": f"{handle}@example.com", "handle": handle}}


async def system_sql(tenant: TestOrg, statement: Any) -> None:
    """A change made behind the gateway's back (no announcement on the broker)."""
    async with tenant.state.db.session(organization_id=tenant.organization_id) as session, session.begin():
        await session.execute(statement)


async def test_an_operation_on_a_socket_runs_with_the_users_current_role(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connected(socket, org, "admin")
        assert (await socket.query("1", USER_CREATE, new_user("first")))["data"]["userCreate"]["errors"] == []
        # when: demoted without any announcement (e.g. a message the broker lost)
        await system_sql(org, update(models.User).where(models.User.id == org.users["admin"].id).values(role=models.Role.MEMBER))
        # then: the next operation reloads the user
        result = await socket.query("2", USER_CREATE, new_user("second"))
    assert result["data"]["userCreate"]["errors"] == [{"code": "FORBIDDEN"}]


async def test_a_deleted_user_is_refused_and_the_socket_closed_with_4403_at_the_next_operation(
    org: TestOrg, server: str
) -> None:
    async with open_socket(server) as socket:
        await connected(socket, org, "member2")
        # when
        await system_sql(org, delete(models.User).where(models.User.id == org.users["member2"].id))
        await socket.subscribe("1", WHO_AM_I)
        # then: no result, the socket is closed
        code = await close_code(socket)
    assert code == 4403


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_deactivating_a_user_closes_their_idle_socket_on_either_protocol(org: TestOrg, server: str, protocol: str) -> None:
    async with open_socket(server, protocol=protocol) as socket:
        await connected(socket, org, "member2")
        # when
        variables = {"input": {"id": encode_id("User", org.users["member2"].id), "isActive": False}}
        assert (await org.ok(USER_UPDATE, variables))["userUpdate"]["errors"] == []
        # then
        code = await close_code(socket)
    assert code == 4403


async def test_announcing_a_deleted_user_closes_their_idle_socket(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        await connected(socket, org, "member2")
        # when: a deletion path announces what it did, as every access change must
        async with operation_context(org.state, org.viewer("admin")) as context:
            session = await context.session()
            await session.execute(delete(models.User).where(models.User.id == org.users["member2"].id))
            access_changed(context, [org.users["member2"].id])
            await context.commit()
        # then
        code = await close_code(socket)
    assert code == 4403


async def test_an_expiry_given_by_an_authenticate_plugin_closes_the_socket(org: TestOrg, server: str) -> None:
    async with open_socket(server) as socket:
        # given
        ack = await socket.init({"Authorization": f"Bearer expiring-token:{org.users['member'].id}:{org.organization_id}"})
        assert ack["type"] == "connection_ack"
        # when: its second passes, the socket idle
        code = await close_code(socket, within=3.0)
    # then
    assert code == 4403


async def test_the_registry_forgets_closed_sockets_and_stops_listening(org: TestOrg, server: str) -> None:
    live = org.state.live
    member = org.users["member"].id
    # given
    async with open_socket(server) as first, open_socket(server) as second:
        await connected(first, org, "member")
        await connected(second, org, "member")
        assert len(live.sockets_of(member)) == 2 and live.listening
    # when: both sockets are closed by the client
    async with asyncio.timeout(2.0):
        while live.sockets_of(member) or live.listening:
            await asyncio.sleep(0.01)
    # then
    assert live.sockets_of(member) == [] and not live.listening


@pytest.fixture
async def announcements(state: AppState) -> Any:
    """Messages published on the ``access`` topic while the test runs."""
    received: list[dict[str, Any]] = []
    async with state.broker.subscribe(ACCESS_TOPIC) as events:

        async def drain() -> list[dict[str, Any]]:
            while True:
                try:
                    received.append(await asyncio.wait_for(events.get(), 0.3))
                except TimeoutError:
                    return received

        yield drain


async def test_user_update_announces_a_role_or_active_change(org: TestOrg, announcements: Any) -> None:
    # when
    for changes in ({"role": "MANAGER"}, {"isActive": False}, {"name": "Only A Name"}):
        variables = {"input": {"id": encode_id("User", org.users["member"].id), **changes}}
        assert (await org.ok(USER_UPDATE, variables))["userUpdate"]["errors"] == []
    # then: one announcement per change of access, none for the name
    member = org.users["member"].id
    assert await announcements() == [{"organization_id": org.organization_id, "user_ids": [member]}] * 2


async def test_team_set_members_announces_who_joined_or_left(org: TestOrg, announcements: Any) -> None:
    # given: north is manager + member
    team = encode_id("Team", org.teams["north"].id)
    users = [encode_id("User", org.users[who].id) for who in ("manager", "technician")]
    # when
    assert (await org.ok(TEAM_SET_MEMBERS, {"team": team, "users": users}))["teamSetMembers"]["errors"] == []
    # then
    changed = sorted([org.users["member"].id, org.users["technician"].id])
    assert await announcements() == [{"organization_id": org.organization_id, "user_ids": changed}]


async def test_a_failed_change_announces_nothing(org: TestOrg, announcements: Any) -> None:
    # when: an admin may not demote themself
    variables = {"input": {"id": encode_id("User", org.users["admin"].id), "role": "MEMBER"}}
    assert (await org.ok(USER_UPDATE, variables))["userUpdate"]["errors"] == [{"code": "CONFLICT"}]
    # then
    assert await announcements() == []


async def test_identify_reads_the_expiry_of_the_default_token(org: TestOrg) -> None:
    # given
    token = issue_token(org.state.settings, org.users["member"].id, org.organization_id, ttl=60)
    # when
    identity = await identify(org.state.pm, org.state.settings, token)
    # then
    assert identity is not None and identity.expires_at is not None
    assert dt.timedelta(seconds=58) <= identity.expires_at - utcnow() <= dt.timedelta(seconds=60)


async def test_identify_checks_a_new_token_once(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a token never seen (its signature and claims are checked by jwt.decode); the
    # tokens of other tests may be the same string (same ids, same second): forgotten
    import jwt

    from fiche import auth

    monkeypatch.setattr(auth, "_DECODED", {})
    decodes: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        decodes.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    token = issue_token(org.state.settings, org.users["member"].id, org.organization_id, ttl=90)
    # when: a socket's connection_init identifies it (who, and until when)
    identity = await identify(org.state.pm, org.state.settings, token)
    # then: decoded once, the expiry read from that decoding
    assert decodes == [token]
    assert identity is not None and identity.expires_at is not None
    assert dt.timedelta(seconds=88) <= identity.expires_at - utcnow() <= dt.timedelta(seconds=90)


async def test_load_viewers_returns_the_current_state_of_active_users_only(org: TestOrg, other_org: TestOrg) -> None:
    # given
    await system_sql(org, update(models.User).where(models.User.id == org.users["member2"].id).values(is_active=False))
    await system_sql(org, update(models.User).where(models.User.id == org.users["manager"].id).values(role=models.Role.MEMBER))
    wanted = [org.users[who].id for who in ("manager", "member", "member2")] + [other_org.users["member"].id]
    # when
    viewers = await load_viewers(org.state.db, org.organization_id, wanted)
    # then
    assert sorted(viewers) == sorted([org.users["manager"].id, org.users["member"].id])
    manager = viewers[org.users["manager"].id]
    assert (manager.role, manager.team_ids) == (models.Role.MEMBER, frozenset({org.teams["north"].id}))

"""Two gateway instances sharing PostgreSQL and Redis: a subscriber connected to instance A
receives, within a second, the mention written through instance B; a role change or a
deactivation made through instance B applies to instance A's open socket within a second. Pinned to PostgreSQL and
Redis (the production set-up); skipped locally, failed under CI, when either is missing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator


from fiche.accounts.models import Role
from fiche.app import build_state, create_app
from fiche.plugin_host import get_plugin_manager
from fiche.settings import Settings
from tests.plugins.notes.live_access_support import NOTE_BODY, ask, close_code, update_user, wait_for_role
from tests.plugins.notes.support import add_note
from tests.plugins.notes.test_live import live_subscription, write_note
from tests.plugins.notes.wsclient import WsClient
from tests.support import TestOrg, live_server
from tests.live_fixtures import postgres_and_redis_broker, postgres_and_redis_database  # noqa: F401  (fixtures)


@contextlib.asynccontextmanager
async def two_instances(org: TestOrg, settings: Settings, who: str) -> AsyncIterator[tuple[str, str, WsClient]]:
    """Instances A and B, each with its own database pool and broker connection, and
    ``who``'s socket open on A: ``(host A, host B, the socket)``."""
    state_b = build_state(settings, get_plugin_manager(settings))
    async with (
        live_server(create_app(settings, state=org.state)) as host_a,
        live_server(create_app(settings, state=state_b)) as host_b,
        WsClient.connect(host_a, org.token(who)) as client,
    ):
        yield host_a, host_b, client


async def test_two_instances_deliver_a_mention_across_redis_within_a_second(
    org: TestOrg, settings: Settings
) -> None:
    # given: instance A and instance B, each with its own database pool and Redis connection
    async with two_instances(org, settings, "member") as (host_a, host_b, client):
        await live_subscription(org, client, "member")
        # when: the note is written through instance B
        started = time.perf_counter()
        note = await write_note(host_b, org, "@member via l'instance B")
        received = (await asyncio.wait_for(client.next(timeout=1.0), 1.0))["notifications"]
        elapsed = time.perf_counter() - started
    # then
    assert (received["kind"], received["subject"]["id"]) == ("MENTION", note)
    assert elapsed < 1.0


async def test_a_role_change_on_instance_b_applies_to_a_socket_on_instance_a_within_a_second(
    org: TestOrg, settings: Settings
) -> None:
    # given: the manager's socket is open on instance A, idle
    secret = await add_note(org, "réservé aux managers", as_="admin", visibility="MANAGERS")
    async with two_instances(org, settings, "manager") as (host_a, host_b, client):
        # when: an admin lowers the manager through instance B
        started = time.perf_counter()
        await update_user(host_b, org, "manager", role="MEMBER")
        # then: instance A's socket acts as a member within a second, with no operation on it
        await wait_for_role(org.state, org, "manager", Role.MEMBER, within=1.0)
        elapsed = time.perf_counter() - started
        assert (await ask(client, NOTE_BODY, {"id": secret["id"]}))["node"] is None
    assert elapsed < 1.0


async def test_deactivating_a_user_on_instance_b_closes_their_socket_on_instance_a(org: TestOrg, settings: Settings) -> None:
    # given
    async with two_instances(org, settings, "member") as (host_a, host_b, client):
        # when
        await update_user(host_b, org, "member", isActive=False)
        # then
        code, received = await close_code(client, within=1.0)
    assert (code, received) == (4403, [])

"""A notification that committed but whose broker message never went out (its gateway
killed between the commit and the publish) still reaches its live subscribers, once:
fiche.notifications.resync reads the users' last numbers every period and catches up the
subscriptions still behind a period later. Memory broker and Redis, SQLite and PostgreSQL.

The readings are driven by hand here (a period long enough never to elapse during a test),
except in the last test, which lets the period run."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from fiche.notifications.hub import hub_of
from fiche.settings import Settings
from tests.gateway.conftest import PROBE
from tests.gateway.test_notification_hub import deliveries
from tests.gateway.test_notifications_live import connect_as, listening, notify
from tests.gateway.ws_client import GraphQLSocket, open_socket
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)
from tests.support import TestOrg, count_statements

SUBSCRIBE = "subscription { notifications { id message } }"
INBOX = "{ notifications(first: 5) { nodes { id } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, notification_resync_seconds=3600)


@contextlib.asynccontextmanager
async def publishes_lost(tenant: TestOrg) -> AsyncIterator[list[Sequence[tuple[str, Any]]]]:
    """The broker drops what is published meanwhile, as when the gateway that committed the
    notifications dies before publishing them; yields what was dropped."""
    broker = tenant.state.broker
    dropped: list[Sequence[tuple[str, Any]]] = []

    async def lost(messages: Sequence[tuple[str, Any]]) -> None:
        dropped.append(messages)

    broker.publish_many = lost  # type: ignore[method-assign]
    try:
        yield dropped
    finally:
        del broker.publish_many  # the class's own again


@contextlib.asynccontextmanager
async def member_subscribed(tenant: TestOrg, server: str) -> AsyncIterator[GraphQLSocket]:
    """A socket of ``member`` with a live hub subscription ``live``."""
    async with open_socket(server) as socket:
        await connect_as(socket, tenant, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await deliveries(tenant, "member", 1)
        yield socket


async def latest_inbox_id(tenant: TestOrg, who: str) -> str:
    return str((await tenant.ok(INBOX, as_=who))["notifications"]["nodes"][0]["id"])


async def test_a_notification_whose_message_never_went_out_arrives_at_the_second_reading(org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    async with member_subscribed(org, server) as socket:
        # given: a notification committed, its broker message lost
        async with publishes_lost(org) as dropped:
            await notify(org, "member")
        assert dropped, "the write published nothing to lose"
        lost_id = await latest_inbox_id(org, "member")
        # when: a first reading finds the subscription behind (the message may still be on
        # its way), and nothing is caught up yet
        await hub.resync.sweep()
        assert hub.resync.caught_up == 0
        with pytest.raises(TimeoutError):
            await socket.next("live", timeout=0.3)
        # when: the second reading finds it still behind
        await hub.resync.sweep()
        # then: it is caught up from the inbox, once
        result = await socket.next("live")
        assert result is not None and result["data"]["notifications"]["id"] == lost_id
        assert hub.resync.caught_up == 1
        # and the next one comes live, as usual, nothing twice
        await notify(org, "member")
        following = await socket.next("live")
        assert following is not None and following["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
        await hub.resync.sweep()
        await hub.resync.sweep()
        assert hub.resync.caught_up == 1
        with pytest.raises(TimeoutError):
            await socket.next("live", timeout=0.3)


async def test_a_message_late_through_the_broker_is_not_caught_up(org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    broker = org.state.broker
    async with member_subscribed(org, server) as socket:
        # given: a notification committed whose message is held back past a first reading
        async with publishes_lost(org) as held:
            await notify(org, "member")
        await hub.resync.sweep()
        catch_ups = hub.catch_ups
        # when: the message arrives before the second reading
        for messages in held:
            await broker.publish_many(messages)
        result = await socket.next("live")
        await hub.resync.sweep()
        # then: it came live, and the reading caught nothing up
        assert result is not None and result["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
        assert (hub.resync.caught_up, hub.catch_ups) == (0, catch_ups)
        with pytest.raises(TimeoutError):
            await socket.next("live", timeout=0.3)


async def test_a_reading_costs_one_statement_per_organisation_whatever_the_subscribers(org: TestOrg, other_org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    async with contextlib.AsyncExitStack() as stack:
        # given: three users of one organisation and one of another, subscribed
        subscribed = [(org, "member"), (org, "member2"), (org, "manager"), (other_org, "member")]
        for tenant, who in subscribed:
            socket = await stack.enter_async_context(open_socket(server))
            await connect_as(socket, tenant, who)
            await socket.subscribe("live", SUBSCRIBE)
            await deliveries(tenant, who, 1)
        # when
        with count_statements(org.state.db) as statements:
            await hub.resync.sweep()
    # then
    assert statements.count == 2, statements.statements


async def test_the_period_runs_by_itself(org: TestOrg, server: str) -> None:
    hub = hub_of(org.state)
    hub.resync.seconds = 0.2
    async with member_subscribed(org, server) as socket:
        # the running task sleeps an hour: start it again with the short period
        task = hub.resync.task
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        hub.resync.ensure_running()
        # when: a notification's message is lost
        async with publishes_lost(org):
            await notify(org, "member")
        # then: it arrives within a few periods, without anyone driving the readings
        result = await socket.next("live")
        assert result is not None and result["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
    assert hub.resync.caught_up == 1


async def test_a_subscription_strawberry_delivers_gets_it_too(org: TestOrg, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(org.state, "settings", dataclasses.replace(org.state.settings, notification_resync_seconds=1))
    hub = hub_of(org.state)
    async with open_socket(server) as socket:
        # given: a subscription served by Strawberry's per-socket stream, not the hub
        await connect_as(socket, org, "member")
        hub.enabled = False
        try:
            await socket.subscribe("live", SUBSCRIBE)
            await listening(org, "member")
        finally:
            hub.enabled = True
        assert not hub.topics
        # when: a notification's message is lost
        async with publishes_lost(org):
            await notify(org, "member")
        # then: the idle stream reads the last number, and a period later catches it up
        result = await socket.next("live")
        assert result is not None and result["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
        # and the next one comes live, once
        await notify(org, "member")
        following = await socket.next("live")
        assert following is not None and following["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
        with pytest.raises(TimeoutError):
            await socket.next("live", timeout=2.5)


async def test_a_catch_up_that_finds_the_database_away_is_tried_again_and_the_subscription_stays(
    org: TestOrg, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fiche.notifications import hub as hub_module

    hub = hub_of(org.state)
    monkeypatch.setattr(hub_module, "CATCH_UP_RETRY_SECONDS", 0.1)
    real = hub_module.missed_since
    failures = []

    async def away_once(*args: Any, **kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise ConnectionRefusedError("the database is restarting")
        return await real(*args, **kwargs)

    async with member_subscribed(org, server) as socket:
        # given: a notification whose message was lost, and the database away at the first
        # catch-up (the broker tells the hub it lost messages, as after a Redis outage)
        async with publishes_lost(org):
            await notify(org, "member")
        monkeypatch.setattr(hub_module, "missed_since", away_once)
        [topic] = hub.topics.values()
        # when
        topic.mark_lost()
        # then: the catch-up is tried again, the notification arrives once, the subscription stays
        result = await socket.next("live")
        assert result is not None and result["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")
        assert failures == [1]
        assert [delivery.closed for delivery in topic.members] == [False]
        await notify(org, "member")
        following = await socket.next("live")
        assert following is not None and following["data"]["notifications"]["id"] == await latest_inbox_id(org, "member")

"""Fan-out that scales with recipients (issue 15, item 1), on SQLite and PostgreSQL, on the
memory broker and on Redis: a write that notifies N users costs the statements and the
broker message of a write to one, each recipient still gets exactly their own notification,
and per-recipient numbers stay gapless and unique under concurrent writers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.context import ConnectionContext, OperationContext
from fiche.errors import UserErrors
from fiche.notifications import models, notify, user_topic
from tests.gateway.conftest import PROBE
from tests.support import REDIS_URL, TestOrg, count_statements
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def writer(tenant: TestOrg) -> OperationContext:
    return OperationContext(ConnectionContext(tenant.state, viewer=tenant.viewer("admin")))


async def add_users(tenant: TestOrg, count: int, prefix: str = "f") -> list[int]:
    async with tenant.state.db.session(organization_id=tenant.organization_id) as session, session.begin():
        users = [
            accounts.User(name=f"Follower {index}", email=f"{prefix}{index}@{tenant.organization_id}.example", handle=f"{prefix}{index}")
            for index in range(count)
        ]
        session.add_all(users)
    return [user.id for user in users]


async def inbox(tenant: TestOrg, user_ids: list[int]) -> list[tuple[int, int, int, str]]:
    """``(recipient, seq, id, message)`` of the inbox rows of ``user_ids``, by recipient then seq."""
    async with tenant.state.db.reader(tenant.organization_id) as session:
        rows = await session.execute(
            select(models.Notification.recipient_id, models.Notification.recipient_seq, models.Notification.id, models.Notification.message)
            .where(models.Notification.recipient_id.in_(user_ids))
            .order_by(models.Notification.recipient_id, models.Notification.recipient_seq)
        )
        return [(row.recipient_id, row.recipient_seq, row.id, row.message) for row in rows]


@contextlib.asynccontextmanager
async def wire(tenant: TestOrg) -> AsyncIterator[list[bytes]]:
    """Every message published on Redis in the test's namespace while the block runs (for
    the memory broker, each ``publish``/``publish_many`` call)."""
    broker: Any = tenant.state.broker
    seen: list[bytes] = []
    if tenant.state.settings.broker_url.startswith("memory://"):
        original_many, original_one = broker.publish_many, broker.publish

        async def many(messages: Any) -> None:
            seen.append(b"many")
            await original_many(messages)

        async def one(topic: str, message: Any) -> None:
            seen.append(b"one")
            await original_one(topic, message)

        broker.publish_many, broker.publish = many, one
        try:
            yield seen
        finally:
            del broker.publish_many, broker.publish
        return
    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.psubscribe(f"{tenant.state.settings.broker_namespace}:*")
    try:
        yield seen
        # A marker published last: everything published before it has been read once it is.
        await client.publish(f"{tenant.state.settings.broker_namespace}:end-of-test", b"end")
        async with asyncio.timeout(5):
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is None:
                    continue  # a subscription confirmation, or nothing yet
                if message["channel"].endswith(b":end-of-test"):
                    break
                seen.append(message["data"])
    finally:
        await pubsub.aclose()
        await client.aclose()


async def test_a_write_to_fifty_users_costs_the_statements_and_broker_messages_of_a_write_to_one(org: TestOrg) -> None:
    # given
    followers = await add_users(org, 50)

    async def write(recipients: list[int]) -> tuple[int, int]:
        context = writer(org)
        try:
            await context.session()
            async with wire(org) as published:
                with count_statements(org.state.db) as counter:
                    await notify(context, recipients, "PROBE_PING", message="hello")
                    await context.commit()
        finally:
            await context.close()
        return counter.count, len(published)

    # when
    one = await write(followers[:1])
    fifty = await write(followers)
    # then: the same statements and ONE broker message
    assert one == fifty
    assert one[1] == 1
    rows = await inbox(org, followers)
    assert sorted((recipient, seq) for recipient, seq, _id, _message in rows) == sorted(
        [(followers[0], 1), (followers[0], 2)] + [(user, 1) for user in followers[1:]]
    )


async def test_each_recipient_gets_exactly_their_own_notification(org: TestOrg) -> None:
    # given: thirty recipients subscribed, and one user who is not notified
    users = await add_users(org, 31)
    recipients, bystander = users[:30], users[30]
    broker = org.state.broker
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = {
            user: await stack.enter_async_context(broker.subscribe(user_topic(org.organization_id, user))) for user in users
        }
        # when
        context = writer(org)
        try:
            await notify(context, recipients, "PROBE_PING", message="to many", subject_id="Note:1", link="/notes/1")
            await context.commit()
        finally:
            await context.close()
        received = {user: await asyncio.wait_for(subscriptions[user].get(), 5) for user in recipients}
        # then
        rows = {recipient: (seq, pk) for recipient, seq, pk, _message in await inbox(org, users)}
        for user, message in received.items():
            assert (message["recipient_id"], message["seq"], message["id"]) == (user, *rows[user])
            assert (message["message"], message["subject_id"], message["link"], message["kind"]) == ("to many", "Note:1", "/notes/1", "PROBE_PING")
        assert all(subscription.queue.empty() for subscription in subscriptions.values())
        assert bystander not in rows


async def test_notifications_of_one_transaction_are_numbered_in_the_order_of_the_calls(org: TestOrg) -> None:
    # given
    ann, bob, cid = await add_users(org, 3)
    context = writer(org)
    # when: three notify() calls in one transaction, with recipients in common
    try:
        await notify(context, [ann, bob], "PROBE_PING", message="one")
        await notify(context, [bob, cid], "PROBE_PING", message="two")
        await notify(context, [ann, bob, cid], "PROBE_PING", message="three")
        await context.commit()
    finally:
        await context.close()
    # then: each recipient's numbers follow the calls, and so do the IDs (the inbox order)
    rows = await inbox(org, [ann, bob, cid])
    by_user: dict[int, list[tuple[int, int, str]]] = {}
    for recipient, seq, pk, message in rows:
        by_user.setdefault(recipient, []).append((seq, pk, message))
    assert [(seq, message) for seq, _pk, message in by_user[ann]] == [(1, "one"), (2, "three")]
    assert [(seq, message) for seq, _pk, message in by_user[bob]] == [(1, "one"), (2, "two"), (3, "three")]
    assert [(seq, message) for seq, _pk, message in by_user[cid]] == [(1, "two"), (2, "three")]
    for entries in by_user.values():
        assert [pk for _seq, pk, _message in entries] == sorted(pk for _seq, pk, _message in entries)


async def test_a_rolled_back_mutation_leaves_nothing_for_the_next_one_of_the_operation(org: TestOrg) -> None:
    # given: one operation running two mutations, the first failing after notifying
    ann, bob = await add_users(org, 2)
    context = writer(org)
    try:

        async def failing() -> None:
            await notify(context, [ann], "PROBE_PING", message="rolled back")
            raise UserErrors.invalid("no", "input")

        async def succeeding() -> None:
            await notify(context, [bob], "PROBE_PING", message="kept")

        # when
        await context.mutate(failing, lambda errors: None)
        await context.mutate(succeeding, lambda errors: None)
    finally:
        await context.close()
    # then
    assert [(recipient, seq, message) for recipient, seq, _pk, message in await inbox(org, [ann, bob])] == [(bob, 1, "kept")]


async def test_concurrent_writers_with_overlapping_recipients_number_each_recipient_gaplessly(org: TestOrg) -> None:
    # given: twelve users, and writers each notifying an overlapping window of them, some
    # with two notify() calls in their transaction
    users = await add_users(org, 12)

    async def write(index: int) -> None:
        context = writer(org)
        try:
            window = [users[(index + offset) % len(users)] for offset in range(5)]
            await notify(context, window, "PROBE_PING", message=f"w{index}")
            if index % 3 == 0:
                await notify(context, window[::2], "PROBE_PING", message=f"w{index} again")
            await asyncio.sleep(0)  # let the others interleave before the commit
            await context.commit()
        finally:
            await context.close()

    # when
    await asyncio.gather(*(write(index) for index in range(30)))
    # then: for every recipient, numbers 1..n without gap or repeat, in ID order
    rows = await inbox(org, users)
    expected_total = sum(5 + (3 if index % 3 == 0 else 0) for index in range(30))
    assert len(rows) == expected_total
    by_user: dict[int, list[tuple[int, int]]] = {}
    for recipient, seq, pk, _message in rows:
        by_user.setdefault(recipient, []).append((pk, seq))
    for entries in by_user.values():
        assert [seq for _pk, seq in sorted(entries)] == list(range(1, len(entries) + 1))
    async with org.state.db.reader(org.organization_id) as session:
        counters = dict((await session.execute(select(models.NotificationCounter.user_id, models.NotificationCounter.seq).where(models.NotificationCounter.user_id.in_(users)))).all())
    assert counters == {user: len(entries) for user, entries in by_user.items()}

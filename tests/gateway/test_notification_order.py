"""Exactly-once, in-order delivery of a user's notifications (G11), over a real WebSocket on
the memory broker and on Redis, SQLite and PostgreSQL: a user's notifications are numbered
in commit order, the subscription skips duplicates and catches up from the inbox on a gap,
and a reconnecting client gets exactly what it missed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from fiche.accounts import models as accounts
from fiche.context import ConnectionContext, OperationContext
from fiche.notifications import models, notify
from tests.gateway.conftest import PROBE
from tests.gateway.test_notifications_live import SUBSCRIBE, connect_as, listening
from tests.gateway.test_notifications_live import notify as probe_notify
from tests.gateway.ws_client import open_socket
from tests.support import TestOrg, count_statements
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)

INBOX = "{ notifications(first: 100) { nodes { id message } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def writer(tenant: TestOrg, who: str = "admin") -> OperationContext:
    """The context of one mutation by ``who``, whose transaction the test commits itself."""
    return OperationContext(ConnectionContext(tenant.state, viewer=tenant.viewer(who)))


async def write(tenant: TestOrg, recipients: list[int], message: str) -> None:
    """One committed transaction notifying ``recipients``."""
    context = writer(tenant)
    try:
        await notify(context, recipients, "PROBE_PING", message=message)
        await context.commit()
    finally:
        await context.close()


async def seqs_of(tenant: TestOrg, who: str) -> list[tuple[int, int]]:
    """``(id, recipient_seq)`` of ``who``'s inbox rows, by ID."""
    async with tenant.state.db.reader(tenant.organization_id) as session:
        rows = await session.execute(
            select(models.Notification.id, models.Notification.recipient_seq)
            .where(models.Notification.recipient_id == tenant.users[who].id)
            .order_by(models.Notification.id)
        )
        return [(row.id, row.recipient_seq) for row in rows]


async def test_an_open_transaction_does_not_hold_up_a_later_writer_and_numbers_follow_commit_order(org: TestOrg, server: str) -> None:
    member = org.users["member"].id
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # given: a first transaction notified the member and is still open
        first = writer(org)
        second = writer(org)
        try:
            await notify(first, [member], "PROBE_PING", message="first")

            async def later() -> None:
                await notify(second, [member], "PROBE_PING", message="second")
                await second.commit()

            # when: a second transaction notifies the member and commits
            racing = asyncio.create_task(later())
            done, _ = await asyncio.wait({racing}, timeout=5)
            # then: it did not wait for the first one (the member's counter is locked only
            # while a transaction commits)
            assert done
            await racing
            await first.commit()
        finally:
            await first.close()
            await second.close()
        received = await socket.results("live", 2)
        # and the subscriber gets both, once each, in commit order
        assert [result["data"]["notifications"]["message"] for result in received] == ["second", "first"]
        assert await socket.nothing_more("live")
    assert [seq for _id, seq in await seqs_of(org, "member")] == [1, 2]


async def test_messages_published_out_of_order_are_delivered_once_in_order(
    org: TestOrg, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        # given: two notifications committed, their broker messages held back
        broker = org.state.broker
        held: list[tuple[str, Any]] = []

        async def hold(messages: Any) -> None:
            held.extend(messages)

        monkeypatch.setattr(broker, "publish_many", hold)
        await probe_notify(org, "member")
        await probe_notify(org, "member")
        monkeypatch.undo()
        assert [message["seq"] for _topic, message in held] == [1, 2]
        # when: the second one's message reaches the broker before the first one's
        for topic, message in reversed(held):
            await broker.publish(topic, message)
        received = await socket.results("live", 2)
        # then
        expected = [node["id"] for node in reversed((await org.ok(INBOX, as_="member"))["notifications"]["nodes"])]
        assert [result["data"]["notifications"]["id"] for result in received] == expected
        assert await socket.nothing_more("live")


async def test_a_message_sent_twice_is_delivered_once(org: TestOrg, server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        broker = org.state.broker
        sent: list[tuple[str, Any]] = []
        publish_many = broker.publish_many

        async def record(messages: Any) -> None:
            sent.extend(messages)
            await publish_many(messages)

        monkeypatch.setattr(broker, "publish_many", record)
        await probe_notify(org, "member")
        first = await socket.next("live")
        # when: the broker hands the same message over again
        await broker.publish(*sent[0])
        # then
        assert first is not None
        assert await socket.nothing_more("live")


async def test_reconnecting_after_a_commit_order_inversion_replays_exactly_the_missing_ones(org: TestOrg, server: str) -> None:
    member = org.users["member"].id
    # given: a client saw one notification, then its socket dropped
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("live", SUBSCRIBE)
        await listening(org, "member")
        await probe_notify(org, "member")
        seen = await socket.next("live")
    assert seen is not None
    # ... and, while it was away, a transaction that started first committed last
    first, second = writer(org), writer(org)
    try:
        await notify(first, [member], "PROBE_PING", message="started first")
        racing = asyncio.create_task(notify(second, [member], "PROBE_PING", message="started second"))
        await asyncio.wait({racing}, timeout=0.3)
        await first.commit()
        await racing
        await second.commit()
    finally:
        await first.close()
        await second.close()
    await write(org, [member], "third")
    # when: it reconnects with the last ID it saw
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        await socket.subscribe("again", SUBSCRIBE, {"after": seen["data"]["notifications"]["id"]})
        replayed = await socket.results("again", 3)
        # then: exactly the three it missed, once each, in commit order
        assert [result["data"]["notifications"]["message"] for result in replayed] == ["started first", "started second", "third"]
        assert await socket.nothing_more("again")


async def test_after_someone_elses_notification_is_a_bad_user_input(org: TestOrg, server: str) -> None:
    # given
    await probe_notify(org, "member2")
    theirs = (await org.ok(INBOX, as_="member2"))["notifications"]["nodes"][0]["id"]
    async with open_socket(server) as socket:
        await connect_as(socket, org, "member")
        # when
        await socket.subscribe("live", SUBSCRIBE, {"after": theirs})
        result = await socket.next("live")
    # then
    assert result is not None
    assert [(error.get("extensions") or {}).get("code") for error in result["errors"]] == ["BAD_USER_INPUT"]


async def test_concurrent_writers_number_a_users_notifications_without_gaps(org: TestOrg) -> None:
    member = org.users["member"].id
    # when: twenty transactions notify the member (and overlapping others) at once
    await asyncio.gather(
        *(write(org, [member, org.users["member2"].id, org.users["admin"].id], f"n{index}") for index in range(20))
    )
    # then: numbers 1..20 in ID order, for each recipient
    for who in ("member", "member2", "admin"):
        assert [seq for _id, seq in await seqs_of(org, who)] == list(range(1, 21))


async def test_notify_runs_as_many_statements_for_fifty_recipients_as_for_two(org: TestOrg) -> None:
    # given: fifty users to notify
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        users = [accounts.User(name=f"Follower {index}", email=f"f{index}@{org.organization_id}.example", handle=f"f{index}") for index in range(50)]
        session.add_all(users)
    ids = [user.id for user in users]

    async def statements(recipients: list[int]) -> int:
        context = writer(org)
        try:
            await context.session()
            with count_statements(org.state.db) as counter:
                await notify(context, recipients, "PROBE_PING", message="hello")
            await context.commit()
        finally:
            await context.close()
        return counter.count

    # when
    two = await statements(ids[:2])
    fifty = await statements(ids)
    # then
    assert two == fifty
    async with org.state.db.reader(org.organization_id) as session:
        rows = await session.execute(
            select(models.Notification.recipient_id, models.Notification.recipient_seq).where(models.Notification.recipient_id.in_(ids))
        )
        numbered = sorted((row.recipient_id, row.recipient_seq) for row in rows)
    assert numbered == sorted([(user, 1) for user in ids] + [(user, 2) for user in ids[:2]])


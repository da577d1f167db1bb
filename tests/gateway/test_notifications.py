"""Notifications core (G11): ``notify()`` writes inbox rows in the caller's transaction and
publishes them after commit; preferences per kind; the inbox queries and mutations.
The live subscription is in ``test_notifications_live.py``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from fiche.context import operation_context
from fiche.notifications import models, notify, user_topic
from fiche.relay import decode_id, encode_id
from tests.gateway.conftest import PROBE
from tests.support import TestOrg

PROBE_NOTIFY = """
mutation Notify($to: [ID!]!, $kind: String! = "PROBE_PING", $fail: Boolean! = false) {
  probeNotify(recipientIds: $to, kind: $kind, fail: $fail) { notified errors { code } }
}
"""
INBOX = """
query Inbox($first: Int, $after: String, $unreadOnly: Boolean! = false) {
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    edges { cursor node { id kind message link read readAt actor { handle } } }
    pageInfo { hasNextPage endCursor }
  }
  unreadNotificationCount
}
"""
UNREAD = "{ unreadNotificationCount }"
MARK_READ = "mutation Mark($ids: [ID!]!) { markNotificationsRead(ids: $ids) { unreadCount errors { code path } } }"
MARK_ALL_READ = "mutation { markAllNotificationsRead { unreadCount errors { code } } }"
PREFERENCES = "{ notificationPreferences { kind description enabled } }"
PREFERENCE_SET = """
mutation Set($kind: String!, $enabled: Boolean!) {
  notificationPreferenceSet(kind: $kind, enabled: $enabled) { preference { kind enabled } errors { code path } }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { __typename id ... on Notification { kind } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def gid(tenant: TestOrg, who: str) -> str:
    return encode_id("User", tenant.users[who].id)


async def send(tenant: TestOrg, *to: str, kind: str = "PROBE_PING", fail: bool = False, as_: str = "admin") -> dict[str, Any]:
    data = await tenant.ok(PROBE_NOTIFY, {"to": [gid(tenant, who) for who in to], "kind": kind, "fail": fail}, as_=as_)
    return dict(data["probeNotify"])


async def inbox_rows(tenant: TestOrg, who: str) -> int:
    async with tenant.state.db.reader(tenant.organization_id) as session:
        count = await session.scalar(
            select(func.count()).select_from(models.Notification).where(models.Notification.recipient_id == tenant.users[who].id)
        )
    return int(count or 0)


async def inbox_ids(tenant: TestOrg, who: str) -> list[str]:
    data = await tenant.ok(INBOX, {"first": 100}, as_=who)
    return [edge["node"]["id"] for edge in data["notifications"]["edges"]]


# ------------------------------------------------------------------ notify()


async def test_notify_writes_one_inbox_row_per_recipient(org: TestOrg) -> None:
    # when
    payload = await send(org, "member", "member2")
    # then
    assert payload == {"notified": [gid(org, "member"), gid(org, "member2")], "errors": []}
    assert await inbox_rows(org, "member") == 1
    assert await inbox_rows(org, "member2") == 1
    assert await inbox_rows(org, "manager") == 0


async def test_notification_rolled_back_with_its_mutation_leaves_no_row_and_is_not_published(org: TestOrg) -> None:
    # given
    async with org.state.broker.subscribe(user_topic(org.organization_id, org.users["member"].id)) as events:
        # when
        payload = await send(org, "member", fail=True)
        # then
        assert [error["code"] for error in payload["errors"]] == ["INVALID"]
        assert await inbox_rows(org, "member") == 0
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(events.get(), timeout=0.2)


async def test_notification_is_published_only_after_commit(org: TestOrg) -> None:
    # given
    member = org.users["member"].id
    async with org.state.broker.subscribe(user_topic(org.organization_id, member)) as events:
        async with operation_context(org.state, org.viewer("admin")) as context:
            await notify(context, [member], "PROBE_PING", message="after commit")
            # when: written (flushed) but not committed
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(events.get(), timeout=0.1)
            await context.commit()
        # then
        message = await asyncio.wait_for(events.get(), timeout=2)
    assert message["message"] == "after commit"
    assert message["recipient_id"] == member


async def test_notification_is_written_in_the_caller_transaction(org: TestOrg) -> None:
    # given
    member = org.users["member"].id
    async with operation_context(org.state, org.viewer("admin")) as context:
        await notify(context, [member], "PROBE_PING", message="uncommitted")
        # when: another connection looks while the transaction is open
        before_commit = await inbox_rows(org, "member")
        await context.rollback()
    # then
    assert before_commit == 0
    assert await inbox_rows(org, "member") == 0


async def test_unknown_notification_kind_is_an_error(org: TestOrg) -> None:
    # given
    async with operation_context(org.state, org.viewer("admin")) as context:
        # when / then
        with pytest.raises(ValueError, match="NO_SUCH_KIND"):
            await notify(context, [org.users["member"].id], "NO_SUCH_KIND", message="?")


async def test_notify_without_recipients_writes_nothing(org: TestOrg) -> None:
    # when
    payload = await send(org)
    # then
    assert payload == {"notified": [], "errors": []}


async def test_actor_is_the_viewer_who_caused_it(org: TestOrg) -> None:
    # given
    await send(org, "member", as_="manager")
    # when
    data = await org.ok(INBOX, as_="member")
    # then
    node = data["notifications"]["edges"][0]["node"]
    assert node["actor"] == {"handle": "manager"}
    assert (node["kind"], node["message"], node["link"], node["read"], node["readAt"]) == (
        "PROBE_PING",
        "PROBE_PING from the probe",
        "/probe",
        False,
        None,
    )


# ------------------------------------------------------------------ preferences


async def test_preferences_list_every_kind_with_its_default(org: TestOrg) -> None:
    # when
    data = await org.ok(PREFERENCES, as_="member")
    # then
    assert data["notificationPreferences"] == [
        {"kind": "PROBE_DIGEST", "description": "A probe digest (off unless you turn it on).", "enabled": False},
        {"kind": "PROBE_PING", "description": "A probe pinged you.", "enabled": True},
    ]


async def test_kind_turned_off_writes_no_row_for_that_user(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE_SET, {"kind": "PROBE_PING", "enabled": False}, as_="member")
    # when
    payload = await send(org, "member", "member2")
    # then
    assert payload["notified"] == [gid(org, "member2")]
    assert await inbox_rows(org, "member") == 0
    assert await inbox_rows(org, "member2") == 1


async def test_kind_off_by_default_writes_no_row(org: TestOrg) -> None:
    # when
    payload = await send(org, "member", kind="PROBE_DIGEST")
    # then
    assert payload["notified"] == []
    assert await inbox_rows(org, "member") == 0


async def test_kind_off_by_default_can_be_turned_on(org: TestOrg) -> None:
    # given
    data = await org.ok(PREFERENCE_SET, {"kind": "PROBE_DIGEST", "enabled": True}, as_="member")
    # when
    payload = await send(org, "member", "member2", kind="PROBE_DIGEST")
    # then
    assert data["notificationPreferenceSet"] == {"preference": {"kind": "PROBE_DIGEST", "enabled": True}, "errors": []}
    assert payload["notified"] == [gid(org, "member")]


async def test_preference_can_be_changed_back(org: TestOrg) -> None:
    # given
    await org.ok(PREFERENCE_SET, {"kind": "PROBE_PING", "enabled": False}, as_="member")
    await org.ok(PREFERENCE_SET, {"kind": "PROBE_PING", "enabled": True}, as_="member")
    # when
    payload = await send(org, "member")
    # then
    assert payload["notified"] == [gid(org, "member")]
    preferences = (await org.ok(PREFERENCES, as_="member"))["notificationPreferences"]
    assert {"kind": "PROBE_PING", "description": "A probe pinged you.", "enabled": True} in preferences


async def test_preference_of_an_unknown_kind_is_not_found(org: TestOrg) -> None:
    # when
    data = await org.ok(PREFERENCE_SET, {"kind": "NO_SUCH_KIND", "enabled": False}, as_="member")
    # then
    assert data["notificationPreferenceSet"] == {"preference": None, "errors": [{"code": "NOT_FOUND", "path": ["kind"]}]}


# ------------------------------------------------------------------ the inbox


async def test_inbox_lists_newest_first_and_pages(org: TestOrg) -> None:
    # given
    for _ in range(3):
        await send(org, "member")
    everything = await inbox_ids(org, "member")
    # when
    first = (await org.ok(INBOX, {"first": 2}, as_="member"))["notifications"]
    rest = (await org.ok(INBOX, {"first": 2, "after": first["pageInfo"]["endCursor"]}, as_="member"))["notifications"]
    # then
    assert [edge["node"]["id"] for edge in first["edges"] + rest["edges"]] == everything
    pks = [decode_id(global_id, "Notification")[1] for global_id in everything]
    assert len(pks) == 3 and pks == sorted(pks, reverse=True)
    assert (first["pageInfo"]["hasNextPage"], rest["pageInfo"]["hasNextPage"]) == (True, False)


async def test_inbox_shows_only_the_viewer_notifications(org: TestOrg) -> None:
    # given
    await send(org, "member2")
    # when
    data = await org.ok(INBOX, as_="member")
    # then
    assert data["notifications"]["edges"] == []
    assert data["unreadNotificationCount"] == 0


async def test_unread_only_lists_unread_notifications(org: TestOrg) -> None:
    # given
    await send(org, "member")
    await send(org, "member")
    older, newer = reversed(await inbox_ids(org, "member"))
    await org.ok(MARK_READ, {"ids": [older]}, as_="member")
    # when
    data = await org.ok(INBOX, {"unreadOnly": True}, as_="member")
    # then
    assert [edge["node"]["id"] for edge in data["notifications"]["edges"]] == [newer]


async def test_unread_count_counts_unread_notifications(org: TestOrg) -> None:
    # given
    for _ in range(3):
        await send(org, "member")
    # when
    data = await org.ok(UNREAD, as_="member")
    # then
    assert data == {"unreadNotificationCount": 3}


async def test_mark_read_marks_the_given_notifications(org: TestOrg) -> None:
    # given
    await send(org, "member")
    await send(org, "member")
    newest, oldest = await inbox_ids(org, "member")
    # when
    data = await org.ok(MARK_READ, {"ids": [oldest]}, as_="member")
    # then
    assert data["markNotificationsRead"] == {"unreadCount": 1, "errors": []}
    nodes = {edge["node"]["id"]: edge["node"] for edge in (await org.ok(INBOX, as_="member"))["notifications"]["edges"]}
    assert nodes[oldest]["read"] is True and nodes[oldest]["readAt"] is not None
    assert nodes[newest]["read"] is False


async def test_mark_read_leaves_other_users_notifications_untouched(org: TestOrg) -> None:
    # given
    await send(org, "member2")
    theirs = await inbox_ids(org, "member2")
    # when
    data = await org.ok(MARK_READ, {"ids": theirs}, as_="member")
    # then
    assert data["markNotificationsRead"] == {"unreadCount": 0, "errors": []}
    assert (await org.ok(UNREAD, as_="member2")) == {"unreadNotificationCount": 1}


async def test_mark_read_with_a_malformed_id_is_invalid(org: TestOrg) -> None:
    # when
    data = await org.ok(MARK_READ, {"ids": ["garbage"]}, as_="member")
    # then
    assert data["markNotificationsRead"] == {"unreadCount": None, "errors": [{"code": "INVALID", "path": ["ids", "0"]}]}


async def test_mark_all_read_marks_only_the_viewer_inbox(org: TestOrg) -> None:
    # given
    await send(org, "member", "member2")
    await send(org, "member")
    # when
    data = await org.ok(MARK_ALL_READ, as_="member")
    # then
    assert data["markAllNotificationsRead"] == {"unreadCount": 0, "errors": []}
    assert (await org.ok(UNREAD, as_="member")) == {"unreadNotificationCount": 0}
    assert (await org.ok(UNREAD, as_="member2")) == {"unreadNotificationCount": 1}


async def test_node_of_own_notification_resolves(org: TestOrg) -> None:
    # given
    await send(org, "member")
    (mine,) = await inbox_ids(org, "member")
    # when
    data = await org.ok(NODE, {"id": mine}, as_="member")
    # then
    assert data["node"] == {"__typename": "Notification", "id": mine, "kind": "PROBE_PING"}


async def test_node_of_someone_else_notification_is_null(org: TestOrg) -> None:
    # given
    await send(org, "member2")
    (theirs,) = await inbox_ids(org, "member2")
    # when
    data = await org.ok(NODE, {"id": theirs}, as_="member")
    # then
    assert data == {"node": None}


async def test_withdraw_and_retarget_change_only_the_rows_they_name(org: TestOrg) -> None:
    """The service API plugins use to keep inbox rows in step with what they point at."""
    from sqlalchemy import select

    from fiche.notifications import models as inbox_models
    from fiche.notifications.service import recipients_of, retarget, withdraw

    # given: two inbox rows about two subjects, leading to one target
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        rows = [
            inbox_models.Notification(
                recipient_id=org.users[who].id, recipient_seq=1, kind="PROBE", message="quoted", subject_id=subject,
                target_id="T-old", link=f"/t/T-old#{subject}",
            )
            for who, subject in (("member", "S1"), ("member2", "S2"))
        ]
        session.add_all(rows)
    # when
    async with org.state.db.session(organization_id=org.organization_id) as session, session.begin():
        about_s1 = await recipients_of(session, "S1")
        await withdraw(session, "withdrawn", subject_ids=["S1"])
        await retarget(session, "T-old", "T-new", ["PROBE"])
    # then
    async with org.state.db.reader(org.organization_id) as session:
        result = {
            row.subject_id: (row.message, row.link, row.target_id)
            for row in await session.execute(
                select(inbox_models.Notification.subject_id, inbox_models.Notification.message, inbox_models.Notification.link, inbox_models.Notification.target_id)
                .where(inbox_models.Notification.subject_id.in_(["S1", "S2"]))
            )
        }
    assert about_s1 == [(rows[0].id, org.users["member"].id)]
    assert result == {"S1": ("withdrawn", None, "T-new"), "S2": ("quoted", "/t/T-new#S2", "T-new")}

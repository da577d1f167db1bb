"""The ``notification_visibility`` hook: the inbox is filtered when it is READ by what its
reader may see now. Probes here hide ``ProbeSecret`` objects from everyone but managers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from fiche import hookimpl
from fiche.accounts.models import Role
from fiche.context import OperationContext, operation_context
from fiche.notifications import notify
from fiche.notifications.visibility import HIDDEN_MESSAGE
from fiche.relay import InvalidID, decode_id, encode_id
from tests.differential import REFERENCE_RUN
from tests.gateway.conftest import PROBE
from tests.gateway.ws_client import GraphQLSocket, open_socket
from tests.support import TestOrg
from tests.live_fixtures import each_broker  # noqa: F401  (fixture)

SECRET = encode_id("ProbeSecret", 1)
PLAIN = encode_id("ProbeThing", 2)
INBOX = """
{
  notifications(first: 10) { edges { node { kind message link read actor { handle } target { id } subject { id } } } }
  unreadNotificationCount
}
"""
NODE = "query($id: ID!) { node(id: $id) { ... on Notification { message link } } }"
LIVE = "subscription($after: ID) { notifications(after: $after) { id message link } }"
USER_UPDATE = """
mutation($input: UserUpdateInput!) { userUpdate(input: $input) { errors { code } } }
"""


class HidingProbe:
    """Answers for ``ProbeSecret`` IDs only: visible to managers; records its calls."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @hookimpl
    async def notification_visibility(self, context: OperationContext, object_ids: Sequence[str]) -> dict[str, bool]:
        if not REFERENCE_RUN.get():  # the differential check's second execution is not a call to count
            self.calls.append(list(object_ids))
        viewer = context.require_viewer()
        return {object_id: viewer.is_manager for object_id in object_ids if _type(object_id) == "ProbeSecret"}


class TrustingProbe:
    """Says every ID is visible: one plugin's False must still win."""

    @hookimpl
    def notification_visibility(self, object_ids: Sequence[str]) -> dict[str, bool]:
        return dict.fromkeys(object_ids, True)


def _type(object_id: str) -> str | None:
    try:
        return decode_id(object_id)[0]
    except InvalidID:
        return None


@pytest.fixture
def hiding() -> HidingProbe:
    return HidingProbe()


@pytest.fixture
def plugins(hiding: HidingProbe) -> list[tuple[str, Any]]:
    return [*PROBE, ("hiding", hiding), ("trusting", TrustingProbe())]


async def send(tenant: TestOrg, who: str, message: str, *, subject: str | None = None, target: str | None = None) -> None:
    """A notification written by the admin for ``who``, pointing at ``subject`` / ``target``."""
    async with operation_context(tenant.state, tenant.viewer("admin")) as context:
        await notify(context, [tenant.users[who].id], "PROBE_PING", message=message, subject_id=subject, target_id=target, link="/x")
        await context.commit()


async def test_hook_notification_visibility(org: TestOrg, hiding: HidingProbe) -> None:
    # given
    await send(org, "member", "about the secret", subject=SECRET)
    await send(org, "member", "about a thing", subject=PLAIN)
    # when
    data = await org.ok(INBOX, as_="member")
    # then: one call for the page; the secret's notification keeps only kind, actor and state
    assert hiding.calls == [sorted([SECRET, PLAIN])]
    nodes = [edge["node"] for edge in data["notifications"]["edges"]]
    assert [(node["message"], node["link"]) for node in nodes] == [("about a thing", "/x"), (HIDDEN_MESSAGE, None)]
    assert nodes[1] == {
        "kind": "PROBE_PING", "message": HIDDEN_MESSAGE, "link": None, "read": False,
        "actor": {"handle": "admin"}, "target": None, "subject": None,
    }
    assert data["unreadNotificationCount"] == 2  # still unread, still counted: nothing of it is shown


async def test_hook_notification_visibility_is_asked_about_targets_too(org: TestOrg) -> None:
    # given
    await send(org, "member", "on the secret", target=SECRET)
    # when
    data = await org.ok(INBOX, as_="member")
    # then
    assert data["notifications"]["edges"][0]["node"]["message"] == HIDDEN_MESSAGE


async def test_hook_notification_visibility_leaves_what_the_reader_may_see(org: TestOrg) -> None:
    # given
    await send(org, "manager", "about the secret", subject=SECRET)
    # when
    data = await org.ok(INBOX, as_="manager")
    # then
    assert data["notifications"]["edges"][0]["node"]["message"] == "about the secret"


async def test_hook_notification_visibility_applies_to_node(org: TestOrg) -> None:
    # given
    await send(org, "member", "about the secret", subject=SECRET)
    data = await org.ok("{ notifications { nodes { id } } }", as_="member")
    notification = data["notifications"]["nodes"][0]["id"]
    # when
    node = (await org.ok(NODE, {"id": notification}, as_="member"))["node"]
    # then
    assert node == {"message": HIDDEN_MESSAGE, "link": None}


async def connected(socket: GraphQLSocket, tenant: TestOrg, who: str) -> None:
    ack = await socket.init({"Authorization": f"Bearer {tenant.token(who)}"})
    assert ack["type"] == "connection_ack"


async def test_hook_notification_visibility_applies_to_the_replay(org: TestOrg, server: str) -> None:
    # given
    await send(org, "member", "first", subject=PLAIN)
    await send(org, "member", "about the secret", subject=SECRET)
    first = (await org.ok("{ notifications { nodes { id } } }", as_="member"))["notifications"]["nodes"][1]["id"]
    async with open_socket(server) as socket:
        await connected(socket, org, "member")
        # when
        await socket.subscribe("live", LIVE, {"after": first})
        result = await socket.next("live")
    # then
    assert result is not None
    assert (result["data"]["notifications"]["message"], result["data"]["notifications"]["link"]) == (HIDDEN_MESSAGE, None)


async def test_hook_notification_visibility_applies_to_live_events_once_access_changed(
    org: TestOrg, server: str, hiding: HidingProbe
) -> None:
    manager = org.users["manager"].id
    async with open_socket(server) as socket:
        await connected(socket, org, "manager")
        await send(org, "manager", "ready", subject=PLAIN)
        ready = (await org.ok("{ notifications { nodes { id } } }", as_="manager"))["notifications"]["nodes"][0]["id"]
        await send(org, "manager", "replayed", subject=PLAIN)
        await socket.subscribe("live", LIVE, {"after": ready})
        assert (await socket.next("live") or {})["data"]["notifications"]["message"] == "replayed"
        replayed = len(hiding.calls)
        await send(org, "manager", "while a manager", subject=SECRET)
        assert (await socket.next("live") or {})["data"]["notifications"]["message"] == "while a manager"
        unchanged = len(hiding.calls) - replayed
        # when: lowered to member while the subscription runs
        variables = {"input": {"id": encode_id("User", org.users["manager"].id), "role": "MEMBER"}}
        assert (await org.ok(USER_UPDATE, variables))["userUpdate"]["errors"] == []
        async with asyncio.timeout(2.0):
            while any(c.viewer is None or c.viewer.role is not Role.MEMBER for c in org.state.live.sockets_of(manager)):
                await asyncio.sleep(0.01)
        await send(org, "manager", "after the change", subject=SECRET)
        result = await socket.next("live")
    # then: live events were delivered without asking the hook until access changed
    assert result is not None
    assert (result["data"]["notifications"]["message"], result["data"]["notifications"]["link"]) == (HIDDEN_MESSAGE, None)
    assert unchanged == 0  # the writer checked the manager's access; it had not changed since

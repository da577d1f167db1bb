"""What the hub writes, made once per event: the JSON a projection serialises (the shared
part once, each recipient's ``id`` spliced in) is byte for byte ``orjson.dumps`` of what it
projects; the lean layer's frames are byte for byte websockets' own; a batch of deliveries
through the synchronous write path and through the coroutine gives the same frames; the
metrics count every delivery though they are called once per event."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from fiche.context import ConnectionContext, OperationContext
from fiche.leanws.protocol import _text_header
from fiche.metrics import _LAG_BUCKETS, Metrics, _LagHistogram
from fiche.notifications import hub as hub_module
from fiche.notifications.hub import hub_of
from fiche.notifications.projection import compile_plan
from fiche.notifications.service import NotificationRecord
from tests.gateway.conftest import PROBE
from tests.gateway.test_notification_hub import PLAIN, SHAPED, _delivery
from tests.gateway.test_notifications_live import INBOX_IDS, notify
from tests.support import TestOrg

NO_ID = "subscription { notifications { message kind createdAt read actor { handle } } }"
IDS_TWICE = "subscription { notifications { first: id message second: id actor { id } } }"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    return PROBE


def _records(tenant: TestOrg) -> list[NotificationRecord]:
    """The records of three events, their recipients interleaved as the broker hands them:
    with and without an actor, one already read, one whose text needs escaping."""
    now = dt.datetime(2026, 11, 29, 21, 0, tzinfo=dt.UTC)
    events = [
        {"kind": "NOTE", "actor_id": tenant.users["admin"].id, "message": "Nouvelle du client", "link": "/c/1#note-1", "created_at": now, "read_at": None},
        {"kind": "MENTION", "actor_id": None, "message": 'Guillemets " et \\ et é \u2028', "link": None, "created_at": now, "read_at": None},
        {"kind": "NOTE", "actor_id": tenant.users["manager"].id, "message": "Lue", "link": "/c/2", "created_at": now, "read_at": now + dt.timedelta(seconds=3)},
    ]
    records = []
    ids = itertools.count(1000)
    for seq, recipient in enumerate(("member", "member2", "technician"), start=1):
        for event in events:
            number = next(ids)
            records.append(NotificationRecord(id=number, recipient_id=tenant.users[recipient].id, seq=seq, target_id=None, subject_id=None, **event))
    return records


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (PLAIN, {}),
        (SHAPED, {"withLink": True, "skipKind": False}),
        (SHAPED, {"withLink": False}),
        (NO_ID, {}),
        (IDS_TWICE, {}),
    ],
    ids=["plain", "shaped", "shaped-other-variables", "no-id", "id-twice"],
)
async def test_serialised_answers_are_the_bytes_of_the_projected_ones(org: TestOrg, document: str, variables: dict[str, Any]) -> None:
    # given: a projection and records of several events
    plan = compile_plan(org.schema, org.state.settings, document, None)
    assert plan is not None
    projection = plan.projection(variables)
    assert projection is not None
    records = _records(org)
    context = OperationContext(ConnectionContext(org.state, viewer=org.viewer("member")))
    try:
        # when: serialised with the shared part made once per event
        serialised = await projection.serialize(context, records)
        projected = await projection.project(context, records)
    finally:
        await context.close()
    # then: exactly what orjson makes of each projected answer
    assert serialised == [orjson.dumps(answer) for answer in projected]


@pytest.mark.parametrize("length", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_a_lean_frame_is_byte_for_byte_what_websockets_writes(length: int) -> None:
    # given: websockets' own server protocol, open
    conn = ServerProtocol(state=State.OPEN)
    payload = b"x" * length
    # when: it frames a text message
    conn.send_text(payload)
    expected = b"".join(conn.data_to_send())
    # then: the cached header followed by the payload is the same frame
    assert _text_header(length) + payload == expected
    assert Frame(Opcode.TEXT, payload).serialize(mask=False) == expected


def _exposition(registry: CollectorRegistry) -> tuple[list[str], float]:
    """The scrape's lines but for the creation time prometheus' histogram adds, and the
    sum apart (added once with a count, or that many times: rounding differs)."""
    lines = [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]
    [total] = [float(line.split()[-1]) for line in lines if line.startswith("lag_seconds_sum ")]
    return [line for line in lines if not line.startswith("lag_seconds_sum ")], total


def test_an_observation_with_a_count_is_that_many_observations() -> None:
    # given: prometheus' own histogram and the lag histogram, with the same buckets
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    histogram = Histogram("lag_seconds", "Lag.", buckets=_LAG_BUCKETS, registry=theirs)
    lag = _LagHistogram("lag_seconds", "Lag.", _LAG_BUCKETS)
    ours.register(lag)
    # when: the same observations, one by one there and counted here
    for amount, count in [(0.003, 2), (0.05, 1), (0.07, 4000), (7.5, 3), (1000.0, 1), (0.0, 5)]:
        for _ in range(count):
            histogram.observe(amount)
        lag.observe(amount, count)
    # then: the same exposition
    (our_lines, our_sum), (their_lines, their_sum) = _exposition(ours), _exposition(theirs)
    assert our_lines == their_lines
    assert our_sum == pytest.approx(their_sum)


async def test_a_batch_of_deliveries_writes_the_same_frames_both_ways_and_counts_each(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    await org.state.broker.connect()
    metrics = Metrics(org.state)
    monkeypatch.setattr(org.state, "metrics", metrics)
    hub = hub_of(org.state)
    # given: three users' subscriptions written synchronously, and one of them a second
    # time through the coroutine (the ASGI path's way)
    frames: dict[str, list[bytes]] = {name: [] for name in ("member", "member2", "technician", "member-send")}
    written = [_delivery(org, who, frames[who], writes=True) for who in ("member", "member2", "technician")]
    sent = _delivery(org, "member", frames["member-send"])
    deliveries = [*written, sent]
    for delivery in deliveries:
        await hub.add(delivery)
    try:
        # when: two events reach them all
        await notify(org, "member", "member2", "technician")
        await notify(org, "member", "member2", "technician")
        for _ in range(250):
            if all(len(got) == 2 for got in frames.values()):
                break
            await asyncio.sleep(0.02)
        # then: each got both, and the two ways wrote the same bytes
        assert frames["member"] == frames["member-send"]
        for who in ("member", "member2", "technician"):
            ids = [node["id"] for node in reversed((await org.ok(INBOX_IDS, as_=who))["notifications"]["nodes"])]
            assert [orjson.loads(frame)["payload"]["data"]["notifications"]["id"] for frame in frames[who]] == ids
        # and each frame is the head, the projected answer's JSON, and the end
        projection = written[0].projection
        for frame in frames["member"]:
            data = orjson.loads(frame)["payload"]["data"]
            assert frame == b'{"payload":{"data":' + orjson.dumps(data) + b"}}"
            assert list(data["notifications"]) == [key for key, _getter, _extra in projection.fields]
        # and the metrics counted every delivery, though called once per event
        registry = metrics.registry
        assert registry.get_sample_value("fiche_notifications_delivered_total") == 8
        assert registry.get_sample_value("fiche_notification_delivery_lag_seconds_count") == 8
        assert registry.get_sample_value("fiche_notification_delivery_lag_seconds_bucket", {"le": "+Inf"}) == 8
    finally:
        for delivery in deliveries:
            await hub.remove(delivery)
    assert not hub.topics


async def test_a_large_fan_out_lets_the_loop_run_between_slices_and_keeps_every_guarantee(org: TestOrg, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "FANOUT_SLICE", 2)
    await org.state.broker.connect()
    hub = hub_of(org.state)
    # given: five subscriptions, one of which closes while the fan-out is under way, and a
    # task that notes how many frames were written each time it runs
    frames: list[list[bytes]] = [[] for _ in range(5)]
    deliveries = [_delivery(org, who, got, writes=True) for who, got in zip(["member", "member2", "technician", "manager", "member"], frames, strict=True)]
    for delivery in deliveries:
        await hub.add(delivery)
    seen: list[int] = []
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            seen.append(sum(len(got) for got in frames))
            if seen[-1] == 2:
                await hub.remove(deliveries[2])
            await asyncio.sleep(0)

    watcher = asyncio.ensure_future(watch())
    try:
        # when: one event reaches them all
        await notify(org, "member", "member2", "technician", "manager")
        for _ in range(250):
            if sum(len(got) for got in frames) == 4 and not hub._pending and hub._worker is None:
                break
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await watcher
        for delivery in deliveries:
            await hub.remove(delivery)
    # then: the loop ran between the slices (after two frames, before the others)
    assert 2 in seen
    # and each open subscription got it once, the closed one nothing
    assert [len(got) for got in frames] == [1, 1, 0, 1, 1]

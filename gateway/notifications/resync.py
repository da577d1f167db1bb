"""Anti-entropy for live notifications: what committed but was never published is still
delivered.

The hub learns of a new notification from the broker message its write publishes once the
transaction has committed, and of a missed one from the gap the next message shows (see
:mod:`fiche.notifications.hub`). A notification whose message never goes out — its gateway
killed between the commit and the publish, a publish that failed while the broker was up
for everyone else, a commit whose acknowledgement was lost with the database connection —
shows no gap until the recipient's NEXT notification, which may never come. Every
``notification_resync_seconds`` the hub therefore reads, in one statement per organisation,
the last number given to each user it serves (``notification_counters``), and catches up
from the inbox each subscription that was already behind at the previous reading: a
notification in flight through the broker has arrived by then, so a healthy system costs
one read per period and no catch-up. Delivery stays exactly once: the catch-up and any late
broker message are numbered, and the hub hands each number on once."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from fiche.db import in_keys
from fiche.notifications.models import NotificationCounter

if TYPE_CHECKING:
    from fiche.notifications.hub import Delivery, Hub

log = logging.getLogger(__name__)


class _Behind:
    """What one reading found of a subscription that had not got its user's last number."""

    __slots__ = ("delivery", "latest", "resynced")

    def __init__(self, delivery: Delivery, latest: int, resynced: int) -> None:
        self.delivery = delivery
        self.latest = latest  # the user's last number at that reading
        self.resynced = resynced  # the last number a catch-up was already started for


class Resync:
    """The periodic reading of one hub (a task while the hub has subscriptions)."""

    def __init__(self, hub: Hub, seconds: float) -> None:
        self.hub = hub
        self.seconds = seconds
        self.task: asyncio.Task[None] | None = None
        self.behind: dict[int, _Behind] = {}  # by id() of the delivery
        # Counters (tests and diagnostics): readings made, catch-ups they started.
        self.sweeps = 0
        self.caught_up = 0

    def ensure_running(self) -> None:
        """Start the periodic reading, unless it runs (or ``seconds`` turns it off)."""
        if self.seconds <= 0:
            return
        task = self.task
        if task is not None and not task.done() and task.get_loop() is asyncio.get_running_loop():
            return
        self.behind = {}
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        # Ends once the hub serves nobody; the next subscription starts it again.
        while self.hub.topics:
            await asyncio.sleep(self.seconds)
            try:
                await self.sweep()
            except Exception:
                # The database away: the next reading tries again (and the subscriptions'
                # own catch-ups report the outage to their clients).
                log.warning("reading the notification counters failed; trying again in %ss", self.seconds, exc_info=True)

    async def sweep(self) -> None:
        """One reading: catch up what was behind at the previous one and still is."""
        self.sweeps += 1
        by_organization: dict[int, list[Delivery]] = {}
        for topic in list(self.hub.topics.values()):
            for delivery in topic.members:
                if not delivery.closed:
                    by_organization.setdefault(delivery.viewer.organization_id, []).append(delivery)
        previous, behind = self.behind, {}
        for organization_id, deliveries in by_organization.items():
            latest = await self._latest(organization_id, {delivery.viewer.user_id for delivery in deliveries})
            for delivery in deliveries:
                number = latest.get(delivery.viewer.user_id, 0)
                if number <= delivery.last:
                    continue
                before = previous.get(id(delivery))
                if before is not None and before.delivery is not delivery:
                    before = None  # another delivery that had the same id()
                resynced = 0 if before is None else before.resynced
                if before is not None and resynced < before.latest <= number and delivery.last < before.latest:
                    # Already missing at the previous reading, a period ago: its message is
                    # not coming. (A number the catch-up does not deliver — a notification
                    # this user may no longer read — is not tried again.)
                    if not delivery.busy and not delivery.dirty:
                        self.caught_up += 1
                        self.hub._catch_up(delivery)
                    resynced = before.latest
                behind[id(delivery)] = _Behind(delivery, number, resynced)
        self.behind = behind

    async def _latest(self, organization_id: int, user_ids: set[int]) -> dict[int, int]:
        async with self.hub.app.db.reader(organization_id) as session:
            rows = await session.execute(
                select(NotificationCounter.user_id, NotificationCounter.seq).where(
                    in_keys(session, NotificationCounter.user_id, sorted(user_ids))
                )
            )
            return {user_id: int(seq) for user_id, seq in rows}

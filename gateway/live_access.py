"""Access re-checked on open WebSockets.

A WebSocket authenticates once, in ``connection_init``, and may then stay open for hours
while an admin deactivates the user, lowers their role or moves them between teams, or
while their token expires. So:

- every operation started on a socket reloads the user (one statement) before it runs;
- a change of role, teams or active flag is announced on the broker's ``access`` topic once
  it commits (:func:`access_changed`). Every gateway process listens to that topic with ONE
  task and reloads, in one statement per message, the users it has sockets for: their
  sockets' viewer is replaced (a long subscription delivers its next event with the new
  rights, with no statement per event) or, for a deactivated or deleted user, the socket
  is closed with 4403;
- each socket has a timer at its token's expiry, so an idle socket is closed too.

Per socket this costs a weak reference in a process-wide registry and one timer handle:
no task, and nothing that keeps a closed connection alive. The listener runs while the
process has sockets and stops with the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import weakref
from functools import partial
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from aiodataloader import DataLoader
from starlette.websockets import WebSocketDisconnect

from fiche.auth import Viewer, identify, load_viewers
from fiche.db import utcnow

if TYPE_CHECKING:
    from fiche.context import AppState, ConnectionContext, OperationContext

__all__ = ["ACCESS_TOPIC", "CLOSE_CODE", "LiveAccess", "access_changed"]

log = logging.getLogger("fiche.live_access")

ACCESS_TOPIC = "access"
CLOSE_CODE = 4403
READY_TIMEOUT = 10.0


def access_changed(context: OperationContext, user_ids: Iterable[int]) -> None:
    """Announce, once the operation's write transaction commits, that the role, teams or
    active flag of ``user_ids`` (of the viewer's organisation) changed: every gateway
    process then refreshes or closes their open sockets. Call it from every write that
    changes what a user may see or do."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return
    message = {"organization_id": context.require_viewer().organization_id, "user_ids": wanted}
    broker = context.broker

    async def publish() -> None:
        await broker.publish(ACCESS_TOPIC, message)

    context.after_commit(publish)


@dataclasses.dataclass(slots=True)
class _Socket:
    user_id: int
    timer: asyncio.TimerHandle | None


class LiveAccess:
    """The open WebSockets of one gateway process, by user, and the ``access`` listener."""

    def __init__(self, app: AppState) -> None:
        self.app = app
        self._sockets: dict[weakref.ref[ConnectionContext], _Socket] = {}
        self._by_user: dict[int, set[weakref.ref[ConnectionContext]]] = {}
        self._listener: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._connecting = 0
        # Per organisation, batches the reads of users that sockets need at the same moment.
        self._loaders: dict[int, DataLoader[int, Viewer | None]] = {}

    async def _viewer(self, organization_id: int, user_id: int) -> Viewer | None:
        """The current state of one user, read with those of the other sockets of the
        organisation that connect or start an operation at the same moment: one statement
        for a burst of connections, not one each."""
        loader = self._loaders.get(organization_id)
        if loader is None or loader.loop is not asyncio.get_running_loop():
            loader = self._loaders[organization_id] = DataLoader(partial(self._load, organization_id), cache=False)
        return await loader.load(user_id)

    async def _load(self, organization_id: int, user_ids: list[int]) -> list[Viewer | None]:
        found = await load_viewers(self.app.db, organization_id, user_ids)
        return [found.get(user_id) for user_id in user_ids]

    # -- sockets ---------------------------------------------------------------------------
    async def connect(self, context: ConnectionContext, token: str | None) -> bool:
        """Authenticate a socket's ``connection_init`` and watch it; False to refuse it."""
        self._connecting += 1
        try:
            # Listen BEFORE reading the user: a change committed after the read is heard.
            await self._listening()
            identity = await identify(self.app.pm, self.app.settings, token)
            viewer = None
            if identity is not None and not _expired(identity.expires_at):
                viewer = await self._viewer(identity.organization_id, identity.user_id)
            if identity is None or viewer is None:
                return False
            context.viewer = viewer
            context.expires_at = identity.expires_at
            context.live = True
            self._register(context, viewer.user_id, identity.expires_at)
            return True
        finally:
            self._connecting -= 1
            self._stop_when_idle()

    def _register(self, context: ConnectionContext, user_id: int, expires_at: dt.datetime | None) -> None:
        ref = weakref.ref(context, self._forget)
        timer = None
        if expires_at is not None:
            delay = (expires_at - utcnow()).total_seconds()
            timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._expire, ref)
        self._sockets[ref] = _Socket(user_id, timer)
        self._by_user.setdefault(user_id, set()).add(ref)

    def _forget(self, ref: weakref.ref[ConnectionContext]) -> None:
        """Weak-reference callback: the connection is gone."""
        socket = self._sockets.pop(ref, None)
        if socket is None:
            return
        if socket.timer is not None:
            socket.timer.cancel()
        refs = self._by_user.get(socket.user_id)
        if refs is not None:
            refs.discard(ref)
            if not refs:
                del self._by_user[socket.user_id]
        self._stop_when_idle()

    def _stop_when_idle(self) -> None:
        if not self._sockets and not self._connecting:
            self._stop_listening()

    def _expire(self, ref: weakref.ref[ConnectionContext]) -> None:
        context = ref()
        if context is not None and context.viewer is not None:
            self._spawn(self.revoke(context, "Token expired"))

    def _spawn(self, closing: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def sockets_of(self, user_id: int) -> list[ConnectionContext]:
        """The open, still authorised sockets of ``user_id`` in this process."""
        found = (ref() for ref in tuple(self._by_user.get(user_id, ())))
        return [context for context in found if context is not None and context.viewer is not None]

    @property
    def listening(self) -> bool:
        """Whether the ``access`` listener is subscribed (for tests and diagnostics)."""
        return self._ready is not None and self._ready.done() and not self._ready.exception()

    # -- checks ----------------------------------------------------------------------------
    async def check(self, context: ConnectionContext) -> None:
        """Before an operation runs on a socket: reload the user; close the socket with
        4403 when they were deactivated or deleted or the token expired."""
        viewer = context.viewer
        if viewer is None:
            return
        if _expired(context.expires_at):
            await self.revoke(context, "Token expired")
            return
        fresh = await self._viewer(viewer.organization_id, viewer.user_id)
        await self._apply(context, fresh)

    async def _apply(self, context: ConnectionContext, fresh: Viewer | None) -> None:
        if context.viewer is None:
            return
        if fresh is None:
            await self.revoke(context, "Access revoked")
        elif _expired(context.expires_at):
            await self.revoke(context, "Token expired")
        else:
            context.viewer = fresh

    async def revoke(self, context: ConnectionContext, reason: str) -> None:
        """Forget the socket's viewer (every operation and event stops at once), then close
        the socket with 4403."""
        if context.viewer is None:
            return
        context.viewer = None
        websocket = context.request
        # Already closed by the client or the server: nothing left to close.
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await websocket.close(code=CLOSE_CODE, reason=reason)
        log.info("closed a websocket: %s", reason)

    # -- the access topic ------------------------------------------------------------------
    async def _listening(self) -> None:
        if self._listener is not None and self._listener.done():
            self._stop_listening()  # it failed after subscribing: start afresh
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._listener = asyncio.create_task(self._listen(self._ready), name="fiche-live-access")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT)
        except Exception:
            # Operations still reload the user and the expiry timer still fires; only the
            # push to idle subscriptions waits for the broker. Try again on the next socket.
            log.warning("could not listen to access changes; live sockets rely on per-operation checks", exc_info=True)
            self._stop_listening()

    def _stop_listening(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(RuntimeError):  # the event loop is already closed
                self._listener.cancel()
        self._listener = None
        self._ready = None

    async def _listen(self, ready: asyncio.Future[None]) -> None:
        try:
            async with self.app.broker.subscribe(ACCESS_TOPIC) as events:
                ready.set_result(None)
                while True:
                    message = await events.get()
                    try:
                        if message is None or events.lost:
                            events.lost = False  # messages may be lost: reload everyone
                            await self.refresh_all()
                        else:
                            await self.refresh(int(message["organization_id"]), [int(pk) for pk in message["user_ids"]])
                    except asyncio.CancelledError:
                        raise
                    except Exception:
                        log.exception("could not apply an access change to open websockets")
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception) else RuntimeError("listener cancelled"))
                ready.exception()  # retrieved: the waiter logs it
            raise

    async def refresh(self, organization_id: int, user_ids: Iterable[int]) -> None:
        """Reload ``user_ids`` (one statement) and refresh or close their local sockets."""
        local = {
            user_id: contexts
            for user_id in set(user_ids)
            if (contexts := [c for c in self.sockets_of(user_id) if c.viewer is not None and c.viewer.organization_id == organization_id])
        }
        if not local:
            return
        fresh = await load_viewers(self.app.db, organization_id, local)
        for user_id, contexts in local.items():
            for context in contexts:
                await self._apply(context, fresh.get(user_id))

    async def refresh_all(self) -> None:
        """Reload every user with a local socket (after the broker may have lost messages)."""
        by_organization: dict[int, set[int]] = {}
        for user_id in tuple(self._by_user):
            for context in self.sockets_of(user_id):
                if context.viewer is not None:
                    by_organization.setdefault(context.viewer.organization_id, set()).add(user_id)
        for organization_id, user_ids in by_organization.items():
            await self.refresh(organization_id, user_ids)


def _expired(expires_at: dt.datetime | None) -> bool:
    return expires_at is not None and expires_at <= utcnow()

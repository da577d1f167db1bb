"""Per-connection and per-operation contexts.

Strawberry calls ``get_context`` once per HTTP request but only once per *WebSocket
connection*; loaders made there would be shared by every operation on the socket. So
``get_context`` returns a :class:`ConnectionContext` (who is connected) and the
:class:`OperationScope` extension swaps in a fresh :class:`OperationContext` (loaders,
sessions, pending events) for each operation, and closes it when the operation ends.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from fiche.accounts.models import Role
from fiche.db import integrity_conflict
from fiche.errors import TOO_MANY_SUBSCRIPTIONS, PublicError, UserErrors
from fiche.live_access import LiveAccess
from fiche.relay import decode_id

if TYPE_CHECKING:
    import pluggy

    from fiche.auth import Viewer
    from fiche.broker import Broker
    from fiche.db import Database
    from fiche.nodes import NodeResolver
    from fiche.notifications.kinds import NotificationKind
    from fiche.org_settings import OrganizationSettingSpec
    from fiche.settings import Settings

__all__ = ["AppState", "ConnectionContext", "OperationContext", "OperationScope", "operation_context"]

log = logging.getLogger("fiche.context")
P = TypeVar("P")


@dataclasses.dataclass
class AppState:
    """Everything built once per process: settings, database, broker, plugins and registries."""

    settings: Settings
    db: Database
    broker: Broker
    pm: pluggy.PluginManager
    node_resolvers: dict[str, NodeResolver]
    subject_types: frozenset[str]
    notification_kinds: dict[str, NotificationKind]
    setting_specs: dict[str, OrganizationSettingSpec]
    storage: Any = None
    metrics: Any = None  # fiche.metrics.Metrics when FICHE_METRICS=1
    tracing: Any = None  # fiche.tracing.Tracing when OTEL_* variables ask for traces
    live: LiveAccess = dataclasses.field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.live = LiveAccess(self)


class ConnectionContext:
    """Who is on the other end of an HTTP request or a WebSocket connection."""

    def __init__(self, app: AppState, request: Any = None, response: Any = None, viewer: Viewer | None = None) -> None:
        self.app = app
        self.request = request
        self.response = response
        self.viewer = viewer
        self.connection_params: dict[str, Any] | None = None
        # A WebSocket watched by ``app.live`` (fiche.live_access): its user is reloaded
        # before each operation and its viewer refreshed, or the socket closed, on changes.
        self.live = False
        self.expires_at: dt.datetime | None = None
        # Organisation settings read with the viewer of an HTTP request (key -> stored value,
        # None when never set): fiche.org_settings.get_setting answers from them.
        self.organization_settings: dict[str, Any] | None = None


class OperationContext:
    """``info.context`` of every resolver: one per GraphQL operation."""

    def __init__(self, connection: ConnectionContext) -> None:
        self.connection = connection
        self.app = connection.app
        self.settings = connection.app.settings
        self.db = connection.app.db
        self.broker = connection.app.broker
        self.pm = connection.app.pm
        self._loaders: dict[str, DataLoader[Any, Any]] | None = None
        self._node_loaders: dict[str, DataLoader[int, Any]] = {}
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self._on_rollback: list[Callable[[], Awaitable[None]]] = []
        # What the write transaction has gathered for its last step (``before_commit``),
        # keyed by its owner: forgotten once the transaction commits or rolls back.
        self.transaction_state: dict[Any, Any] = {}
        # ``(key, token)`` of the user's subscription slot this operation holds (fiche.broker).
        self.subscription_slot: tuple[str, str] | None = None
        # Per-operation memo for work that is the same for every sibling of a list (e.g.
        # analysing a field's selection), keyed by the caller.
        self.memo: dict[Any, Any] = {}

    # -- who -----------------------------------------------------------------------------
    @property
    def viewer(self) -> Viewer | None:
        return self.connection.viewer

    @property
    def request(self) -> Any:
        return self.connection.request

    def require_viewer(self) -> Viewer:
        viewer = self.connection.viewer
        if viewer is None:
            raise PublicError.unauthenticated()
        return viewer

    def require_role_error(self, *, admin: bool = False, manager: bool = False, roles: Sequence[Role] = ()) -> Viewer:
        """The viewer, or :class:`UserErrors` FORBIDDEN when their role is not enough."""
        viewer = self.require_viewer()
        if admin and not viewer.is_admin:
            raise UserErrors.forbidden("Only an admin can do this.")
        if manager and not viewer.is_manager:
            raise UserErrors.forbidden("Only a manager or an admin can do this.")
        if roles and viewer.role not in roles:
            raise UserErrors.forbidden("Your role does not allow this.")
        return viewer

    # -- loaders -------------------------------------------------------------------------
    @property
    def loaders(self) -> dict[str, DataLoader[Any, Any]]:
        """This operation's loaders by name (made on first use, never shared)."""
        if self._loaders is None:
            loaders: dict[str, DataLoader[Any, Any]] = {}
            for contributed in self.pm.hook.register_loaders(context=self):
                clash = loaders.keys() & contributed.keys()
                if clash:
                    raise RuntimeError(f"loader names registered twice: {sorted(clash)}")
                loaders.update(contributed)
            self._loaders = loaders
        return self._loaders

    def reset_loaders(self) -> None:
        """Forget cached loads (a long subscription calls this before each event)."""
        self._loaders = None
        self._node_loaders = {}

    def node_loader(self, type_name: str) -> DataLoader[int, Any]:
        loader = self._node_loaders.get(type_name)
        if loader is None:
            resolver = self.app.node_resolvers[type_name]

            async def batch(pks: list[int]) -> list[Any]:
                return list(await resolver(self, pks))

            loader = self._node_loaders[type_name] = DataLoader(batch)
        return loader

    async def load_node(self, global_id: str, expected: str | Sequence[str] | None = None) -> Any:
        """The object behind a global ID, or None when missing, hidden or of another organisation.

        Raises ``InvalidID`` for a malformed ID or one of an unexpected type."""
        type_name, pk = decode_id(global_id, expected)
        if type_name not in self.app.node_resolvers:
            return None
        return await self.node_loader(type_name).load(pk)

    async def load_nodes(self, global_ids: Sequence[str]) -> list[Any]:
        return list(await asyncio.gather(*(self.load_node(gid) for gid in global_ids)))

    # -- database ------------------------------------------------------------------------
    def read(self) -> Any:
        """A short-lived read session for one loader batch or resolver (never shared)."""
        viewer = self.require_viewer()
        return self.db.reader(viewer.organization_id)

    async def session(self) -> AsyncSession:
        """The operation's write session (mutations run one at a time, so one is enough)."""
        if self._session is None:
            viewer = self.require_viewer()
            self._session = self.db.session(organization_id=viewer.organization_id, user_id=viewer.user_id)
        return self._session

    def after_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` once the write session has committed (e.g. publish an event)."""
        self._after_commit.append(callback)

    def before_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` in the write transaction, once, right before it commits (e.g. the
        inbox rows gathered by ``notify()``): row locks it takes are held only for the commit.
        Dropped when the transaction rolls back; registering the same callback twice runs it once."""
        if callback not in self._before_commit:
            self._before_commit.append(callback)

    async def _committing(self) -> None:
        callbacks, self._before_commit = self._before_commit, []
        for callback in callbacks:
            await callback()
        self.transaction_state = {}

    async def commit(self) -> None:
        await self._committing()
        if self._session is not None:
            await self._session.commit()
        await self._committed()

    async def _committed(self) -> None:
        self._on_rollback = []
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                await callback()
            except Exception:  # a broker outage must not turn a committed write into an error
                log.exception("after-commit callback failed")

    def on_rollback(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Run ``callback`` if the write transaction does not commit (rolled back, failed at the
        commit, or abandoned when the operation ends): undo what lives outside the database,
        such as a file stored for a row that will not exist. Dropped once it commits."""
        self._on_rollback.append(callback)

    def _forget_transaction(self) -> list[Callable[[], Awaitable[None]]]:
        undo, self._on_rollback = self._on_rollback, []
        self._before_commit = []
        self._after_commit = []
        self.transaction_state = {}
        return undo

    async def _undo(self, callbacks: list[Callable[[], Awaitable[None]]]) -> None:
        for callback in callbacks:
            try:
                await callback()
            except Exception:  # undoing is best effort: the worst case is an orphan file
                log.exception("on-rollback callback failed")

    async def rollback(self) -> None:
        undo = self._forget_transaction()
        try:
            if self._session is not None:
                await self._session.rollback()
        finally:
            await self._undo(undo)

    async def mutate(self, change: Callable[[], Awaitable[P]], payload: Callable[..., P]) -> P:
        """Run ``change`` in the write transaction: commit on success, roll back and return
        ``payload(errors=...)`` on :class:`UserErrors`, roll back and re-raise otherwise.

        A unique constraint or index that refuses the write (a concurrent transaction won the
        race, at a flush or at the commit) becomes the CONFLICT it declares with
        ``fiche.db.conflict_info``; an undeclared one is a bug and is re-raised."""
        try:
            result = await change()
            await self._committing()
            if self._session is not None:
                await self._session.commit()
        except UserErrors as exc:
            await self.rollback()
            return payload(errors=exc.errors)
        except IntegrityError as exc:
            await self.rollback()
            conflict = integrity_conflict(exc)
            if conflict is None:
                raise
            message, path = conflict
            return payload(errors=UserErrors.conflict(message, *path).errors)
        except BaseException:
            await self.rollback()
            raise
        await self._committed()
        return result

    async def close(self) -> None:
        await self._undo(self._forget_transaction())
        if self._session is not None:
            await self._session.close()
            self._session = None
        # Each loader holds this context and the context holds the loaders: a cycle that
        # kept everything the operation loaded (the heavy page: ~50,000 objects) alive
        # until the cyclic collector ran, which then had to walk several requests' worth
        # of objects (6 ms of CPU per heavy request, bench/RESULTS.md). Emptying the
        # caches and dropping the loaders lets reference counting free it all now.
        for loader in (*(self._loaders or {}).values(), *self._node_loaders.values()):
            loader.clear_all()
        self.reset_loaders()


class OperationScope(SchemaExtension):
    """Gives each operation its own :class:`OperationContext` and refuses anonymous ones."""

    async def on_operation(self) -> AsyncIterator[None]:
        connection = self.execution_context.context
        operation = OperationContext(connection) if isinstance(connection, ConnectionContext) else connection
        self.execution_context.context = operation
        if isinstance(connection, ConnectionContext) and connection.live:
            # A socket outlives changes to its user: each operation runs with their current
            # state (or is refused as anonymous once the socket was closed for them).
            await connection.app.live.check(connection)
            if connection.viewer is None:
                # The check closed the socket (4403): nobody is left to answer, so the
                # operation is dropped like one whose client went away.
                raise asyncio.CancelledError
        try:
            yield
        finally:
            slot = operation.subscription_slot if isinstance(operation, OperationContext) else None
            if slot is not None:
                operation.subscription_slot = None
                await operation.broker.release(*slot)
            await operation.close()

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, OperationContext):
            viewer = context.viewer
            if viewer is None:
                raise PublicError.unauthenticated()
            if self.execution_context.operation_type is OperationType.SUBSCRIPTION:
                await _take_subscription_slot(context, viewer)
        yield


async def _take_subscription_slot(context: OperationContext, viewer: Viewer) -> None:
    """Count the subscription against its user's limit, over every socket and instance
    (``max_subscriptions_per_user``); the slot is given back when the subscription ends."""
    key = f"subscriptions:{viewer.organization_id}:{viewer.user_id}"
    limit = context.settings.max_subscriptions_per_user
    token = await context.broker.acquire(key, limit)
    if token is None:
        raise PublicError(
            f"You already have {limit} subscriptions open (the most one user may have): complete one before starting another.",
            TOO_MANY_SUBSCRIPTIONS,
        )
    context.subscription_slot = (key, token)


@asynccontextmanager
async def operation_context(app: AppState, viewer: Viewer | None) -> AsyncIterator[OperationContext]:
    """An operation context outside GraphQL (CLI, tests, background work)."""
    context = OperationContext(ConnectionContext(app, viewer=viewer))
    try:
        yield context
    finally:
        await context.close()


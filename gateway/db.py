"""Database plumbing: the declarative base, tenant and audit mixins, the tenant filter,
and the :class:`Database` that hands out write and read sessions.

Tenancy is enforced here, once: every ORM SELECT, UPDATE and DELETE issued through a
session gets ``organization_id = <the session's organisation>`` for every tenant-owned
entity it touches (``with_loader_criteria``), and every new tenant-owned row takes its
organisation and author from the session, never from client input. A session without an
organisation refuses to run ORM statements unless it was opened as a system session.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, TypeDecorator, bindparam, event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.pool import StaticPool

__all__ = [
    "AuditMixin",
    "Base",
    "Database",
    "TenantError",
    "TenantMixin",
    "UTCDateTime",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite hands them back naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    """Every Fiche model, built-in or from a plugin, derives from this base."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantError(RuntimeError):
    """An ORM statement ran on a session that has no organisation (a programming error)."""


class TenantMixin:
    """A row owned by one organisation. The ORM filters on it automatically."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False)


class AuditMixin:
    """Who created and last updated a row, and when; kept by the session, not by callers."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)


TENANT_PARAMETER = "fiche_tenant_organization_id"
# The name is spelt out in the lambda: a global there would be tracked like a closure.
_TENANT_CRITERIA = with_loader_criteria(
    TenantMixin,
    lambda cls: cls.organization_id == bindparam("fiche_tenant_organization_id"),
    include_aliases=True,
)


@event.listens_for(Session, "do_orm_execute")
def _apply_tenant_filter(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    info = state.session.info
    organization_id = info.get("organization_id")
    if organization_id is None:
        if info.get("system"):
            return
        raise TenantError("ORM statement on a session without an organisation")
    parameters = state.parameters
    if parameters is not None and not isinstance(parameters, Mapping):
        # An ORM "bulk UPDATE by primary key" (a list of rows): SQLAlchemy applies no
        # loader criteria to it, so it could reach another organisation's rows.
        raise TenantError("bulk UPDATE by primary key on an organisation session: the organisation filter cannot apply")
    if state.is_select:
        # The hot path: one option object for every SELECT, the organisation an execution
        # parameter. A criteria closing over the id makes SQLAlchemy extract and re-match
        # that closure variable on every execution (about a third of a small SELECT).
        state.parameters = {**(parameters or {}), TENANT_PARAMETER: organization_id}
        state.statement = state.statement.options(_TENANT_CRITERIA)
        return
    # UPDATE and DELETE keep the value in the criteria: synchronize_session="evaluate"
    # evaluates it in Python against the session's objects, without execution parameters.
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantMixin,
            lambda cls: cls.organization_id == organization_id,
            include_aliases=True,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    organization_id = session.info.get("organization_id")
    user_id = session.info.get("user_id")
    for obj in session.new:
        if isinstance(obj, TenantMixin):
            if organization_id is None:
                if obj.organization_id is None:
                    raise TenantError(f"new {type(obj).__name__} without an organisation")
            else:
                obj.organization_id = organization_id
        if isinstance(obj, AuditMixin) and user_id is not None:
            obj.created_by_id = obj.created_by_id or user_id
            obj.updated_by_id = user_id
    for obj in session.dirty:
        if isinstance(obj, TenantMixin) and organization_id is not None and obj.organization_id != organization_id:
            raise TenantError(f"{type(obj).__name__} moved across organisations")
        if isinstance(obj, AuditMixin) and user_id is not None and session.is_modified(obj):
            obj.updated_by_id = user_id
            obj.updated_at = utcnow()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Once per pooled connection (the pool keeps them, so not once per request). WAL lets
    # readers run beside the one writer; busy_timeout makes a second writer wait for the
    # lock instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


SQLITE_BUSY_TIMEOUT_MS = 10_000
# aiosqlite runs each connection on a thread of its own, started on connect and stopped on
# close: a connection the pool closes is a thread started again by the next request. The
# pool therefore keeps enough connections for a busy page's concurrent loader batches
# (a customer profile checks out ~8 at once) and never recycles them (a file has no server
# to time a connection out).
SQLITE_POOL_SIZE = 20
SQLITE_MAX_OVERFLOW = 20


def _is_memory_sqlite(url: str) -> bool:
    return ":memory:" in url or url.rstrip("/").endswith("sqlite+aiosqlite:")


class Database:
    """Engine and session factories for one database URL.

    ``session()`` is a transactional write session; ``reader()`` is a read session that
    never pays a BEGIN / ROLLBACK pair for a loader batch: on PostgreSQL it is bound to an
    AUTOCOMMIT connection; on SQLite the driver only begins a transaction before a write,
    so readers use the plain connections (switching a SQLite connection to AUTOCOMMIT and
    back would cost several hops to its thread per checkout).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            if _is_memory_sqlite(url):
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
            else:
                kwargs["pool_size"] = SQLITE_POOL_SIZE
                kwargs["max_overflow"] = SQLITE_MAX_OVERFLOW
        else:
            # No pre-ping: it would add a round trip to every loader's checkout. Connections
            # are recycled instead, and a dead one fails one request, not every request.
            kwargs["pool_recycle"] = 300
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            self.read_engine = self.engine
        else:
            self.read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    @property
    def sync_engine(self) -> Engine:
        return self.engine.sync_engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def session(
        self,
        *,
        organization_id: int | None = None,
        user_id: int | None = None,
        system: bool = False,
    ) -> AsyncSession:
        """A write session scoped to one organisation (or a system session for the host)."""
        session = self._writer()
        session.info.update(organization_id=organization_id, user_id=user_id, system=system)
        return session

    @asynccontextmanager
    async def reader(self, organization_id: int | None, *, system: bool = False) -> AsyncIterator[AsyncSession]:
        """A short-lived read session; one per loader batch or query resolver."""
        session = self._reader()
        session.info.update(organization_id=organization_id, user_id=None, system=system)
        try:
            yield session
        finally:
            await session.close()

    async def ping(self) -> None:
        from sqlalchemy import text

        async with self.read_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


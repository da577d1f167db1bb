"""Test helpers for plugin authors: a migrated gateway with your plugin, organisations with
one user per role, GraphQL calls as any of them, SQL statement counts.

::

    async with plugin_test_gateway("sqlite+aiosqlite:///" + str(tmp_path / "t.db")) as gateway:
        org = await gateway.organization()
        data = await org.ok("{ viewer { user { handle } } }", as_="member")
        with count_statements(gateway) as counter:
            await org.ok(QUERY)
        assert counter.count <= 5

The gateway loads what ``fiche serve`` would load (built-in plugins and every installed
plugin, your package included once it is installed) plus ``extra_plugins``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import strawberry
from sqlalchemy import event

from fiche.accounts import models
from fiche.app import build_state
from fiche.auth import Viewer, issue_token
from fiche.context import AppState, ConnectionContext
from fiche.migrate import upgrade
from fiche.plugin_host import get_plugin_manager
from fiche.schema import build_schema
from fiche.settings import Settings

__all__ = ["OperationFailed", "PluginTestGateway", "TestOrganization", "count_statements", "plugin_test_gateway"]

SECRET = "fiche-testing-secret-key-long-enough-for-hs256"
ROLES = {
    "admin": models.Role.ADMIN,
    "manager": models.Role.MANAGER,
    "member": models.Role.MEMBER,
    "technician": models.Role.TECHNICIAN,
}


class OperationFailed(AssertionError):
    """An operation expected to succeed answered with errors."""


@dataclasses.dataclass
class TestOrganization:
    """An organisation of its own with one user per role (``admin``, ``manager``, ``member``,
    ``technician``)."""

    __test__ = False  # not a pytest test class

    gateway: PluginTestGateway
    id: int
    users: dict[str, models.User]

    def viewer(self, who: str) -> Viewer:
        user = self.users[who]
        return Viewer(user_id=user.id, organization_id=self.id, role=user.role, name=user.name, handle=user.handle, team_ids=frozenset())

    def token(self, who: str) -> str:
        return issue_token(self.gateway.settings, self.users[who].id, self.id)

    async def execute(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "admin") -> tuple[Any, list[dict[str, Any]]]:
        """``(data, errors)`` of one operation run as ``as_`` (None: anonymous)."""
        context = ConnectionContext(self.gateway.state, viewer=self.viewer(as_) if as_ else None)
        result = await self.gateway.schema.execute(query, variable_values=variables, context_value=context)
        return result.data, [dict(error.formatted) for error in result.errors or []]

    async def ok(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "admin") -> Any:
        """The data of an operation that must succeed (raises :class:`OperationFailed` otherwise)."""
        data, errors = await self.execute(query, variables, as_=as_)
        if errors:
            raise OperationFailed(errors)
        return data


@dataclasses.dataclass
class PluginTestGateway:
    settings: Settings
    state: AppState
    schema: strawberry.Schema

    async def organization(self, name: str | None = None) -> TestOrganization:
        slug = f"org-{uuid.uuid4().hex[:10]}"
        async with self.state.db.session(system=True) as session, session.begin():
            organization = models.Organization(name=name or slug, slug=slug)
            session.add(organization)
            await session.flush()
            session.info["organization_id"] = organization.id
            users = {
                who: models.User(name=f"{who.title()} Test", email=f"{who}@{slug}.example", handle=who, role=role) for who, role in ROLES.items()
            }
            session.add_all(users.values())
            await session.flush()
            organization_id = organization.id
        return TestOrganization(self, organization_id, users)


@contextlib.asynccontextmanager
async def plugin_test_gateway(database_url: str, *, extra_plugins: Sequence[tuple[str, Any]] = (), **settings: Any) -> AsyncIterator[PluginTestGateway]:
    """A gateway on ``database_url`` (migrated first) with every installed plugin."""
    configured = Settings(database_url=database_url, secret_key=SECRET, log_json=False, log_level="WARNING", **settings)
    pm = get_plugin_manager(configured, extra=extra_plugins)
    await upgrade(pm, database_url)
    state = build_state(configured, pm)
    await state.broker.connect()
    try:
        yield PluginTestGateway(configured, state, build_schema(pm, configured))
    finally:
        await state.broker.disconnect()
        await state.db.dispose()


class _Counter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements.append(statement)


@contextlib.contextmanager
def count_statements(gateway: PluginTestGateway) -> Iterator[_Counter]:
    """The SQL statements the gateway sends inside the block (``.count``, ``.statements``)."""
    counter = _Counter()
    engine = gateway.state.db.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)

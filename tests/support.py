"""Test helpers: databases, organisations with users, GraphQL calls, statement counts,
a live server for WebSocket tests. Imported by conftest and by plugin test packages."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import strawberry
from sqlalchemy import event

from fiche.accounts import models
from fiche.auth import Viewer, issue_token
from fiche.context import AppState, ConnectionContext
from fiche.db import Database
from tests.differential import REFERENCE_RUN

__all__ = [
    "GraphQLResult",
    "admin_sql",
    "StatementCounter",
    "TestOrg",
    "count_statements",
    "free_port",
    "make_org",
]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_ADMIN_URL = os.environ.get("FICHE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FICHE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclasses.dataclass
class GraphQLResult:
    data: Any
    errors: list[dict[str, Any]]

    @property
    def error_codes(self) -> list[str | None]:
        return [(error.get("extensions") or {}).get("code") for error in self.errors]


@dataclasses.dataclass
class TestOrg:
    """An organisation of its own for one test, with one user per role and two teams."""

    __test__ = False

    state: AppState
    schema: strawberry.Schema
    organization_id: int
    users: dict[str, models.User]
    teams: dict[str, models.Team]

    def viewer(self, who: str) -> Viewer:
        user = self.users[who]
        team_ids = frozenset(team.id for name, team in self.teams.items() if who in TEAM_MEMBERS[name])
        return Viewer(
            user_id=user.id,
            organization_id=self.organization_id,
            role=user.role,
            name=user.name,
            handle=user.handle,
            team_ids=team_ids,
        )

    def token(self, who: str) -> str:
        return issue_token(self.state.settings, self.users[who].id, self.organization_id)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "admin") -> GraphQLResult:
        """Run one operation through the schema as ``as_`` (None: anonymous)."""
        context = ConnectionContext(self.state, viewer=self.viewer(as_) if as_ else None)
        result = await self.schema.execute(query, variable_values=variables, context_value=context)
        errors = [error.formatted for error in result.errors or []]
        return GraphQLResult(data=result.data, errors=errors)

    async def ok(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = "admin") -> Any:
        """Like :meth:`gql` but fails the test on any top-level error."""
        result = await self.gql(query, variables, as_=as_)
        assert not result.errors, result.errors
        return result.data


# Which test users belong to which team.
TEAM_MEMBERS = {"north": {"manager", "member"}, "south": {"member2", "technician"}}
ROLES = {
    "admin": models.Role.ADMIN,
    "manager": models.Role.MANAGER,
    "member": models.Role.MEMBER,
    "member2": models.Role.MEMBER,
    "technician": models.Role.TECHNICIAN,
}


async def make_org(state: AppState, schema: strawberry.Schema, name: str | None = None) -> TestOrg:
    slug = f"org-{uuid.uuid4().hex[:10]}"
    async with state.db.session(system=True) as session, session.begin():
        organization = models.Organization(name=name or slug, slug=slug)
        session.add(organization)
        await session.flush()
        session.info["organization_id"] = organization.id
        users = {
            who: models.User(name=f"{who.title()} Test", email=f"{who}@{slug}.example", handle=who, role=role)
            for who, role in ROLES.items()
        }
        session.add_all(users.values())
        teams = {team: models.Team(name=team.title()) for team in TEAM_MEMBERS}
        session.add_all(teams.values())
        await session.flush()
        for team, members in TEAM_MEMBERS.items():
            for who in sorted(members):
                session.add(models.TeamMembership(team_id=teams[team].id, user_id=users[who].id))
        organization_id = organization.id
    return TestOrg(state=state, schema=schema, organization_id=organization_id, users=users, teams=teams)


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if REFERENCE_RUN.get():
            return  # the differential check's second execution (tests/differential.py)
        self.statements.append(statement)


@contextlib.contextmanager
def count_statements(db: Database) -> Iterator[StatementCounter]:
    """Count the SQL statements sent to the database inside the block."""
    counter = StatementCounter()
    event.listen(db.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(db.sync_engine, "before_cursor_execute", counter)


async def admin_sql(statement: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """Run one statement outside a transaction on the PostgreSQL maintenance database
    (``CREATE DATABASE`` / ``DROP DATABASE`` of the uniquely named test databases)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def live_server(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields ``host:port``."""
    import uvicorn

    port = free_port()
    from fiche.leanws import ws_protocol

    # The WebSocket layer the app's settings choose (FICHE_WS_SERVER), as ``fiche serve`` does.
    settings = app.state.fiche.settings if hasattr(app, "state") and hasattr(app.state, "fiche") else None
    ws = ws_protocol(settings) if settings is not None else "websockets-sansio"
    deflate = settings.ws_compression if settings is not None else True
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws=ws, ws_per_message_deflate=deflate, lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    else:  # pragma: no cover - diagnostic
        raise RuntimeError("uvicorn did not start")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


PARTNER_ROOT = os.path.join(os.path.dirname(__file__), "partner_plugin")


@contextlib.contextmanager
def partner_installed(site: str) -> Iterator[None]:
    """Install the test partner distribution into ``site`` the way pip lays it out: the
    package plus a ``.dist-info`` with its ``fiche.plugins`` entry point; then put ``site``
    on ``sys.path`` so ``importlib.metadata`` (and so pluggy) discovers it."""
    import importlib
    import shutil
    import sys
    import tomllib

    with open(os.path.join(PARTNER_ROOT, "pyproject.toml"), "rb") as file:
        project = tomllib.load(file)["project"]
    shutil.copytree(os.path.join(PARTNER_ROOT, "src", "fiche_loyalty"), os.path.join(site, "fiche_loyalty"))
    dist_info = os.path.join(site, f"fiche_loyalty-{project['version']}.dist-info")
    os.makedirs(dist_info)
    with open(os.path.join(dist_info, "METADATA"), "w") as file:
        file.write(f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n")
    with open(os.path.join(dist_info, "entry_points.txt"), "w") as file:
        file.write("[fiche.plugins]\n")
        for name, target in project["entry-points"]["fiche.plugins"].items():
            file.write(f"{name} = {target}\n")
    sys.path.insert(0, site)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.path.remove(site)
        importlib.invalidate_caches()

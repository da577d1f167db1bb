"""Fixtures: every database test runs on SQLite and PostgreSQL, every broker test on
memory and Redis. A server that does not answer skips its tests locally and fails them
under CI (``CI=true``). Each test gets its own organisation, so tests share one migrated
database per kind without seeing each other's rows."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry

from fiche.app import build_state
from fiche.context import AppState
from fiche.migrate import upgrade
from fiche.plugin_host import get_plugin_manager
from fiche.schema import build_schema
from fiche.settings import Settings
from tests import differential
from tests.support import IN_CI, POSTGRES_ADMIN_URL, REDIS_URL, TestOrg, admin_sql, make_org

TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256"


def _unavailable(what: str, exc: BaseException) -> None:
    message = f"{what} is not reachable: {type(exc).__name__}: {exc}"
    if IN_CI:
        pytest.fail(f"{message} (CI must run every database and broker test)")
    pytest.skip(message)


class Databases:
    """One migrated database per kind for the whole session, created on first use."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        self.failures: dict[str, BaseException] = {}
        self.postgres_names: list[str] = []
        self.folder = tempfile.TemporaryDirectory(prefix="fiche-tests-")

    def url(self, kind: str) -> str:
        if kind in self.failures:
            _unavailable(kind, self.failures[kind])
        if kind not in self.urls:
            try:
                self.urls[kind] = self._create(kind)
            except (OSError, ConnectionError, asyncio.TimeoutError) as exc:
                self.failures[kind] = exc
                _unavailable(kind, exc)
            except Exception as exc:
                if kind == "postgres" and "connect" in str(exc).lower():
                    self.failures[kind] = exc
                    _unavailable(kind, exc)
                raise
        return self.urls[kind]

    def _create(self, kind: str) -> str:
        if kind == "sqlite":
            url = f"sqlite+aiosqlite:///{self.folder.name}/fiche-test.db"
        else:
            name = f"fiche_test_{uuid.uuid4().hex[:12]}"
            asyncio.run(asyncio.wait_for(admin_sql(f'CREATE DATABASE "{name}"'), timeout=10))
            self.postgres_names.append(name)
            url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        settings = Settings(database_url=url, secret_key=TEST_SECRET)
        asyncio.run(upgrade(get_plugin_manager(settings), url))
        return url

    def close(self) -> None:
        for name in self.postgres_names:
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.folder.cleanup()


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    registry = Databases()
    yield registry
    registry.close()


@pytest.fixture(params=["sqlite", "postgres"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(databases: Databases, db_kind: str) -> str:
    return databases.url(db_kind)


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


@pytest.fixture
def broker_url() -> str:
    """Memory by default; broker tests override this with the ``broker_kind`` parameter."""
    return "memory://"


@pytest.fixture
def settings(database_url: str, broker_url: str, upload_dir: Path, ws_server: str) -> Settings:
    return Settings(
        ws_server=ws_server,
        database_url=database_url,
        broker_url=broker_url,
        broker_namespace=f"fiche-test-{uuid.uuid4().hex[:8]}",
        secret_key=TEST_SECRET,
        upload_dir=str(upload_dir),
        log_json=False,
        log_level="WARNING",
    )


@pytest.fixture
def ws_server() -> str:
    """The WebSocket layer of real servers (``FICHE_WS_SERVER``): the lean one, so that
    every real-server test exercises it; modules that test WebSockets on a real server
    run on both layers (``tests.live_fixtures.each_ws_server``)."""
    return "lean"


@pytest.fixture
def plugins() -> list[tuple[str, Any]]:
    """Extra plugins to register (tests override it)."""
    return []


@pytest.fixture
async def state(settings: Settings, plugins: list[tuple[str, Any]]) -> AsyncIterator[AppState]:
    pm = get_plugin_manager(settings, extra=plugins)
    app_state = build_state(settings, pm)
    await app_state.broker.connect()
    try:
        yield app_state
    finally:
        await app_state.broker.disconnect()
        await app_state.db.dispose()


_SCHEMAS: dict[Any, strawberry.Schema] = {}


@pytest.fixture
def schema(state: AppState) -> strawberry.Schema:
    settings = state.settings
    key = (
        tuple(name for name, _ in state.pm.list_name_plugin()),
        dataclasses.replace(settings, database_url="", broker_url="", broker_namespace="", upload_dir=""),
    )
    if key not in _SCHEMAS:
        _SCHEMAS[key] = build_schema(state.pm, settings)
    return _SCHEMAS[key]


@pytest.fixture
async def org(state: AppState, schema: strawberry.Schema) -> TestOrg:
    return await make_org(state, schema)


@pytest.fixture
async def other_org(state: AppState, schema: strawberry.Schema) -> TestOrg:
    return await make_org(state, schema)


@pytest.fixture(params=["memory", "redis"])
def broker_kind(request: pytest.FixtureRequest) -> str:
    kind = str(request.param)
    if kind == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            _unavailable("redis", exc)
    return kind


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("FICHE_LOG_JSON", "0")
    if os.environ.get("FICHE_EXECUTOR_DIFFERENTIAL", "1") != "0":
        differential.install()


def pytest_sessionfinish(session: pytest.Session) -> None:
    # Under pytest-xdist each worker compares its own queries and hands the count to the
    # controller, which prints the sum (see pytest_testnodedown).
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["differential_compared"] = differential.COMPARED[0]


def pytest_testnodedown(node: Any, error: Any) -> None:
    differential.COMPARED[0] += int(getattr(node, "workeroutput", {}).get("differential_compared", 0))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if os.environ.get("FICHE_EXECUTOR_DIFFERENTIAL", "1") != "0":
        terminalreporter.write_line(f"differential execution: {differential.COMPARED[0]} queries answered alike by both executors")


@pytest.fixture(autouse=True)
def executors_agree() -> Iterator[None]:
    """Fails a test in which the breadth-first executor answered a query differently from
    graphql-core's (see tests/differential.py)."""
    differential.DIFFERENCES.clear()
    yield
    if differential.DIFFERENCES:
        found = "\n".join(differential.DIFFERENCES)
        differential.DIFFERENCES.clear()
        pytest.fail(f"the executors disagree:\n{found}")

"""Fixtures of the real-client tests: PostgreSQL and Redis (the production set-up, where
two gateway instances share both), and the Node and Chromium they need. A missing
prerequisite skips these tests locally and fails them under CI (``CI=true``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette

from fiche.app import create_app
from fiche.settings import Settings
from tests.clients.support import missing_prerequisites
from tests.support import IN_CI, TestOrg, live_server
from tests.live_fixtures import postgres_and_redis_broker, postgres_and_redis_database  # noqa: F401  (fixtures)


def require(missing: list[str]) -> None:
    if not missing:
        return
    message = "real-client tests need " + ", ".join(missing)
    if IN_CI:
        pytest.fail(f"{message} (CI must run them: .ci/run installs them)")
    pytest.skip(message)


@pytest.fixture
def node_client() -> None:
    """Node and the locked packages of tests/clients."""
    require(missing_prerequisites(browser=False))


@pytest.fixture
def browser() -> None:
    """Node, the locked packages and Debian's Chromium."""
    require(missing_prerequisites(browser=True))


@pytest.fixture
def app(org: TestOrg, settings: Settings) -> Starlette:
    return create_app(settings, state=org.state)


@pytest.fixture
async def host(app: Starlette) -> AsyncIterator[str]:
    """``host:port`` of gateway instance A, served by uvicorn on loopback."""
    async with live_server(app) as address:
        yield address

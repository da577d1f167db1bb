"""Fixtures of the gateway's tests: host-only settings, the probe plugin and an HTTP client
on the real app."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from fiche.app import create_app
from fiche.context import AppState
from fiche.plugin_host import BUILTIN_PLUGINS
from fiche.settings import Settings
from tests.gateway import probe_plugins
from tests.support import live_server

PROBE: list[tuple[str, Any]] = [("probe", probe_plugins)]
DOMAIN_PLUGINS = tuple(name for name, _ in BUILTIN_PLUGINS)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The host alone: the built-in domain plugins are disabled here.

    These tests prove the gateway; a domain plugin's bug belongs to its own suite and must
    not fail them, and the probes may stand in for a domain plugin (the timeline's
    ``Customer``). Tests about built-in plugins build their own plugin manager."""
    return dataclasses.replace(settings, disabled_plugins=DOMAIN_PLUGINS)


@pytest.fixture
def app(state: AppState) -> Starlette:
    """The real application (``create_app``) around the test's state and plugins."""
    return create_app(state.settings, state=state)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to :func:`app` in-process (no lifespan: ``state`` is connected)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


@pytest.fixture
async def server(state: AppState) -> AsyncIterator[str]:
    """``host:port`` of the real app served by uvicorn."""
    async with live_server(create_app(state.settings, state=state)) as address:
        yield address

"""Storage (G9): ``gateway.migrate.upgrade`` builds a fresh SQLite file or PostgreSQL
database with every table of every registered plugin, is idempotent, and the migrations
match the models (autogenerate finds nothing to add)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.db import Base
from gateway.migrate import alembic_config, upgrade
from gateway.plugins import get_plugin_manager
from gateway.settings import Settings
from tests.support import POSTGRES_ADMIN_URL, admin_sql, partner_installed

SETTINGS = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="migration-tests-secret-key-long-enough")


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[None]:
    """The partner distribution installed, so its migrations are among the registered ones."""
    site = tmp_path / "site-packages"
    site.mkdir()
    with partner_installed(str(site)):
        yield


@pytest.fixture
def pm(partner: None) -> pluggy.PluginManager:
    """Every plugin of this checkout (built-in ones included) plus the partner."""
    return get_plugin_manager(SETTINGS)


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database: a new SQLite file, or a uniquely named PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
        return
    name = f"fiche_migrate_{uuid.uuid4().hex[:12]}"
    await admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def plugin_tables(pm: pluggy.PluginManager) -> set[str]:
    """The tables of the models of every registered plugin's package."""
    packages = set()
    for plugin in pm.get_plugins():
        module = getattr(plugin, "__name__", "")
        packages.add("gateway" if module.startswith("gateway.") else module.rsplit(".", 1)[0])
    tables: set[str] = set()
    for mapper in Base.registry.mappers:
        owner = mapper.class_.__module__
        if any(owner == package or owner.startswith(package + ".") for package in packages):
            tables.update(table.name for table in mapper.tables)
    return tables


async def run_on(url: str, action: Any) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(action)
    finally:
        await engine.dispose()


def table_names(connection: Any) -> set[str]:
    return set(inspect(connection).get_table_names())


def versions(connection: Any) -> set[str]:
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


# ------------------------------------------------------------------ upgrade


def test_registered_plugins_have_tables(pm: pluggy.PluginManager) -> None:
    # then: the expectations below are about real tables, the partner's included
    tables = plugin_tables(pm)
    assert {"organizations", "users", "teams", "notifications", "loyalty_cards"} <= tables


async def test_upgrade_creates_every_table_of_every_registered_plugin(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # when
    await upgrade(pm, fresh_url)
    # then
    created = await run_on(fresh_url, table_names)
    assert plugin_tables(pm) <= created
    assert "alembic_version" in created


async def test_upgrade_is_idempotent(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given
    await upgrade(pm, fresh_url)
    tables = await run_on(fresh_url, table_names)
    heads = await run_on(fresh_url, versions)
    # when
    await upgrade(pm, fresh_url)
    # then
    assert await run_on(fresh_url, table_names) == tables
    assert await run_on(fresh_url, versions) == heads
    assert "loyalty0001" in heads
    script = ScriptDirectory.from_config(alembic_config(pm))
    assert list(script.revision_map.iterate_revisions("heads", tuple(heads))) == []  # nothing left to apply


async def test_migrations_match_the_models(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given
    await upgrade(pm, fresh_url)
    owned = plugin_tables(pm)

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in owned

    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False, "include_object": include_object}
        )
        return list(compare_metadata(context, Base.metadata))

    # when
    diff = await run_on(fresh_url, differences)
    # then
    assert diff == []


# ------------------------------------------------------------------ disabled plugins

WITHOUT_ACTIVITIES = Settings(database_url=SETTINGS.database_url, secret_key=SETTINGS.secret_key, disabled_plugins=("activities",))


def activity_tables(connection: Any) -> set[str]:
    return {name for name in table_names(connection) if name.startswith("activit")}


async def test_upgrade_with_a_disabled_plugin_leaves_its_tables_and_version_alone(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: every plugin's migrations applied, then activities disabled
    await upgrade(pm, fresh_url)
    tables = await run_on(fresh_url, activity_tables)
    heads = await run_on(fresh_url, versions)
    # when
    await upgrade(get_plugin_manager(WITHOUT_ACTIVITIES), fresh_url)
    # then
    assert tables and await run_on(fresh_url, activity_tables) == tables
    assert "activities0001" in heads
    assert await run_on(fresh_url, versions) == heads


async def test_a_plugin_enabled_again_resumes_its_migrations(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given
    await upgrade(pm, fresh_url)
    heads = await run_on(fresh_url, versions)
    await upgrade(get_plugin_manager(WITHOUT_ACTIVITIES), fresh_url)
    # when
    await upgrade(pm, fresh_url)
    # then
    assert await run_on(fresh_url, versions) == heads
    script = ScriptDirectory.from_config(alembic_config(pm))
    assert list(script.revision_map.iterate_revisions("heads", tuple(heads))) == []


async def test_a_plugin_enabled_after_the_others_were_migrated_gets_its_tables(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: a database migrated without activities from the start
    await upgrade(get_plugin_manager(WITHOUT_ACTIVITIES), fresh_url)
    assert await run_on(fresh_url, activity_tables) == set()
    # when
    await upgrade(pm, fresh_url)
    # then
    assert "activity_types" in await run_on(fresh_url, activity_tables)
    assert "activities0001" in await run_on(fresh_url, versions)

"""Storage (G9): ``fiche.migrate.upgrade`` builds a fresh SQLite file or PostgreSQL
database with every table of every registered plugin, is idempotent, and the migrations
match the models (autogenerate finds nothing to add)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from fiche.db import Base
from fiche.migrate import alembic_config, owned_by, package_of, upgrade
from fiche.plugin_host import get_plugin_manager
from fiche.settings import Settings
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
    packages = {package_of(getattr(plugin, "__name__", "")) for plugin in pm.get_plugins()}
    tables: set[str] = set()
    for mapper in Base.registry.mappers:
        owner = mapper.class_.__module__
        if any(owned_by(package, owner) for package in packages):
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


# SQLite cannot reflect expression indexes (``lower(reference)``): there they are compared
# on PostgreSQL only.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
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


# ------------------------------------------------------------------ upgrading existing data

FIRST_REVISIONS = ("gateway0001", "customers0001", "notes0001", "activities0001")


async def upgrade_to(pm: pluggy.PluginManager, url: str, *targets: str) -> None:
    """Apply migrations up to ``targets`` only (a database as an older release left it)."""
    config = alembic_config(pm)
    engine = create_async_engine(url)

    def run(connection: Any) -> None:
        config.attributes["connection"] = connection
        for target in targets:
            command.upgrade(config, target)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def execute(url: str, *statements: str) -> list[Any]:
    """Run ``statements`` in one transaction; the rows of the last one."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            result = None
            for statement in statements:
                result = await connection.execute(text(statement))
            return list(result.all()) if result is not None and result.returns_rows else []
    finally:
        await engine.dispose()


def new_note(body: str) -> str:
    return (
        "INSERT INTO notes (body, search_text, visibility, is_task, organization_id, created_at, updated_at) "
        f"VALUES ('{body}', '{body}', 'ORGANIZATION', false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )


def new_customer(reference: str, name: str) -> str:
    return (
        "INSERT INTO customers (kind, company_name, reference, archived, display_name, sort_name, search_text, "
        "organization_id, created_at, updated_at) "
        f"VALUES ('PROFESSIONAL', '{name}', '{reference}', false, '{name}', '{name.lower()}', '{name.lower()}', 1, "
        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )


async def test_upgrade_keeps_the_data_of_a_database_built_by_the_first_migrations(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: a database of the first release, with notes and customers
    await upgrade_to(pm, fresh_url, *FIRST_REVISIONS)
    await execute(
        fresh_url,
        "INSERT INTO organizations (name, slug, created_at) VALUES ('Org', 'org', CURRENT_TIMESTAMP)",
        new_note("first"),
        new_note("second"),
        new_customer("ZM-1", "Zinc Maître"),
        new_customer("C00002", "Autre"),
    )
    # when
    await upgrade(pm, fresh_url)
    # then: every row is still there, under its ID
    notes = await execute(fresh_url, "SELECT id, body FROM notes ORDER BY id")
    customers = await execute(fresh_url, "SELECT id, reference FROM customers ORDER BY id")
    assert [tuple(row) for row in notes] == [(1, "first"), (2, "second")]
    assert [tuple(row) for row in customers] == [(1, "ZM-1"), (2, "C00002")]


async def test_after_the_upgrade_a_deleted_id_is_never_given_again(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: an upgraded database of the first release whose newest note is deleted
    await upgrade_to(pm, fresh_url, *FIRST_REVISIONS)
    await execute(fresh_url, "INSERT INTO organizations (name, slug, created_at) VALUES ('Org', 'org', CURRENT_TIMESTAMP)", new_note("kept"))
    await upgrade(pm, fresh_url)
    await execute(fresh_url, new_note("deleted"), "DELETE FROM notes WHERE body = 'deleted'")
    # when
    rows = await execute(fresh_url, new_note("new"), "SELECT id, body FROM notes ORDER BY id")
    # then
    assert [tuple(row) for row in rows] == [(1, "kept"), (3, "new")]


def new_user(handle: str) -> str:
    return (
        "INSERT INTO users (name, email, handle, role, is_active, created_at, organization_id) "
        f"VALUES ('{handle}', '{handle}@org.example', '{handle}', 'MEMBER', true, CURRENT_TIMESTAMP, 1)"
    )


def new_notification(recipient_id: int) -> str:
    return (
        "INSERT INTO notifications (recipient_id, kind, message, created_at, organization_id) "
        f"VALUES ({recipient_id}, 'PING', 'hello', CURRENT_TIMESTAMP, 1)"
    )


async def test_upgrade_numbers_each_users_notifications_in_id_order(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: a database of the first release whose inbox rows of two users interleave
    await upgrade_to(pm, fresh_url, *FIRST_REVISIONS)
    await execute(
        fresh_url,
        "INSERT INTO organizations (name, slug, created_at) VALUES ('Org', 'org', CURRENT_TIMESTAMP)",
        new_user("ann"),
        new_user("bob"),
        *(new_notification(recipient) for recipient in (1, 2, 1, 1, 2)),
    )
    # when
    await upgrade(pm, fresh_url)
    # then: 1, 2, 3... per recipient, and each counter at its recipient's last number
    rows = await execute(fresh_url, "SELECT id, recipient_id, recipient_seq FROM notifications ORDER BY id")
    counters = await execute(fresh_url, "SELECT user_id, organization_id, seq FROM notification_counters ORDER BY user_id")
    assert [tuple(row) for row in rows] == [(1, 1, 1), (2, 2, 1), (3, 1, 2), (4, 1, 3), (5, 2, 2)]
    assert [tuple(row) for row in counters] == [(1, 1, 3), (2, 1, 2)]
    # and a number cannot be given twice
    with pytest.raises(IntegrityError):
        await execute(
            fresh_url,
            "INSERT INTO notifications (recipient_id, recipient_seq, kind, message, created_at, organization_id) "
            "VALUES (1, 3, 'PING', 'again', CURRENT_TIMESTAMP, 1)",
        )


async def test_upgrade_makes_references_differing_only_by_case_distinct(pm: pluggy.PluginManager, fresh_url: str) -> None:
    # given: the first release accepted `zm-1` next to `ZM-1`
    await upgrade_to(pm, fresh_url, *FIRST_REVISIONS)
    await execute(
        fresh_url,
        "INSERT INTO organizations (name, slug, created_at) VALUES ('Org', 'org', CURRENT_TIMESTAMP)",
        new_customer("ZM-1", "Premier"),
        new_customer("zm-1", "Second"),
    )
    # when
    await upgrade(pm, fresh_url)
    # then: the oldest keeps its reference, the other is renamed and its timeline says so
    customers = await execute(fresh_url, "SELECT id, reference, search_text FROM customers ORDER BY id")
    events = await execute(fresh_url, "SELECT customer_id, kind, details FROM customer_events")
    assert [tuple(row) for row in customers] == [(1, "ZM-1", "premier"), (2, "zm-1 (2)", "second zm-1 (2)")]
    assert [tuple(row) for row in events] == [(2, "UPDATED", "Reference zm-1 renamed to zm-1 (2): another customer's differs only by case.")]
    with pytest.raises(IntegrityError):
        await execute(fresh_url, new_customer("Zm-1", "Troisième"))


def test_every_table_of_every_plugin_never_reuses_ids(pm: pluggy.PluginManager) -> None:
    # then: fiche.db.Base gives every model's table AUTOINCREMENT on SQLite
    tables = [Base.metadata.tables[name] for name in sorted(plugin_tables(pm))]
    assert [table.name for table in tables if not table.dialect_options["sqlite"]["autoincrement"]] == []


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
    assert any(head.startswith("activities") for head in heads)
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
    assert any(head.startswith("activities") for head in await run_on(fresh_url, versions))

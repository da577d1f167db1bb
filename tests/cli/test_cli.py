"""The ``fiche`` command line, run in-process on a fresh SQLite file of each test's own."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine

from fiche.cli import asgi_app, main, prepare_embedded_database
from fiche.plugin_host import plugin_names
from fiche.settings import Settings
from tests.support import POSTGRES_ADMIN_URL, admin_sql

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.db"
    monkeypatch.setenv("FICHE_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    monkeypatch.setenv("FICHE_SECRET_KEY", "cli-test-secret-key-long-enough-for-hs256")
    monkeypatch.setenv("FICHE_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.chdir(tmp_path)
    return database


def _tables(database: Path) -> set[str]:
    engine = create_engine(f"sqlite:///{database}")
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_console_script_is_installed() -> None:
    # when
    result = subprocess.run([sys.executable, "-m", "fiche.cli", "--help"], capture_output=True, text=True, check=False)
    # then
    assert result.returncode == 0
    for command in ("serve", "db", "schema", "demo", "users", "token"):
        assert command in result.stdout


def test_db_upgrade_creates_the_tables(env: Path) -> None:
    # when
    code = main(["db", "upgrade"])
    # then
    assert code == 0
    assert {"organizations", "users", "teams", "notifications", "alembic_version"} <= _tables(env)


def test_serve_brings_the_embedded_database_up_to_date_by_itself(env: Path) -> None:
    # given
    assert not env.exists()
    # when
    prepared = prepare_embedded_database(Settings.from_env())
    # then
    assert prepared
    assert "users" in _tables(env)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """``FICHE_DATABASE_URL``: the test's SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{env}"
        return
    name = f"fiche_cli_{uuid.uuid4().hex[:12]}"
    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("FICHE_DATABASE_URL", url)
    try:
        yield url
    finally:
        asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def migrated_then_disabled(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A database with every plugin's migrations applied, then activities disabled."""
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setenv("FICHE_DISABLED_PLUGINS", "activities")
    return database_url


def _tables_and_versions(url: str) -> tuple[set[str], set[str]]:
    async def read() -> tuple[set[str], set[str]]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
                versions = set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
                return tables, versions
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_db_upgrade_with_a_disabled_plugin_keeps_its_tables(migrated_then_disabled: str) -> None:
    # given
    _, versions = _tables_and_versions(migrated_then_disabled)
    # when
    code = main(["db", "upgrade"])
    # then
    tables, after = _tables_and_versions(migrated_then_disabled)
    assert code == 0
    assert "activity_types" in tables
    assert any(head.startswith("activities") for head in after) and after == versions


def test_serve_starts_with_a_disabled_plugin_whose_migrations_ran(migrated_then_disabled: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the test process keeps its garbage collector as it is
    monkeypatch.setenv("FICHE_GC_TUNING", "0")
    # when
    prepared = prepare_embedded_database(Settings.from_env())
    app = asgi_app()
    # then: SQLite is brought up to date by serve itself, PostgreSQL is left to `db upgrade`
    assert prepared is migrated_then_disabled.startswith("sqlite")
    assert "activity_types" in _tables_and_versions(migrated_then_disabled)[0]
    assert "activities" not in plugin_names(app.state.fiche.pm)


def test_serve_leaves_postgres_to_explicit_migrations() -> None:
    settings = Settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key="x")
    assert prepare_embedded_database(settings) is False


def test_users_create_then_token_prints_a_usable_token(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    main(["db", "upgrade"])
    capsys.readouterr()
    # when
    created = main(["users", "create", "--org", "acme", "--create-org", "--name", "Ada Admin", "--email", "ada@acme.example", "--handle", "ada", "--role", "admin"])
    capsys.readouterr()
    code = main(["token", "--email", "ada@acme.example"])
    token = capsys.readouterr().out.strip()
    # then
    from fiche.auth import decode_token

    assert created == 0 and code == 0
    identity = decode_token(Settings.from_env(), token)
    assert identity is not None


def test_users_create_refuses_an_invalid_email(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    code = main(["users", "create", "--org", "acme", "--create-org", "--name", "Bob", "--email", "not-an-email", "--handle", "bob"])
    assert code == 1
    assert "not a valid e-mail" in capsys.readouterr().err


def test_token_for_an_unknown_email_fails(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert main(["token", "--email", "nobody@nowhere.example"]) == 1


def test_demo_prints_a_token_per_demo_user_and_the_graphiql_url(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    code = main(["demo", "--size", "5"])
    out = capsys.readouterr().out
    # then
    assert code == 0
    assert "/graphql" in out
    assert out.count("camille@") == 1 and out.count("eyJ") >= 7


def test_schema_export_check_fails_on_drift_and_passes_after_export(env: Path) -> None:
    # given
    path = env.parent / "schema.graphql"
    path.write_text("type Query { stale: Int }\n")
    # when / then
    assert main(["schema", "export", "--check", "--path", str(path)]) == 1
    assert main(["schema", "export", "--path", str(path)]) == 0
    assert main(["schema", "export", "--check", "--path", str(path)]) == 0


def test_committed_schema_matches_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """The drift test: ``schema.graphql`` at the repository root is what the code builds."""
    from fiche.plugin_host import get_plugin_manager
    from fiche.schema import build_schema, export_sdl

    for name in ("FICHE_DISABLED_PLUGINS", "FICHE_INTROSPECTION", "FICHE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="x")
    expected = export_sdl(build_schema(get_plugin_manager(settings), settings))
    committed = (REPO / "schema.graphql").read_text()
    assert committed == expected, "schema.graphql is stale: run `fiche schema export` and commit it"


def test_serve_demo_creates_the_demo_organisation_once(env: Path) -> None:
    from fiche.cli import _ensure_demo

    # given
    settings = Settings.from_env()
    prepare_embedded_database(settings)
    # when
    first = _ensure_demo(settings, 3)
    second = _ensure_demo(settings, 3)
    # then
    assert first.slug == second.slug == "demo"
    assert first.organization_id == second.organization_id
    assert set(first.tokens) == set(second.tokens)


def test_readme_documents_every_setting() -> None:
    import dataclasses

    readme = (REPO / "README.md").read_text()
    for field in dataclasses.fields(Settings):
        assert f"`FICHE_{field.name.upper()}`" in readme, field.name

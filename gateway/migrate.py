"""Alembic, driven programmatically: one version directory (and branch) per plugin.

``upgrade`` brings a database to every branch's head (``fiche db upgrade``). ``revision``
autogenerates a plugin's next migration from its models alone (``fiche db revision``), so
plugin authors never hand-write DDL for both databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, delete, insert, inspect, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from fiche.db import Base

__all__ = ["alembic_config", "owned_by", "package_of", "revision", "upgrade"]

HERE = Path(__file__).resolve().parent / "migrations"
CORE = "fiche"  # the core features (fiche.accounts, fiche.notifications, ...) share one branch
BUILTIN_PLUGINS = "fiche.plugins."


def package_of(module_name: str) -> str:
    """The package whose models a plugin's hook module owns: ``fiche`` for every core
    feature, the plugin's own package otherwise."""
    package = module_name.rsplit(".", 1)[0]
    if package == CORE or (package.startswith(CORE + ".") and not package.startswith(BUILTIN_PLUGINS)):
        return CORE
    return package


def owned_by(package: str, module_name: str) -> bool:
    """Whether ``module_name`` belongs to ``package`` (the core excludes built-in plugins)."""
    if package == CORE:
        return (module_name == CORE or module_name.startswith(CORE + ".")) and not module_name.startswith(BUILTIN_PLUGINS)
    return module_name == package or module_name.startswith(package + ".")
log = logging.getLogger("fiche.migrate")
# Alembic's own bookkeeping table: one row per branch head.
_VERSIONS = table("alembic_version", column("version_num"))


def alembic_config(pm: pluggy.PluginManager) -> Config:
    locations = [str(path) for paths in pm.hook.register_migrations() for path in paths]
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("version_locations", " ".join(locations))
    config.set_main_option("path_separator", "space")
    return config


async def _run(url: str, action: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(action)
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _foreign_versions_set_aside(connection: Connection, script: ScriptDirectory) -> Iterator[list[str]]:
    """Hide, for the duration of the block, the ``alembic_version`` rows of revisions no
    registered plugin ships (a plugin disabled or uninstalled after its migrations ran).

    Alembic refuses to start from a revision it cannot locate. The rows go back before the
    transaction commits, so nobody ever sees them missing, the plugin's tables are never
    touched, and re-enabling the plugin later resumes its branch where it stopped."""
    if not inspect(connection).has_table(_VERSIONS.name):
        yield []
        return
    known = {revision.revision for revision in script.walk_revisions()}
    foreign = [row for row in connection.execute(select(_VERSIONS.c.version_num)).scalars() if row not in known]
    if foreign:
        connection.execute(delete(_VERSIONS).where(_VERSIONS.c.version_num.in_(foreign)))
    yield foreign
    if foreign:
        connection.execute(insert(_VERSIONS), [{"version_num": revision} for revision in foreign])


async def upgrade(pm: pluggy.PluginManager, url: str) -> None:
    """Apply every registered plugin's migrations up to its head; the branches of plugins
    that are not registered (disabled) stay as they are."""
    config = alembic_config(pm)
    script = ScriptDirectory.from_config(config)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        with _foreign_versions_set_aside(connection, script) as foreign:
            if foreign:
                log.info("leaving the migrations of unregistered plugins alone: %s", ", ".join(sorted(foreign)))
            command.upgrade(config, "heads")

    await _run(url, run)


def _tables_of(package: str) -> set[str]:
    tables: set[str] = set()
    for mapper in Base.registry.mappers:
        if owned_by(package, mapper.class_.__module__):
            tables.update(table.name for table in mapper.tables)
    return tables


def revision(pm: pluggy.PluginManager, plugin: str, message: str, depends_on: list[str] | None = None) -> None:
    """Autogenerate ``plugin``'s next migration (compared on a scratch SQLite database)."""
    module = pm.get_plugin(plugin)
    if module is None:
        raise SystemExit(f"no plugin named {plugin!r}")
    package = package_of(module.__name__)
    label = "gateway" if package == CORE else plugin  # the core's branch label predates the package name
    versions = [path for path in (module.register_migrations() if hasattr(module, "register_migrations") else [])]
    if not versions:
        raise SystemExit(f"plugin {plugin!r} registers no migrations directory")
    version_path = Path(versions[0])
    version_path.mkdir(parents=True, exist_ok=True)
    owned = _tables_of(package)
    config = alembic_config(pm)
    script = ScriptDirectory.from_config(config)
    start: dict[str, Any]
    try:
        script.get_revision(f"{label}@head")
        start = {"head": f"{label}@head"}
    except Exception:  # alembic raises several kinds for an unknown branch label
        start = {"head": "base", "branch_label": label}

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in owned

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/scratch.db"
        asyncio.run(upgrade(pm, url))

        def run(connection: Any) -> None:
            config.attributes["connection"] = connection
            config.attributes["include_object"] = include_object
            command.revision(
                config,
                message=message,
                autogenerate=True,
                version_path=str(version_path),
                depends_on=" ".join(depends_on) if depends_on else None,
                **start,
            )

        asyncio.run(_run(url, run))

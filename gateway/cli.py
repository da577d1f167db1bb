"""The ``fiche`` command: serve, migrate, export the schema, seed a demo, manage users."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from fiche.settings import Settings

__all__ = ["main"]

log = logging.getLogger("fiche.cli")

SCHEMA_FILE = Path("schema.graphql")


def _pm(settings: Settings) -> Any:
    from fiche.plugin_host import get_plugin_manager

    return get_plugin_manager(settings)


def prepare_embedded_database(settings: Settings) -> bool:
    """Bring an embedded SQLite database up to date, so the first run needs no other
    command. PostgreSQL is migrated explicitly (``fiche db upgrade``) in production."""
    from fiche.migrate import upgrade

    if not settings.is_sqlite:
        return False
    asyncio.run(upgrade(_pm(settings), settings.database_url))
    return True


class WorkersRefused(ValueError):
    """``fiche serve`` cannot run the worker processes asked for (a one-line reason)."""


def serve_workers(settings: Settings, requested: int | None = None, *, reload: bool = False) -> int:
    """How many worker processes ``fiche serve`` runs: ``requested`` (``--workers``), else
    ``FICHE_WORKERS``; 0 means one per core when live events and data are shared between
    processes (Redis broker and PostgreSQL), one otherwise."""
    count = settings.workers if requested is None else requested
    shared_broker = not settings.broker_url.startswith("memory://")
    if count < 0:
        raise WorkersRefused(f"the number of workers must be 0 (automatic) or more, not {count}")
    if count == 0:
        return (os.cpu_count() or 1) if shared_broker and not settings.is_sqlite and not reload else 1
    if count > 1 and not shared_broker:
        raise WorkersRefused(
            f"{count} workers need a shared broker: with {settings.broker_url} live events would not cross processes (set FICHE_BROKER_URL=redis://...)"
        )
    if count > 1 and reload:
        raise WorkersRefused(f"--reload runs one process: drop --workers {count} or --reload")
    return count


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from fiche.leanws import ws_protocol

    try:
        workers = serve_workers(settings, args.workers, reload=args.reload)
    except WorkersRefused as exc:
        # A refusal of the command line, like argparse's: one plain line, nothing served.
        print(f"fiche serve: {exc}", file=sys.stderr)
        return 2
    from fiche.logs import configure_logging, uvicorn_log_config

    _pm(settings)  # refuses an incompatible plugin here, once, rather than in each worker
    # Every line the server writes goes through the root logger: one JSON object each
    # with FICHE_LOG_JSON=1, uvicorn's access and error lines and the migrations' included.
    configure_logging(settings, root=True)
    if workers > 1 and settings.is_sqlite:
        log.warning("%d workers on SQLite: writes from all of them queue for the file's single writer lock", workers)
    prepare_embedded_database(settings)
    url = f"http://{args.host}:{args.port}"
    if args.demo:
        _report_demo(settings, _ensure_demo(settings, args.demo_size), url=url)
    log.info("Fiche on %s/graphql (GraphiQL in a browser)", url, extra={"fields": {"url": f"{url}/graphql"}})
    # With several workers uvicorn supervises spawned processes (SIGTERM stops them all);
    # each one calls the factory, so each builds its own app, engine and broker connection.
    uvicorn.run(
        "fiche.cli:asgi_app",
        factory=True,
        host=args.host,
        port=args.port,
        reload=args.reload,
        workers=workers,
        log_level=settings.log_level.lower(),
        log_config=uvicorn_log_config(settings),
        ws=ws_protocol(settings),
        # Notifications are small; compression state would cost ~40 kB per idle socket.
        ws_per_message_deflate=settings.ws_compression,
    )
    return 0


def asgi_app() -> Any:
    """The uvicorn factory of ``fiche serve`` (settings from the environment)."""
    from fiche.app import create_app
    from fiche.gc import tame_gc
    from fiche.logs import configure_logging

    settings = Settings.from_env()
    configure_logging(settings, root=True)  # again in a ``--reload`` worker process
    app = create_app(settings)
    if settings.gc_tuning:
        tame_gc()
    return app


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.migrate import upgrade

    asyncio.run(upgrade(_pm(settings), settings.database_url))
    print("database is up to date")
    return 0


def cmd_db_revision(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.migrate import revision

    revision(_pm(settings), args.plugin, args.message, depends_on=args.depends_on or None)
    return 0


def cmd_schema_export(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.schema import build_schema, export_sdl

    sdl = export_sdl(build_schema(_pm(settings), settings))
    path = Path(args.path)
    if args.check:
        current = path.read_text() if path.exists() else ""
        if current != sdl:
            print(f"{path} differs from the schema the code builds: run `fiche schema export`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.write_text(sdl)
    print(f"wrote {path}")
    return 0


DEMO_SLUG = "demo"


def _ensure_demo(settings: Settings, size: int) -> Any:
    """The ``demo`` organisation: created on first use, then only fresh tokens."""
    from fiche.db import Database
    from fiche.demo import create_demo, demo_tokens

    async def run() -> Any:
        db = Database(settings.database_url)
        try:
            existing = await demo_tokens(settings, db, DEMO_SLUG)
            return existing or await create_demo(settings, db, _pm(settings), size=size, slug=DEMO_SLUG)
        finally:
            await db.dispose()

    return asyncio.run(run())


def _print_demo(settings: Settings, result: Any, url: str | None = None) -> None:
    print(f"Demo organisation {result.slug!r} (id {result.organization_id}).")
    print(f"GraphiQL: {(url or settings.public_url).rstrip('/')}/graphql - paste a token into the Headers tab as")
    print('  {"Authorization": "Bearer <token>"}')
    for email, token in result.tokens.items():
        print(f"\n{email}\n  {token}")
    print(flush=True)


def _report_demo(settings: Settings, result: Any, url: str) -> None:
    """The demo tokens of ``fiche serve --demo``: printed for a human reading text logs,
    one log object (with the tokens as a field) when the logs are JSON."""
    if not settings.log_json:
        _print_demo(settings, result, url=url)
        return
    fields = {"organization": result.slug, "organization_id": result.organization_id, "graphiql": f"{url}/graphql", "tokens": result.tokens}
    log.info("Demo organisation %r ready: send one of the tokens as `Authorization: Bearer <token>`", result.slug, extra={"fields": fields})


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.db import Database
    from fiche.demo import create_demo
    from fiche.migrate import upgrade

    async def run() -> Any:
        pm = _pm(settings)
        await upgrade(pm, settings.database_url)
        db = Database(settings.database_url)
        try:
            return await create_demo(settings, db, pm, size=args.size, seed=args.seed)
        finally:
            await db.dispose()

    _print_demo(settings, asyncio.run(run()))
    return 0


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.accounts import models, services
    from fiche.auth import issue_token
    from fiche.db import Database
    from fiche.errors import UserErrors

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            async with db.session(system=True) as session, session.begin():
                organization = await session.scalar(select(models.Organization).where(models.Organization.slug == args.org))
                if organization is None:
                    if not args.create_org:
                        print(f"no organisation {args.org!r} (add --create-org)", file=sys.stderr)
                        return 1
                    organization = models.Organization(name=args.org_name or args.org, slug=args.org)
                    session.add(organization)
                    await session.flush()
                session.info["organization_id"] = organization.id
                try:
                    user = await services.create_user(
                        session, name=args.name, email=args.email, handle=args.handle, role=models.Role(args.role)
                    )
                except UserErrors as exc:
                    print(f"refused: {exc}", file=sys.stderr)
                    return 1
                user_id, organization_id = user.id, organization.id
            print(f"created user {args.email} (id {user_id})")
            print(issue_token(settings, user_id, organization_id))
            return 0
        finally:
            await db.dispose()

    return asyncio.run(run())


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.accounts import models
    from fiche.auth import issue_token
    from fiche.db import Database

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            async with db.reader(None, system=True) as session:
                stmt = (
                    select(models.User.id, models.User.organization_id, models.Organization.slug)
                    .join(models.Organization, models.Organization.id == models.User.organization_id)
                    .where(models.User.email == args.email, models.User.is_active.is_(True))
                )
                if args.org:
                    stmt = stmt.where(models.Organization.slug == args.org)
                rows = (await session.execute(stmt)).all()
        finally:
            await db.dispose()
        if not rows:
            print(f"no active user {args.email}", file=sys.stderr)
            return 1
        if len(rows) > 1:
            print(f"{args.email} is in several organisations; add --org ({', '.join(r.slug for r in rows)})", file=sys.stderr)
            return 1
        print(issue_token(settings, rows[0].id, rows[0].organization_id, ttl=args.ttl))
        return 0

    return asyncio.run(run())


def cmd_plugins(args: argparse.Namespace, settings: Settings) -> int:
    """What is loaded, from where, with versions and the hooks each implements."""
    import json

    from fiche.plugin_host import fiche_version, plugin_infos

    infos = plugin_infos(_pm(settings))
    if args.json:
        print(json.dumps({"fiche": fiche_version(), "plugins": [info.as_dict() for info in infos]}, indent=2))
        return 0
    print(f"Fiche {fiche_version()}")
    for info in infos:
        version = f"{info.distribution} {info.version}" if info.distribution else "no distribution"
        print(f"\n{info.name} ({info.kind}) - {version}")
        print(f"  module:   {info.module}")
        print(f"  from:     {info.location or '-'}")
        print(f"  requires: fiche{info.requires}" if info.requires else "  requires: any Fiche")
        print(f"  hooks:    {', '.join(info.hooks) or '-'}")
    return 0


def cmd_plugin_new(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.plugin_host import fiche_version
    from fiche.scaffold import PluginNameRefused, new_plugin

    try:
        target = new_plugin(args.name, Path(args.directory), fiche_version())
    except PluginNameRefused as exc:
        print(f"fiche plugin new: {exc}", file=sys.stderr)
        return 2
    print(f"created {target}")
    print(f"  cd {target} && pip install -e '.[test]' && pytest")
    return 0


def cmd_docs_hooks(args: argparse.Namespace, settings: Settings) -> int:
    from fiche.hookdocs import hooks_markdown

    text = hooks_markdown()
    path = Path(args.path)
    if args.check:
        if not path.exists() or path.read_text() != text:
            print(f"{path} differs from the docstrings of fiche.hookspecs: run `fiche docs hooks`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fiche", description="Fiche GraphQL gateway")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--reload", action="store_true")
    serve.add_argument("--demo", action="store_true", help="create the 'demo' organisation on first run and print its tokens")
    serve.add_argument("--demo-size", type=int, default=50, help="customers in the demo organisation")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default FICHE_WORKERS; 0: one per core with Redis and PostgreSQL, else one)",
    )
    serve.set_defaults(run=cmd_serve)

    db = commands.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply every plugin's migrations")
    up.set_defaults(run=cmd_db_upgrade)
    rev = db.add_parser("revision", help="autogenerate a plugin's next migration (developers)")
    rev.add_argument("--plugin", required=True)
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--depends-on", action="append")
    rev.set_defaults(run=cmd_db_revision)

    schema = commands.add_parser("schema", help="the GraphQL schema").add_subparsers(dest="schema_command", required=True)
    export = schema.add_parser("export", help="write (or --check) schema.graphql")
    export.add_argument("--check", action="store_true", help="fail when the file differs from the code")
    export.add_argument("--path", default=str(SCHEMA_FILE))
    export.set_defaults(run=cmd_schema_export)

    demo = commands.add_parser("demo", help="create a demo organisation and print tokens")
    demo.add_argument("--size", type=int, default=50, help="how many customers (plugins scale the rest)")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(run=cmd_demo)

    users = commands.add_parser("users", help="users").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create a user and print a token")
    create.add_argument("--org", required=True, help="organisation slug")
    create.add_argument("--create-org", action="store_true")
    create.add_argument("--org-name")
    create.add_argument("--name", required=True)
    create.add_argument("--email", required=True)
    create.add_argument("--handle", required=True)
    create.add_argument("--role", default="member", choices=["admin", "manager", "member", "technician"])
    create.set_defaults(run=cmd_users_create)

    plugin = commands.add_parser("plugin", help="write plugins").add_subparsers(dest="plugin_command", required=True)
    new = plugin.add_parser("new", help="generate an installable plugin package (fiche-NAME) from Fiche's template")
    new.add_argument("name", help="the plugin's name: lowercase letters, digits, underscores (e.g. warranty)")
    new.add_argument("--directory", default=".", help="where to create the fiche-NAME folder")
    new.set_defaults(run=cmd_plugin_new)

    docs = commands.add_parser("docs", help="generated documentation").add_subparsers(dest="docs_command", required=True)
    hooks = docs.add_parser("hooks", help="write (or --check) docs/hooks.md from the docstrings of fiche.hookspecs")
    hooks.add_argument("--check", action="store_true", help="fail when the file differs from the docstrings")
    hooks.add_argument("--path", default="docs/hooks.md")
    hooks.set_defaults(run=cmd_docs_hooks)

    plugins = commands.add_parser("plugins", help="list the loaded plugins: origin, version, required Fiche, hooks")
    plugins.add_argument("--json", action="store_true", help="machine-readable output")
    plugins.set_defaults(run=cmd_plugins)

    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("--email", required=True)
    token.add_argument("--org", help="organisation slug, when the e-mail is in several")
    token.add_argument("--ttl", type=int, default=None, help="lifetime in seconds")
    token.set_defaults(run=cmd_token)
    return root


def main(argv: list[str] | None = None) -> int:
    from fiche.plugin_host import IncompatiblePlugin

    args = parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return int(args.run(args, settings) or 0)
    except IncompatiblePlugin as exc:
        # An installed plugin made for another Fiche: one plain line, nothing started.
        print(f"fiche {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

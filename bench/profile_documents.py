"""Server CPU per request of the benchmark documents, in-process, and where it goes.

Seeds one demo organisation (PostgreSQL by default, or a SQLite file), builds the
application and sends each document straight to its ASGI callable (no socket, no HTTP
client: only the server's own work is in the process), ``--requests`` times after a
warm-up, with the server's garbage-collector tuning. For each document it prints the CPU
time per request (``time.process_time``: on a machine shared with other work, wall-clock
is noise, CPU time is not), the wall-clock p50 and the SQL statement count; with
``--profile cprofile`` it also prints each document's top functions (cumulative and own
time), with ``--profile pyinstrument`` a sampled call tree, to compare profile shares
before and after a change.

    python bench/profile_documents.py --size 500 --requests 40 --profile pyinstrument
    python bench/profile_documents.py --database sqlite --documents customer_profile

``--keep`` leaves the seeded database in place and prints its URL; ``--url`` reuses it
(seeding 500 customers takes a while).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import ADMIN_URL, SECRET  # noqa: E402
from fiche.app import build_state, create_app  # noqa: E402
from fiche.demo import create_demo  # noqa: E402
from fiche.gc import tame_gc  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.relay import encode_id  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import admin_sql, count_statements  # noqa: E402

DOCUMENTS = ("heavy", "customers_list", "customer_profile")


async def seed(url: str, size: int) -> None:
    settings = Settings(database_url=url, secret_key=SECRET)
    pm = get_plugin_manager(settings)
    await upgrade(pm, url)
    state = build_state(settings, pm)
    try:
        await create_demo(settings, state.db, pm, size=size)
        async with state.db.engine.connect() as connection:
            # Planner statistics, as a database in service has them (autovacuum runs later):
            # without them PostgreSQL reads the timeline through nested loops, several times
            # slower, and the figures measure a database nobody runs.
            await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
    finally:
        await state.db.dispose()


class Caller:
    """Sends one POST /graphql to an ASGI application and collects the response."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.headers = [(b"host", b"bench"), (b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]

    async def post(self, payload: dict[str, Any]) -> tuple[int, bytes]:
        body = orjson.dumps(payload)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.Event().wait()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class StatementTimer:
    """The wall-clock time of each SQL statement of one request (first line of its text)."""

    def __init__(self, db: Any) -> None:
        self.engine = db.sync_engine
        self.started: dict[int, float] = {}
        self.timings: list[tuple[float, str]] = []

    def before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.started[id(cursor)] = time.perf_counter()

    def after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        elapsed = time.perf_counter() - self.started.pop(id(cursor), time.perf_counter())
        self.timings.append((elapsed, " ".join(statement.split())[:160]))

    def __enter__(self) -> StatementTimer:
        event.listen(self.engine, "before_cursor_execute", self.before)
        event.listen(self.engine, "after_cursor_execute", self.after)
        return self

    def __exit__(self, *exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self.before)
        event.remove(self.engine, "after_cursor_execute", self.after)


async def measure(url: str, documents: list[str], requests: int, warmup: int, profile: str | None, top: int, statements: bool = False) -> dict[str, Any]:
    settings = Settings(database_url=url, secret_key=SECRET, log_level="WARNING")
    pm = get_plugin_manager(settings)
    state = build_state(settings, pm)
    app = create_app(state=state)
    await state.broker.connect()
    try:
        from fiche.accounts import models as accounts
        from fiche.auth import issue_token
        from fiche.plugins.customers import models as customers

        async with state.db.session(system=True) as session:
            admin = (await session.execute(select(accounts.User).where(accounts.User.role == accounts.Role.ADMIN).order_by(accounts.User.id).limit(1))).scalar_one()
            customer_pk = (await session.execute(select(customers.Customer.id).where(customers.Customer.organization_id == admin.organization_id).order_by(customers.Customer.id).limit(1))).scalar_one()
        token = issue_token(settings, admin.id, admin.organization_id)
        caller = Caller(app, token)
        variables = {"customer_profile": {"id": encode_id("Customer", customer_pk)}}
        tame_gc()
        results: dict[str, Any] = {}
        for document in documents:
            payload = {"query": (ROOT / "bench" / "queries" / f"{document}.graphql").read_text(), "variables": variables.get(document, {})}
            for _ in range(warmup):
                status, body = await caller.post(payload)
                if status != 200 or b'"errors"' in body:
                    raise SystemExit(f"{document}: {status} {body[:500]!r}")
            with count_statements(state.db) as counter:
                await caller.post(payload)
            if statements:
                with StatementTimer(state.db) as timer:
                    await caller.post(payload)
                for elapsed, statement in timer.timings:
                    print(f"{document}: {elapsed * 1000:7.2f} ms  {statement}", file=sys.stderr)
            cpu: list[float] = []
            wall: list[float] = []
            for _ in range(requests):
                started_cpu, started = time.process_time(), time.perf_counter()
                await caller.post(payload)
                cpu.append(time.process_time() - started_cpu)
                wall.append(time.perf_counter() - started)
            results[document] = {
                "sql_statements": counter.count,
                "response_bytes": len(body),
                "cpu_ms_min": round(min(cpu) * 1000, 2),  # the least disturbed by other load
                "cpu_ms_median": round(statistics.median(cpu) * 1000, 2),
                "cpu_ms_mean": round(statistics.fmean(cpu) * 1000, 2),
                "wall_ms_p50": round(statistics.median(wall) * 1000, 2),
            }
            if profile == "pyinstrument":
                from pyinstrument import Profiler  # optional: pip install pyinstrument

                sampler = Profiler(interval=0.0002, async_mode="disabled")
                sampler.start()
                for _ in range(requests):
                    await caller.post(payload)
                sampler.stop()
                print(f"=== {document} ({requests} requests)", file=sys.stderr)
                print(sampler.output_text(unicode=False, color=False, show_all=False, short_mode=False), file=sys.stderr)
            elif profile == "cprofile":
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(requests):
                    await caller.post(payload)
                profiler.disable()
                for order in ("cumulative", "tottime"):
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
                    print(f"=== {document}: by {order} ({requests} requests)\n{out.getvalue()}", file=sys.stderr)
        return results
    finally:
        await state.broker.disconnect()
        await state.db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=500, help="customers in the demo organisation")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--url", help="a database seeded by an earlier --keep run")
    parser.add_argument("--keep", action="store_true", help="do not drop the seeded database")
    parser.add_argument("--documents", nargs="+", choices=DOCUMENTS, default=list(DOCUMENTS))
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"], help="print a profile of each document (pyinstrument: a sampled call tree)")
    parser.add_argument("--statements", action="store_true", help="print each statement's wall-clock time (one request)")
    parser.add_argument("--top", type=int, default=40, help="functions shown per profile")
    args = parser.parse_args()
    url, created = args.url, None
    if url is None:
        if args.database == "sqlite":
            url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='fiche-profile-')}/bench.db"
        else:
            created = f"fiche_profile_{uuid.uuid4().hex[:10]}"
            url = ADMIN_URL.rsplit("/", 1)[0] + f"/{created}"
            await admin_sql(f'CREATE DATABASE "{created}"', ADMIN_URL)
        await seed(url, args.size)
    try:
        results = await measure(url, args.documents, args.requests, args.warmup, args.profile, args.top, args.statements)
        print(json.dumps({"database": url.split(":", 1)[0], "results": results}, indent=2))
    finally:
        if args.keep or args.url:
            print(f"database kept: {url}", file=sys.stderr)
        elif created is not None:
            await admin_sql(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)', ADMIN_URL)


if __name__ == "__main__":
    asyncio.run(main())

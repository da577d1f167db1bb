"""Benchmark one GraphQL document against a real gateway process.

Creates a fresh PostgreSQL database, migrates it, seeds a demo organisation of ``--size``
customers through the plugins' ``seed_demo`` hooks, counts the SQL statements the
document costs (in-process, same code path), then starts ``fiche`` under uvicorn in a
subprocess and measures latency (p50 / p99), requests per second and server CPU per
request from a loopback client. Prints one JSON object; drops the database at the end.

    python bench/run.py --query bench/queries/customers_list.graphql --size 2000

``--database sqlite`` measures the embedded set-up instead (a fresh SQLite file);
``--url`` measures a database seeded earlier (e.g. by ``bench/profile_documents.py
--keep``) and keeps it, so that two versions of the gateway are compared, interleaved, on
the same data; ``--keep`` keeps the one seeded here. ``--pick-customer VAR`` sets the variable ``VAR`` to the ID of a seeded customer (for
documents about one customer, such as bench/queries/profile.graphql); ``--workers N`` serves
through ``fiche serve --workers N`` with the Redis broker and counts the CPU of every worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import tempfile
import sys
import time
import uuid
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.app import build_state  # noqa: E402
from fiche.auth import Viewer  # noqa: E402
from fiche.context import ConnectionContext  # noqa: E402
from fiche.demo import create_demo  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.schema import build_schema  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from tests.support import admin_sql, count_statements, free_port  # noqa: E402

ADMIN_URL = os.environ.get("FICHE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-long-enough-for-hs256-signatures"
REDIS_URL = os.environ.get("FICHE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
FIRST_CUSTOMER = "query FirstCustomer { customers(first: 1) { nodes { id } } }"


async def prepare(
    url: str, size: int, query: str, variables: dict[str, Any], pick_customer: str | None = None, seeded: bool = False
) -> tuple[str, int, int, int]:
    """Migrate, seed, and count statements; returns (admin token, statements, response
    bytes, organisation id). ``pick_customer`` names a variable to set (in place) to the
    first customer's ID. ``seeded``: the database was seeded by an earlier run (``--url``)."""
    settings = Settings(database_url=url, secret_key=SECRET)
    pm = get_plugin_manager(settings)
    state = build_state(settings, pm)
    try:
        if seeded:
            token = await _admin_token(settings, state)
        else:
            await upgrade(pm, url)
            started = time.perf_counter()
            demo = await create_demo(settings, state.db, pm, size=size)
            print(f"seeded {size} customers in {time.perf_counter() - started:.1f}s", file=sys.stderr)
            async with state.db.engine.connect() as connection:
                # Planner statistics, as a database in service has them (autovacuum runs later).
                await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
            token = next(iter(demo.tokens.values()))  # the first demo user is the admin
        from fiche.auth import decode_token, load_viewer

        identity = decode_token(settings, token)
        assert identity is not None
        viewer: Viewer | None = await load_viewer(state.db, identity)
        schema = build_schema(pm, settings)
        if pick_customer:
            first = await schema.execute(FIRST_CUSTOMER, context_value=ConnectionContext(state, viewer=viewer))
            assert first.data is not None, first.errors
            variables[pick_customer] = first.data["customers"]["nodes"][0]["id"]
        await schema.execute(query, variable_values=variables, context_value=ConnectionContext(state, viewer=viewer))
        with count_statements(state.db) as counter:
            result = await schema.execute(query, variable_values=variables, context_value=ConnectionContext(state, viewer=viewer))
        if result.errors:
            raise SystemExit(f"the query failed: {result.errors}")
        body = json.dumps({"data": result.data}, default=str).encode()
        return token, counter.count, len(body), identity.organization_id
    finally:
        await state.db.dispose()


async def _admin_token(settings: Settings, state: Any) -> str:
    """A token of the first admin of a database seeded earlier."""
    from sqlalchemy import select

    from fiche.accounts import models as accounts
    from fiche.auth import issue_token

    async with state.db.session(system=True) as session:
        admin = (await session.execute(select(accounts.User).where(accounts.User.role == accounts.Role.ADMIN).order_by(accounts.User.id).limit(1))).scalar_one()
    return issue_token(settings, admin.id, admin.organization_id)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def _tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and of its living descendants (the workers of ``fiche serve --workers``)."""
    total = _cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += _tree_cpu_seconds(int(child))
    return total


async def timed_posts(client: httpx.AsyncClient, payload: dict[str, Any], turns: Iterable[Any], latencies: list[float]) -> None:
    """POST ``payload`` once per item of ``turns``, adding each latency to ``latencies``;
    stops the benchmark on an answer with errors (a figure of failures is no figure)."""
    for _ in turns:
        started = time.perf_counter()
        response = await client.post("/graphql", json=payload)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        if b'"errors"' in response.content[:200]:
            raise SystemExit(response.text[:500])


async def load(base: str, token: str, query: str, variables: dict[str, Any], requests: int, concurrency: int, warmup: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    payload = {"query": query, "variables": variables}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(warmup):
            (await client.post("/graphql", json=payload)).raise_for_status()
        queue = iter(range(requests))  # shared: the workers take turns from one count
        started = time.perf_counter()
        await asyncio.gather(*(timed_posts(client, payload, queue, latencies) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "requests": requests,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(requests / elapsed, 2),
        **latency_figures(latencies),
    }


def serve(url: str, port: int, gc_tuning: bool, workers: int | None = None, executor: str = "breadth") -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        FICHE_EXECUTOR=executor,
        FICHE_DATABASE_URL=url,
        FICHE_SECRET_KEY=SECRET,
        FICHE_LOG_LEVEL="WARNING",
        FICHE_GC_TUNING="1" if gc_tuning else "0",
        FICHE_MAX_PAGE_SIZE="100",
    )
    command = [sys.executable, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    if workers is not None:
        env["FICHE_BROKER_URL"] = REDIS_URL
        command = [sys.executable, "-m", "fiche.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL if workers is not None else None)


async def wait_ready(base: str, seconds: float = 60) -> None:
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(int(seconds / 0.05)):  # spawned workers each import and build the schema
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("the server did not start")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--query", required=True, type=Path, help="GraphQL document file")
    parser.add_argument("--variables", default="{}", help="JSON variables")
    parser.add_argument("--size", type=int, default=500, help="customers in the demo organisation")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--gc", choices=["tuned", "default", "both"], default="tuned", help="server GC settings to measure")
    parser.add_argument("--floor", action="store_true", help="also time bench/floor.py's hand-written SQL on the same database")
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres", help="where the gateway reads (a fresh database either way)")
    parser.add_argument("--pick-customer", metavar="VAR", help="set the variable VAR to the ID of a seeded customer")
    parser.add_argument("--workers", type=int, nargs="+", metavar="N", help="serve with `fiche serve --workers N` (Redis broker), once per N given")
    parser.add_argument("--url", help="a database seeded earlier (bench/profile_documents.py --keep), kept: to compare versions on the same data")
    parser.add_argument("--keep", action="store_true", help="do not drop the seeded database; print its URL")
    args = parser.parse_args()
    query = args.query.read_text()
    variables = json.loads(args.variables)
    name = f"fiche_bench_{uuid.uuid4().hex[:10]}"
    sqlite_folder = tempfile.mkdtemp(prefix="fiche-bench-") if args.database == "sqlite" and not args.url else None
    if args.url:
        url = args.url
    elif sqlite_folder is not None:
        url = f"sqlite+aiosqlite:///{sqlite_folder}/bench.db"
    else:
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        await admin_sql(f'CREATE DATABASE "{name}"', ADMIN_URL)
    try:
        token, statements, size_bytes, organization_id = await prepare(url, args.size, query, variables, args.pick_customer, seeded=bool(args.url))
        runs: list[dict[str, Any]] = []
        for gc_mode, workers in [(gc, n) for gc in (["tuned", "default"] if args.gc == "both" else [args.gc]) for n in (args.workers or [None])]:
            port = free_port()
            server = serve(url, port, gc_tuning=gc_mode == "tuned", workers=workers)
            try:
                base = f"http://127.0.0.1:{port}"
                await wait_ready(base)
                cpu_before = _tree_cpu_seconds(server.pid)
                figures = await load(base, token, query, variables, args.requests, args.concurrency, args.warmup)
                cpu = _tree_cpu_seconds(server.pid) - cpu_before
                figures["server_cpu_ms_per_request"] = round(cpu * 1000 / args.requests, 1)
                figures["gc"] = gc_mode
                if workers is not None:
                    figures["workers"] = workers
                runs.append(figures)
            finally:
                server.terminate()
                server.wait(timeout=10)
        floor: dict[str, Any] | None = None
        if args.floor:
            sys.path.insert(0, str(ROOT / "bench"))
            import floor as floor_module

            floor, _ = await floor_module.measure(url, organization_id, args.requests, args.warmup)
            floor["gateway_to_floor_latency_ratio"] = round(runs[0]["p50_ms"] / floor["p50_ms"], 1)
        print(
            json.dumps(
                {
                    "query": str(args.query),
                    "customers": args.size,
                    "sql_statements_per_request": statements,
                    "response_bytes": size_bytes,
                    "runs": runs,
                    "floor": floor,
                    "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                    "database": "SQLite" if url.startswith("sqlite") else "PostgreSQL",
                    "load_average": [round(value, 2) for value in os.getloadavg()],
                },
                indent=2,
            )
        )
    finally:
        if args.url or args.keep:
            print(f"database kept: {url}", file=sys.stderr)
        elif sqlite_folder is not None:
            shutil.rmtree(sqlite_folder, ignore_errors=True)
        else:
            await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', ADMIN_URL)


if __name__ == "__main__":
    asyncio.run(main())

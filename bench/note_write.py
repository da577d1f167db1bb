"""Server CPU of one ``noteCreate`` that mentions colleagues, in-process, and where it goes.

Creates an organisation of one author and ``--users`` colleagues on a fresh PostgreSQL
database (or a SQLite file), builds the application and sends ``noteCreate`` documents
straight to its ASGI callable (no socket, no HTTP client: only the server's work is in
the process), each note mentioning ``--mentions`` random colleagues, optionally on a
customer followed by ``--followers`` of them. Prints the CPU time per note
(``time.process_time``), the wall-clock p50 and the SQL statements of one note (with
``--statements``, each one's text); ``--profile cprofile`` / ``pyinstrument`` prints where
the CPU goes. The broker is the in-memory one unless ``--broker-url`` says otherwise
(nobody subscribes: this measures the write, not the delivery).

    python bench/note_write.py --notes 300 --mentions 3 --profile pyinstrument
    python bench/note_write.py --database sqlite --statements
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mention_latency import make_org  # noqa: E402
from bench.mentions_two_instances import postgres_seconds  # noqa: E402
from bench.profile_documents import Caller, StatementTimer  # noqa: E402
from bench.run import ADMIN_URL, SECRET  # noqa: E402
from fiche.app import build_state, create_app  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.gc import tame_gc  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import admin_sql, count_statements  # noqa: E402

NOTE_CREATE = "mutation($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code message } } }"
CUSTOMER_CREATE = "mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } errors { message } } }"
FOLLOW = "mutation($id: ID!) { customerFollow(customerId: $id) { errors { message } } }"


async def graphql(caller: Caller, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    status, body = await caller.post({"query": query, "variables": variables})
    answer = orjson.loads(body)
    if status != 200 or answer.get("errors"):
        raise SystemExit(f"{status} {body[:500]!r}")
    data: dict[str, Any] = answer["data"]
    return data


async def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(database_url=url, broker_url=args.broker_url, broker_namespace=f"bench-{uuid.uuid4().hex[:8]}", secret_key=SECRET, log_level="WARNING")
    pm = get_plugin_manager(settings)
    await upgrade(pm, url)
    state = build_state(settings, pm)
    app = create_app(state=state)
    await state.broker.connect()
    try:
        organization_id, author, colleagues = await make_org(state, args.users)
        caller = Caller(app, issue_token(settings, author.id, organization_id))
        target = None
        if args.customer:
            created = await graphql(caller, CUSTOMER_CREATE, {"input": {"kind": "PROFESSIONAL", "companyName": "Bench Customer"}})
            target = created["customerCreate"]["customer"]["id"]
            for colleague in colleagues[: args.followers]:
                await graphql(Caller(app, issue_token(settings, colleague.id, organization_id)), FOLLOW, {"id": target})
        if not args.database.startswith("sqlite"):
            async with state.db.engine.connect() as connection:
                await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
        rng = random.Random(args.seed)

        def note() -> dict[str, Any]:
            chosen = rng.sample(colleagues, min(args.mentions, len(colleagues)))
            body = " ".join(f"@{user.handle}" for user in chosen) + " merci de regarder la fiche avant jeudi."
            return {"query": NOTE_CREATE, "variables": {"input": {"body": body, "targetId": target}}}

        async def post() -> None:
            status, body = await caller.post(note())
            if status != 200 or b'"errors":[]' not in body:
                raise SystemExit(f"{status} {body[:500]!r}")

        tame_gc()
        for _ in range(args.warmup):
            await post()
        with count_statements(state.db) as counter:
            await post()
        if args.statements:
            with StatementTimer(state.db) as timer:
                await post()
            for elapsed, statement in timer.timings:
                print(f"{elapsed * 1000:7.2f} ms  {statement}", file=sys.stderr)
        cpu: list[float] = []
        wall: list[float] = []
        database = url.rsplit("/", 1)[-1]
        postgres_before = postgres_seconds(database)[0] if not args.database.startswith("sqlite") else 0.0
        for _ in range(args.notes):
            started_cpu, started = time.process_time(), time.perf_counter()
            await post()
            cpu.append(time.process_time() - started_cpu)
            wall.append(time.perf_counter() - started)
        postgres_cpu = postgres_seconds(database)[0] - postgres_before if not args.database.startswith("sqlite") else None
        if args.profile == "pyinstrument":
            from pyinstrument import Profiler  # optional: pip install pyinstrument

            sampler = Profiler(interval=0.0005, async_mode="disabled")
            sampler.start()
            for _ in range(args.notes):
                await post()
            sampler.stop()
            print(sampler.output_text(unicode=False, color=False, show_all=False, short_mode=False), file=sys.stderr)
        elif args.profile == "cprofile":
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting for the database
            profiler.enable()
            for _ in range(args.notes):
                await post()
            profiler.disable()
            for order in ("cumulative", "tottime"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
                print(f"=== by {order} ({args.notes} notes)\n{out.getvalue()}", file=sys.stderr)
        return {
            "database": url.split(":", 1)[0],
            "broker": args.broker_url.split(":", 1)[0],
            "mentions_per_note": args.mentions,
            "customer_followers": args.followers if args.customer else None,
            "sql_statements": counter.count,
            "cpu_ms_min": round(min(cpu) * 1000, 2),
            "cpu_ms_median": round(statistics.median(cpu) * 1000, 2),
            "cpu_ms_mean": round(statistics.fmean(cpu) * 1000, 2),
            "wall_ms_p50": round(statistics.median(wall) * 1000, 2),
            # The database server's side (its backends for this database, /proc, 10 ms ticks).
            "postgres_cpu_ms_per_note": round(postgres_cpu / args.notes * 1000, 2) if postgres_cpu is not None else None,
        }
    finally:
        await state.broker.disconnect()
        await state.db.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--users", type=int, default=200, help="colleagues who may be mentioned")
    parser.add_argument("--mentions", type=int, default=3, help="colleagues mentioned per note")
    parser.add_argument("--customer", action="store_true", help="write the notes on a customer")
    parser.add_argument("--followers", type=int, default=0, help="colleagues following that customer (with --customer)")
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--broker-url", default="memory://")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", choices=["cprofile", "pyinstrument"])
    parser.add_argument("--statements", action="store_true", help="print each statement of one note with its wall-clock time")
    parser.add_argument("--top", type=int, default=40, help="functions shown per cProfile ordering")
    parser.add_argument("--database-setting", action="append", default=[], help="NAME=VALUE set on the fresh PostgreSQL database (ALTER DATABASE)")
    args = parser.parse_args()
    created = None
    if args.database == "sqlite":
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='fiche-notes-')}/bench.db"
    else:
        created = f"fiche_notes_{uuid.uuid4().hex[:10]}"
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{created}"
        await admin_sql(f'CREATE DATABASE "{created}"', ADMIN_URL)
        for setting in args.database_setting:  # e.g. plan_cache_mode=force_generic_plan
            name, _, value = setting.partition("=")
            await admin_sql(f'ALTER DATABASE "{created}" SET {name} = {value}', ADMIN_URL)
    try:
        print(json.dumps(await measure(url, args), indent=2))
    finally:
        if created is not None:
            await admin_sql(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)', ADMIN_URL)


if __name__ == "__main__":
    asyncio.run(main())

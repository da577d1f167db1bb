"""The two executors and the floor, interleaved, on one database.

Seeds one PostgreSQL demo organisation, counts each document's SQL statements with each
executor (in-process), then serves ``fiche`` twice under uvicorn — ``FICHE_EXECUTOR=breadth``
and ``FICHE_EXECUTOR=graphql-core``, both running all the time — and times ``--rounds``
rounds; each round runs ``--requests`` requests of every document against each server in
turn, and (for the heavy query) the floor's hand-written SQL statement. Interleaving puts
every contender under the same background load of a shared machine; the spread of the
per-round ratios says how noisy the run was. Prints one JSON object.

    python bench/executors.py --size 500 --rounds 5 --requests 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import floor as floor_module  # noqa: E402
from bench.run import ADMIN_URL, SECRET, _cpu_seconds, serve, timed_posts, wait_ready  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import decode_token, load_viewer  # noqa: E402
from fiche.context import ConnectionContext  # noqa: E402
from fiche.demo import create_demo  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.relay import encode_id  # noqa: E402
from fiche.schema import build_schema  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import admin_sql, count_statements, free_port  # noqa: E402

DOCUMENTS = ("heavy", "customers_list", "customer_profile")
EXECUTORS = ("breadth", "graphql-core")


async def prepare(url: str, size: int) -> dict[str, Any]:
    """Migrate, seed, pick the profile's customer, check both executors answer the same,
    count statements per document and executor."""
    settings = Settings(database_url=url, secret_key=SECRET)
    pm = get_plugin_manager(settings)
    await upgrade(pm, url)
    state = build_state(settings, pm)
    try:
        demo = await create_demo(settings, state.db, pm, size=size)
        async with state.db.engine.connect() as connection:
            # Planner statistics before any server starts (the floor's own ANALYZE came after
            # the servers' warm-up): plans made without them read the profile's timeline
            # through nested loops, and the figures measured a database nobody runs.
            await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
        token = next(iter(demo.tokens.values()))
        identity = decode_token(settings, token)
        assert identity is not None
        viewer = await load_viewer(state.db, identity)
        from fiche.plugins.customers import models as customer_models

        async with state.db.session(system=True) as session:
            customer_pk = (
                await session.execute(
                    select(customer_models.Customer.id)
                    .where(customer_models.Customer.organization_id == demo.organization_id)
                    .order_by(customer_models.Customer.id)
                    .limit(1)
                )
            ).scalar_one()
        variables = {"heavy": {}, "customers_list": {}, "customer_profile": {"id": encode_id("Customer", customer_pk)}}
        statements: dict[str, dict[str, int]] = {}
        sizes: dict[str, int] = {}
        for document in DOCUMENTS:
            query = (ROOT / "bench" / "queries" / f"{document}.graphql").read_text()
            answers = []
            for executor in EXECUTORS:
                schema = build_schema(pm, Settings(database_url=url, secret_key=SECRET, executor=executor))
                context = ConnectionContext(state, viewer=viewer)
                await schema.execute(query, variable_values=variables[document], context_value=context)
                with count_statements(state.db) as counter:
                    result = await schema.execute(query, variable_values=variables[document], context_value=ConnectionContext(state, viewer=viewer))
                if result.errors:
                    raise SystemExit(f"{document} failed with {executor}: {result.errors}")
                statements.setdefault(document, {})[executor] = counter.count
                answers.append(json.dumps(result.data, default=str))
            if answers[0] != answers[1]:
                raise SystemExit(f"the executors answer {document} differently")
            sizes[document] = len(answers[0].encode())
        return {"token": token, "organization_id": demo.organization_id, "variables": variables, "statements": statements, "sizes": sizes}
    finally:
        await state.db.dispose()


async def timed(client: httpx.AsyncClient, payload: dict[str, Any], requests: int) -> list[float]:
    latencies: list[float] = []
    await timed_posts(client, payload, range(requests), latencies)
    return latencies


def summary(latencies: list[float], cpu_seconds: float | None = None) -> dict[str, Any]:
    figures: dict[str, Any] = {"requests": len(latencies), "requests_per_second": round(len(latencies) / sum(latencies), 2), **latency_figures(latencies)}
    if cpu_seconds is not None:
        figures["server_cpu_ms_per_request"] = round(cpu_seconds * 1000 / len(latencies), 1)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=500, help="customers in the demo organisation")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20, help="requests per document, server and round")
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    name = f"fiche_bench_{uuid.uuid4().hex[:10]}"
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    await admin_sql(f'CREATE DATABASE "{name}"', ADMIN_URL)
    servers: dict[str, Any] = {}
    try:
        prepared = await prepare(url, args.size)
        queries = {document: (ROOT / "bench" / "queries" / f"{document}.graphql").read_text() for document in DOCUMENTS}
        payloads = {document: {"query": queries[document], "variables": prepared["variables"][document]} for document in DOCUMENTS}
        for executor in EXECUTORS:
            port = free_port()
            servers[executor] = (serve(url, port, gc_tuning=True, executor=executor), f"http://127.0.0.1:{port}")
        headers = {"Authorization": f"Bearer {prepared['token']}"}
        clients = {executor: httpx.AsyncClient(base_url=base, headers=headers, timeout=120) for executor, (_, base) in servers.items()}
        latencies: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], float] = {}
        floor_rounds: list[dict[str, Any]] = []
        ratios: dict[str, list[float]] = {"heavy_breadth_to_floor": [], "heavy_breadth_to_graphql_core": []}
        try:
            for executor, (_, base) in servers.items():
                await wait_ready(base, seconds=120)
                for document in DOCUMENTS:
                    await timed(clients[executor], payloads[document], args.warmup)
            await floor_module.measure(url, prepared["organization_id"], args.warmup, 0)
            for _ in range(args.rounds):
                floor_figures, _ = await floor_module.measure(url, prepared["organization_id"], args.requests, 1, analyze=False)
                floor_rounds.append(floor_figures)
                rps: dict[str, float] = {"floor": floor_figures["requests_per_second"]}
                for document in DOCUMENTS:
                    for executor in EXECUTORS:
                        process = servers[executor][0]
                        before = _cpu_seconds(process.pid)
                        measured = await timed(clients[executor], payloads[document], args.requests)
                        cpu[(document, executor)] = cpu.get((document, executor), 0.0) + _cpu_seconds(process.pid) - before
                        latencies.setdefault((document, executor), []).extend(measured)
                        if document == "heavy":
                            rps[executor] = len(measured) / sum(measured)
                ratios["heavy_breadth_to_floor"].append(round(rps["breadth"] / rps["floor"], 3))
                ratios["heavy_breadth_to_graphql_core"].append(round(rps["breadth"] / rps["graphql-core"], 2))
        finally:
            for client in clients.values():
                await client.aclose()
        results: dict[str, Any] = {}
        for document in DOCUMENTS:
            results[document] = {
                "sql_statements": prepared["statements"][document],
                "response_bytes": prepared["sizes"][document],
                **{executor: summary(latencies[(document, executor)], cpu[(document, executor)]) for executor in EXECUTORS},
            }
        results["heavy"]["floor"] = {
            "requests": args.requests * args.rounds,
            "requests_per_second": statistics.median(figures["requests_per_second"] for figures in floor_rounds),
            "p50_ms": statistics.median(figures["p50_ms"] for figures in floor_rounds),
            "p99_ms": max(figures["p99_ms"] for figures in floor_rounds),
            "note": "median over rounds of one asyncpg connection's figures (bench/floor.py)",
        }
        print(
            json.dumps(
                {
                    "customers": args.size,
                    "rounds": args.rounds,
                    "requests_per_round": args.requests,
                    "results": results,
                    "per_round_ratios": ratios,
                    "median_ratios": {name: statistics.median(values) for name, values in ratios.items()},
                    "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                    "database": "PostgreSQL",
                },
                indent=2,
            )
        )
    finally:
        for process, _ in servers.values():
            process.terminate()
            process.wait(timeout=10)
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', ADMIN_URL)


if __name__ == "__main__":
    asyncio.run(main())

"""Mention-to-delivery latency with many live subscribers.

Starts the gateway in-process under uvicorn on a free loopback port, on a migrated
database, with an organisation of one author and ``--subscribers`` users. Each user
connects a WebSocket (graphql-transport-ws) and subscribes to ``notifications``. Then
``--events`` notes are written through HTTP, each mentioning ``--mentions`` random
subscribers, and for every delivery the time from the start of the note's POST to the
arrival of the message is recorded. Prints one JSON object: p50 / p99 / max latency and
deliveries per second.

Without ``--database-url`` a fresh PostgreSQL database is created (``FICHE_BENCH_POSTGRES_URL``
names the server) and dropped at the end. Everything stays on loopback and is bounded by
``--timeout``.

    python bench/mention_latency.py --subscribers 200 --events 50 --broker-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.accounts import models as accounts  # noqa: E402
from fiche.app import build_state, create_app  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.context import AppState  # noqa: E402
from fiche.gc import tame_gc  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.notifications.models import Notification  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.relay import encode_id  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from tests.support import admin_sql, free_port  # noqa: E402

ADMIN_URL = os.environ.get("FICHE_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
SECRET = "bench-secret-key-long-enough-for-hs256-signatures"
SUBSCRIPTION = "subscription($after: ID) { notifications(after: $after) { id kind link createdAt } }"
NOTE_CREATE = "mutation($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code message } } }"


@contextlib.asynccontextmanager
async def database(url: str | None, admin_url: str = ADMIN_URL) -> AsyncIterator[str]:
    """The given database, or a fresh PostgreSQL one (made from ``admin_url``) dropped afterwards."""
    if url:
        yield url
        return
    name = f"fiche_bench_{uuid.uuid4().hex[:10]}"
    await admin_sql(f'CREATE DATABASE "{name}"', admin_url)
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', admin_url)


@contextlib.asynccontextmanager
async def serve(app: Any) -> AsyncIterator[str]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio", lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=30)


async def make_org(state: AppState, subscribers: int) -> tuple[int, accounts.User, list[accounts.User]]:
    slug = f"bench-{uuid.uuid4().hex[:8]}"
    async with state.db.session(system=True) as session, session.begin():
        organization = accounts.Organization(name=slug, slug=slug)
        session.add(organization)
        await session.flush()
        session.info["organization_id"] = organization.id
        author = accounts.User(name="Bench Author", email=f"author@{slug}.example", handle="author", role=accounts.Role.MANAGER)
        users = [
            accounts.User(name=f"Subscriber {n:05}", email=f"s{n}@{slug}.example", handle=f"s{n:05}", role=accounts.Role.MEMBER)
            for n in range(subscribers)
        ]
        session.add_all([author, *users])
        return organization.id, author, users


class Subscriber:
    """One WebSocket subscribed to ``notifications``; records when each note's mention arrives."""

    def __init__(self, host: str, token: str, warm: set[str]) -> None:
        self.host, self.token, self.warm = host, token, warm
        self.arrivals: list[tuple[str, float]] = []  # (note global ID, perf_counter)
        self.ready = asyncio.Event()

    async def run(self, after: str) -> None:
        async with websockets.connect(
            f"ws://{self.host}/graphql", subprotocols=["graphql-transport-ws"], max_queue=None
        ) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}))
            await socket.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"after": after}}})
            )
            async for raw in socket:
                arrived = time.perf_counter()
                message = json.loads(raw)
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    note = message["payload"]["data"]["notifications"]["link"].rsplit("/", 1)[-1]
                    if note in self.warm:
                        self.ready.set()
                    else:
                        self.arrivals.append((note, arrived))
                elif message["type"] in ("error", "complete"):
                    raise RuntimeError(f"subscription ended: {message}")


async def post_note(http: httpx.AsyncClient, token: str, body: str) -> str:
    response = await http.post(
        "/graphql",
        json={"query": NOTE_CREATE, "variables": {"input": {"body": body}}},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    payload = response.json()["data"]["noteCreate"]
    if payload["errors"]:
        raise RuntimeError(payload["errors"])
    return str(payload["note"]["id"])


def mention_all(users: list[accounts.User], chunk: int = 500) -> list[str]:
    return [" ".join(f"@{user.handle}" for user in users[i : i + chunk]) + " bienvenue" for i in range(0, len(users), chunk)]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.database_url) as url:
        settings = Settings(
            database_url=url,
            broker_url=args.broker_url,
            broker_namespace=f"bench-{uuid.uuid4().hex[:8]}",
            secret_key=SECRET,
            log_level="WARNING",
            log_json=False,
        )
        pm = get_plugin_manager(settings)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        organization_id, author, users = await make_org(state, args.subscribers)
        app = create_app(settings, state=state)
        if not args.no_tame_gc:
            tame_gc()
        author_token = issue_token(settings, author.id, organization_id)
        async with serve(app) as host, httpx.AsyncClient(base_url=f"http://{host}", timeout=60) as http:
            # Two rounds of notes mentioning everyone before anyone connects. Subscribing
            # `after` the first round's notification replays the second round (once the
            # broker subscription exists), so receiving it proves the socket is live.
            for body in mention_all(users):
                await post_note(http, author_token, body)
            async with state.db.reader(organization_id) as session:
                first = dict((await session.execute(select(Notification.recipient_id, Notification.id))).all())
            warm = {await post_note(http, author_token, body) for body in mention_all(users)}
            subscribers = [Subscriber(host, issue_token(settings, user.id, organization_id), warm) for user in users]
            connect_started = time.perf_counter()
            tasks = [
                asyncio.create_task(sub.run(encode_id("Notification", first[user.id])))
                for sub, user in zip(subscribers, users, strict=True)
            ]
            await asyncio.wait_for(asyncio.gather(*(sub.ready.wait() for sub in subscribers)), args.timeout)
            connect_seconds = time.perf_counter() - connect_started

            rng = random.Random(args.seed)
            started: dict[str, float] = {}
            expected = 0
            bench_started = time.perf_counter()
            for _ in range(args.events):
                chosen = rng.sample(users, min(args.mentions, len(users)))
                t0 = time.perf_counter()
                note = await post_note(http, author_token, " ".join(f"@{user.handle}" for user in chosen) + " merci de regarder")
                started[note] = t0
                expected += len(chosen)
                if args.interval:
                    await asyncio.sleep(args.interval)
            deadline = time.perf_counter() + args.timeout
            while sum(len(sub.arrivals) for sub in subscribers) < expected and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            latencies = sorted(
                (arrived - started[note]) * 1000 for sub in subscribers for note, arrived in sub.arrivals if note in started
            )
            last_arrival = max((arrived for sub in subscribers for _, arrived in sub.arrivals), default=bench_started)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "subscribers": args.subscribers,
        "events": args.events,
        "mentions_per_note": min(args.mentions, args.subscribers),
        "database": url.split("+", 1)[0].split(":", 1)[0],
        "broker": args.broker_url.split(":", 1)[0],
        "expected_deliveries": expected,
        "deliveries": len(latencies),
        **latency_figures([latency / 1000 for latency in latencies], digits=2),
        "deliveries_per_s": round(len(latencies) / max(last_arrival - bench_started, 1e-9), 1),
        "subscribe_all_s": round(connect_seconds, 2),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=200, help="connected WebSocket subscribers (one user each)")
    parser.add_argument("--events", type=int, default=50, help="notes written, each mentioning --mentions subscribers")
    parser.add_argument("--mentions", type=int, default=10, help="subscribers mentioned per note")
    parser.add_argument("--interval", type=float, default=0.0, help="pause between notes, in seconds")
    parser.add_argument("--database-url", default=None, help="default: a fresh PostgreSQL database, dropped afterwards")
    parser.add_argument("--broker-url", default="memory://")
    parser.add_argument("--timeout", type=float, default=120.0, help="upper bound of each waiting phase, in seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tame-gc", action="store_true", help="keep Python's default garbage-collector settings")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

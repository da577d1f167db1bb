"""Mention-to-delivery latency through the reference ``graphql-ws`` client, across two
gateway instances.

Creates a fresh PostgreSQL database, migrates it, and serves ``fiche`` twice under uvicorn
in subprocesses (instances A and B) sharing that database and Redis. The npm
``graphql-ws`` client, in Node (``tests/clients/graphql_ws_client.mjs``), connects to A
as one user and subscribes to ``notifications``. Then ``--notes`` notes mentioning that
user are written through HTTP on B at ``--rate`` notes per second, each on its own
schedule (open loop: a slow note does not delay the next one). Each latency runs from the
start of the note's POST on B to the arrival of its notification in the Node client, both
read on the machine's monotonic clock. Prints one JSON object: p50 / p99 / max, and every
note whose notification is in the inbox but never reached the client.

    python bench/graphql_ws_latency.py --notes 300 --rate 10 --broker-url redis://127.0.0.1:6379/0

Needs Node and ``npm ci`` in tests/clients. Everything stays on loopback and is bounded by
``--timeout``; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fiche.auth import issue_token  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.notifications.models import Notification  # noqa: E402
from fiche.notifications.service import user_topic  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.relay import decode_id  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from bench.mention_latency import SECRET, database, make_org, post_note  # noqa: E402
from bench.run import wait_ready  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from tests.clients.support import NodeScript, missing_prerequisites, wait_until_subscribed  # noqa: E402
from tests.support import free_port  # noqa: E402

SUBSCRIPTION = "subscription { notifications { id kind subject { id } } }"


@contextlib.asynccontextmanager
async def instance(url: str, broker_url: str, namespace: str) -> AsyncIterator[str]:
    """``fiche`` under uvicorn in a subprocess, as deployed; yields ``host:port``."""
    port = free_port()
    env = dict(
        os.environ,
        FICHE_DATABASE_URL=url,
        FICHE_BROKER_URL=broker_url,
        FICHE_BROKER_NAMESPACE=namespace,
        FICHE_SECRET_KEY=SECRET,
        FICHE_LOG_LEVEL="WARNING",
        FICHE_GC_TUNING="1",
    )
    command = [
        sys.executable, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", "--no-access-log", "--ws", "websockets-sansio",
        "--ws-per-message-deflate", "false",  # as `fiche serve` (FICHE_WS_COMPRESSION off)
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        await wait_ready(f"http://127.0.0.1:{port}")
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    async with database(None) as url:
        settings = Settings(database_url=url, broker_url=args.broker_url, broker_namespace=namespace, secret_key=SECRET)
        pm = get_plugin_manager(settings)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        organization_id, author, (subscriber,) = await make_org(state, 1)
        author_token = issue_token(settings, author.id, organization_id)
        config = {
            "url": "",
            "connectionParams": {"Authorization": f"Bearer {issue_token(settings, subscriber.id, organization_id)}"},
        }
        async with (
            instance(url, args.broker_url, namespace) as host_a,
            instance(url, args.broker_url, namespace) as host_b,
            httpx.AsyncClient(base_url=f"http://{host_b}", timeout=args.timeout) as http,
        ):
            config["url"] = f"ws://{host_a}/graphql"
            async with NodeScript.start("graphql_ws_client.mjs", json.dumps(config)) as client:
                await client.send({"subscribe": "inbox", "query": SUBSCRIPTION})
                await client.wait_for(lambda event: event["event"] == "connected", args.timeout)
                await wait_until_subscribed(args.broker_url, f"{namespace}:{user_topic(organization_id, subscriber.id)}")

                body = f"@{subscriber.handle} merci de regarder"
                for _ in range(args.warmup):  # connections, caches and code paths warm, not counted
                    await post_note(http, author_token, body)
                    await client.wait_for(lambda event: event["event"] == "next", args.timeout)

                started: dict[str, float] = {}
                finished: dict[str, float] = {}
                posted: list[float] = []

                async def write(at: float) -> None:
                    await asyncio.sleep(max(0.0, at - time.monotonic()))
                    t0 = time.monotonic()
                    note = await post_note(http, author_token, body)
                    finished[note] = time.monotonic()
                    posted.append(finished[note] - t0)
                    started[note] = t0

                origin = time.monotonic() + 0.1
                writers = asyncio.gather(*(write(origin + n / args.rate) for n in range(args.notes)), return_exceptions=True)
                arrivals: dict[str, float] = {}
                delivered: list[tuple[int, float]] = []  # (notification primary key, arrival), in arrival order
                deadline = origin + args.notes / args.rate + args.timeout
                while len(arrivals) < args.notes and time.monotonic() < deadline:
                    try:
                        event = await client.event(timeout=max(0.1, deadline - time.monotonic()))
                    except AssertionError:  # nothing more arrived before the deadline: report what did
                        break
                    if event["event"] != "next":
                        raise SystemExit(f"the subscription failed: {event}")
                    notification = event["payload"]["data"]["notifications"]
                    arrivals[notification["subject"]["id"]] = event["at"] / 1000
                    delivered.append((decode_id(notification["id"], "Notification")[1], event["at"] / 1000))
                failed = [repr(error) for error in await writers if error is not None]
        # What the inbox holds for the timed notes, to tell a lost delivery from a lost write.
        async with state.db.reader(organization_id) as session:
            inbox = dict(
                (await session.execute(select(Notification.subject_id, Notification.id).where(Notification.recipient_id == subscriber.id))).all()
            )
        await state.db.dispose()
        latencies = [arrivals[note] - t0 for note, t0 in started.items() if note in arrivals]
        undelivered = sorted((inbox[note], finished[note]) for note in set(started) - set(arrivals) if note in inbox)
        delivered_ids = [pk for pk, _ in delivered]
    return {
        "notes": args.notes,
        "rate_per_s": args.rate,
        "deliveries": len(latencies),
        "in_inbox": sum(1 for note in started if note in inbox),
        "failed_posts": failed,
        # Each undelivered notification, and whether one with a higher id had already been
        # delivered when its note's POST returned (the subscription skips ids at or below the
        # last one it sent, so a lower id committed later is never sent).
        "undelivered": [
            {"notification": pk, "higher_id_delivered_first": any(other > pk and at < done for other, at in delivered)}
            for pk, done in undelivered
        ],
        "arrived_in_id_order": delivered_ids == sorted(delivered_ids),
        "client": "graphql-ws (npm) in Node " + subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
        "instances": 2,
        "database": "postgresql",
        "broker": args.broker_url.split(":", 1)[0],
        **latency_figures(latencies),
        "post_on_b": latency_figures(posted),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=300, help="notes written, each mentioning the subscriber")
    parser.add_argument("--rate", type=float, default=10.0, help="notes per second")
    parser.add_argument("--warmup", type=int, default=10, help="notes written and delivered before timing")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--timeout", type=float, default=30.0, help="upper bound of each waiting phase, in seconds")
    args = parser.parse_args(argv)
    missing = missing_prerequisites(browser=False)
    if missing:
        raise SystemExit("this bench needs " + ", ".join(missing))
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Server memory per idle subscriber.

Starts ``fiche`` under uvicorn in a subprocess (SQLite file, in-memory broker), connects N
WebSocket clients from this process (``graphql-transport-ws``: ``connection_init`` with a
token, then ``subscription { notifications { id kind } }``), waits until every one is
subscribed, and reads the server's resident memory (``VmRSS``) before and after. Runs
with WebSocket per-message compression off (``fiche serve``'s default) and on.

    python bench/idle_subscribers.py --subscribers 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mention_latency import make_org  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import free_port  # noqa: E402

SECRET = "bench-secret-key-long-enough-for-hs256-signatures"
SUBSCRIBE = "subscription { notifications { id kind } }"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def prepare(url: str, subscribers: int) -> list[str]:
    settings = Settings(database_url=url, secret_key=SECRET)
    pm = get_plugin_manager(settings)
    await upgrade(pm, url)
    state = build_state(settings, pm)
    try:
        organization_id, _, users = await make_org(state, subscribers + 1)
    finally:
        await state.db.dispose()
    return [issue_token(settings, user.id, organization_id) for user in users]


async def subscribe(host: str, token: str, sockets: list[Any]) -> None:
    socket = await websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]  # offers permessage-deflate, like browsers
    await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    sockets.append(socket)


async def measure(url: str, tokens: list[str], deflate: bool, batch: int) -> dict[str, Any]:
    port = free_port()
    env = dict(os.environ, FICHE_DATABASE_URL=url, FICHE_SECRET_KEY=SECRET, FICHE_LOG_LEVEL="WARNING", FICHE_GC_TUNING="1")
    command = [
        sys.executable, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--ws", "websockets-sansio", "--ws-per-message-deflate", str(deflate).lower(), "--log-level", "warning",
    ]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    sockets: list[Any] = []
    try:
        host = f"127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=f"http://{host}") as client:
            for _ in range(200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        await subscribe(host, tokens[0], sockets)  # warm every code path once
        await asyncio.sleep(1)
        before = rss_kib(server.pid)
        started = time.perf_counter()
        for start in range(1, len(tokens), batch):
            await asyncio.gather(*(subscribe(host, token, sockets) for token in tokens[start : start + batch]))
        connect_seconds = time.perf_counter() - started
        # Wait until the server has started every subscription (its generators subscribe to
        # the broker and read the inbox once), then let it settle.
        await asyncio.sleep(3)
        after = rss_kib(server.pid)
        count = len(tokens) - 1
        return {
            "per_message_deflate": deflate,
            "subscribers": count,
            "rss_before_kib": before,
            "rss_after_kib": after,
            "kib_per_subscriber": round((after - before) / count, 1),
            "connect_seconds": round(connect_seconds, 2),
        }
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        server.terminate()
        server.wait(timeout=10)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50, help="connections opened at once")
    parser.add_argument("--compression", choices=("off", "on", "both"), default="both", help="WebSocket per-message compression of the server")
    args = parser.parse_args()
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.compression]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/idle.db"
        tokens = await prepare(url, args.subscribers)
        runs = [await measure(url, tokens, deflate, args.batch) for deflate in modes]
    print(json.dumps({"runs": runs, "database": "sqlite", "broker": "memory"}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())

"""Broadcast: K notes on a customer followed by N users, each follower subscribed over a
WebSocket of its own, one gateway process.

Creates a fresh PostgreSQL database, N followers of one customer, and serves ``fiche`` in a
subprocess (``uvicorn fiche.cli:asgi_app``, memory broker unless ``--broker-url``). The
bench process opens the N sockets (``graphql-transport-ws``, ``subscription { notifications
{ id kind message link createdAt } }``), proves each one live with a first note, then posts
K notes on the customer one after the other. Reported: from each note's POST to each of its
deliveries p50 / p99 / max, the note's own request time, the time to its LAST delivery
(what "10,000 followers in under a second" is about), and the server process's CPU time per
delivery (read from ``/proc``, the note's request included, and without it: the same K notes
are first posted with nobody connected) and per connection — the bench's clients share the
machine's cores, so compare figures within one run. ``--profile FILE`` runs the server under
cProfile.

    python bench/broadcast.py --followers 1000 --notes 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.idle_subscribers import rss_kib  # noqa: E402
from bench.mention_latency import ADMIN_URL, NOTE_CREATE, SECRET, database, make_org  # noqa: E402
from bench.run import wait_ready  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.plugins.notes.models import CustomerFollow  # noqa: E402
from fiche.relay import decode_id  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import free_port  # noqa: E402

SUBSCRIPTION = "subscription { notifications { id kind message link createdAt } }"
CUSTOMER_CREATE = "mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } errors { code message } } }"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Follower:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # note global ID -> perf_counter
        self.socket: Any = None

    async def connect(self, host: str, token: str) -> None:
        self.socket = await websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"], compression=None, max_queue=None)  # type: ignore[list-item]
        await self.socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        if json.loads(await self.socket.recv())["type"] != "connection_ack":
            raise RuntimeError("refused")
        await self.socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))

    async def listen(self) -> None:
        async for raw in self.socket:
            arrived = time.perf_counter()
            message = json.loads(raw)
            if message["type"] == "next":
                self.arrivals[message["payload"]["data"]["notifications"]["link"].rsplit("#note-", 1)[-1]] = arrived
            elif message["type"] == "ping":
                await self.socket.send(json.dumps({"type": "pong"}))
            elif message["type"] in ("error", "complete"):
                raise RuntimeError(f"subscription ended: {message}")


async def post(http: httpx.AsyncClient, token: str, body: str, target: str) -> str:
    response = await http.post("/graphql", json={"query": NOTE_CREATE, "variables": {"input": {"body": body, "targetId": target}}}, headers={"Authorization": f"Bearer {token}"})
    payload = response.json()["data"]["noteCreate"]
    if payload["errors"]:
        raise RuntimeError(payload["errors"])
    return str(payload["note"]["id"])


async def wait_all(followers: list[Follower], note: str, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while any(note not in follower.arrivals for follower in followers):
        if time.perf_counter() > deadline:
            missing = sum(note not in follower.arrivals for follower in followers)
            raise RuntimeError(f"{missing} followers never got {note}")
        await asyncio.sleep(0.01)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.database_url) as url:
        settings = Settings(database_url=url, secret_key=SECRET, log_level="WARNING", log_json=False)
        pm = get_plugin_manager(settings)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        organization_id, author, users = await make_org(state, args.followers)
        port = free_port()
        host = f"127.0.0.1:{port}"
        env = dict(os.environ, FICHE_DATABASE_URL=url, FICHE_BROKER_URL=args.broker_url, FICHE_SECRET_KEY=SECRET, FICHE_LOG_LEVEL="WARNING", FICHE_LOG_JSON="0")
        env["FICHE_MAX_SUBSCRIPTIONS_PER_USER"] = "10"
        profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        command = [sys.executable, *profile, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1", "--port", str(port)]
        ws = {"lean": "fiche.leanws.protocol:LeanWebSocketProtocol", "asgi": "websockets-sansio"}[args.ws_server]
        command += ["--ws", ws, "--ws-per-message-deflate", "false", "--log-level", "warning", "--no-access-log", "--backlog", "4096"]
        server = subprocess.Popen(command, env=env, cwd=ROOT)
        followers = [Follower() for _ in users]
        listeners: list[asyncio.Task[None]] = []
        try:
            author_token = issue_token(settings, author.id, organization_id)
            await wait_ready(f"http://{host}")
            async with httpx.AsyncClient(base_url=f"http://{host}", timeout=120) as http:
                created = (await http.post("/graphql", json={"query": CUSTOMER_CREATE, "variables": {"input": {"kind": "PROFESSIONAL", "companyName": "Broadcast"}}}, headers={"Authorization": f"Bearer {author_token}"})).json()
                customer = created["data"]["customerCreate"]["customer"]["id"]
                async with state.db.session(organization_id=organization_id) as session, session.begin():
                    session.add_all(CustomerFollow(customer_id=decode_id(customer, "Customer")[1], user_id=user.id) for user in users)
                # The same K notes with nobody connected: what the writes cost the server alone
                # (inbox rows, one broker message), to tell delivery's own CPU from them.
                cpu_before = cpu_seconds(server.pid)
                for index in range(args.notes):
                    await post(http, author_token, f"Avant les abonnés, numéro {index}", customer)
                write_cpu = cpu_seconds(server.pid) - cpu_before
                tokens = [issue_token(settings, user.id, organization_id) for user in users]
                rss_before = rss_kib(server.pid)
                cpu_before = cpu_seconds(server.pid)
                connect_started = time.perf_counter()
                for start in range(0, len(users), args.batch):
                    chunk = list(zip(followers[start : start + args.batch], tokens[start : start + args.batch], strict=True))
                    await asyncio.gather(*(follower.connect(host, token) for follower, token in chunk))
                connect_seconds = time.perf_counter() - connect_started
                listeners = [asyncio.create_task(follower.listen()) for follower in followers]
                # A first note proves every subscription live.
                warm = await post(http, author_token, "Premier passage", customer)
                await wait_all(followers, warm, args.timeout)
                connect_cpu = cpu_seconds(server.pid) - cpu_before  # connect, subscribe, one note
                await asyncio.sleep(1)
                rss_idle = rss_kib(server.pid)
                notes: dict[str, tuple[float, float]] = {}  # note -> (POST started, POST answered)
                cpu_before = cpu_seconds(server.pid)
                for index in range(args.notes):
                    started = time.perf_counter()
                    note = await post(http, author_token, f"Nouvelle du client, numéro {index}", customer)
                    notes[note] = (started, time.perf_counter())
                    await wait_all(followers, note, args.timeout)
                cpu = cpu_seconds(server.pid) - cpu_before
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            await asyncio.gather(*(follower.socket.close() for follower in followers if follower.socket is not None), return_exceptions=True)
            if args.profile:
                server.send_signal(signal.SIGINT)  # a clean exit, so that cProfile writes its file
            else:
                server.terminate()
            server.wait(timeout=120)
            await state.db.dispose()
    latencies = [follower.arrivals[note] - started for note, (started, _answered) in notes.items() for follower in followers]
    last = [max(follower.arrivals[note] for follower in followers) - started for note, (started, _answered) in notes.items()]
    deliveries = len(latencies)
    return {
        "followers": args.followers,
        "notes": args.notes,
        "broker": args.broker_url.split(":", 1)[0],
        "deliveries": deliveries,
        **latency_figures(latencies, digits=1),
        "note_request_ms": round(statistics.median(answered - started for started, answered in notes.values()) * 1000, 1),
        "last_delivery_ms": {"p50": round(statistics.median(last) * 1000, 1), "max": round(max(last) * 1000, 1)},
        "server_cpu_us_per_delivery": round(cpu / deliveries * 1e6, 1),
        # The same notes' writes without subscribers taken off: delivery alone.
        "server_cpu_us_per_delivery_without_the_writes": round((cpu - write_cpu) / deliveries * 1e6, 1),
        "write_cpu_ms_per_note": round(write_cpu / args.notes * 1000, 1),
        "connect_per_s": round(len(users) / connect_seconds, 1),
        # Server CPU of connection_init + subscribe (+ the proving note's delivery), per socket,
        # and how many connections per second that CPU allows one process.
        "server_cpu_ms_per_connect": round(connect_cpu / len(users) * 1000, 2),
        "connects_per_cpu_second": round(len(users) / connect_cpu, 1),
        "server_kib_per_idle_socket": round((rss_idle - rss_before) / len(users), 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=1000)
    parser.add_argument("--notes", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="sockets opened at once")
    parser.add_argument("--broker-url", default="memory://")
    parser.add_argument("--database-url", default=None, help=f"default: a fresh database made from {ADMIN_URL}, dropped afterwards")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--ws-server", choices=("lean", "asgi"), default="lean", help="the server's WebSocket layer (FICHE_WS_SERVER)")
    parser.add_argument("--profile", default=None, help="write the server's cProfile statistics to this file")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

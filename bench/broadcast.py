"""Broadcast: K notes on a customer followed by N users, each follower subscribed over a
WebSocket of its own, one gateway process.

Creates a fresh PostgreSQL database, N followers of one customer, and serves ``fiche`` in a
subprocess (``uvicorn fiche.cli:asgi_app``, memory broker unless ``--broker-url``). The
bench process opens the N sockets (``graphql-transport-ws``, ``subscription { notifications
{ id kind message link createdAt } }``; each a sans-I/O client that notes the time its
bytes arrive and parses them later), proves each one live with a first note, then posts
K notes on the customer one after the other. Reported: from each note's POST to each of its
deliveries p50 / p99 / max, the note's own request time, the time to its LAST delivery
(what "10,000 followers in under a second" is about), from its first delivery to its last
(the fan-out alone), and the server process's CPU time per
delivery (read from ``/proc``, the note's request included, and without it: the same K notes
are first posted with nobody connected) and per connection — the bench's clients share the
machine's cores, so compare figures within one run. ``--profile FILE`` runs the server under
cProfile.

    python bench/broadcast.py --followers 1000 --notes 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import uvloop
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

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
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU time of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")


class Follower(asyncio.Protocol):
    """One follower's socket: websockets' sans-I/O client in an asyncio protocol that only
    notes when bytes arrive (``data_received`` does nothing else), the frames being parsed
    later by :meth:`pump`. A delivery's time is when its bytes reached this process, not
    when a busy client got round to parsing it: with ten thousand sockets in one client
    process, parsing on arrival would delay the reading of the others."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # note global ID -> perf_counter
        self.chunks: list[tuple[float, bytes]] = []
        self.transport: asyncio.Transport | None = None
        self.conn: ClientProtocol | None = None
        self.woken: asyncio.Event | None = None
        self.messages: list[dict[str, Any]] = []  # before the subscription: what came back

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.chunks.append((time.perf_counter(), data))
        if self.woken is not None:
            self.woken.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.woken is not None:
            self.woken.set()

    def _write(self) -> None:
        assert self.conn is not None and self.transport is not None
        output = self.conn.data_to_send()
        if output and not self.transport.is_closing():
            self.transport.write(b"".join(output))

    def send(self, message: dict[str, Any]) -> None:
        assert self.conn is not None
        self.conn.send_text(json.dumps(message).encode())
        self._write()

    def pump(self) -> None:
        """Parse what arrived: a ``next`` is recorded with the time its last bytes came."""
        chunks, self.chunks = self.chunks, []
        conn = self.conn
        assert conn is not None
        for arrived, data in chunks:
            conn.receive_data(data)
            for event in conn.events_received():
                if not isinstance(event, Frame) or event.opcode is not Opcode.TEXT:
                    continue
                message = json.loads(bytes(event.data))
                kind = message["type"]
                if kind == "next":
                    self.arrivals[message["payload"]["data"]["notifications"]["link"].rsplit("#note-", 1)[-1]] = arrived
                elif kind == "ping":
                    self.send({"type": "pong"})
                elif kind in ("error", "complete"):
                    raise RuntimeError(f"subscription ended: {message}")
                else:
                    self.messages.append(message)
        self._write()

    async def _until(self, done: Any) -> None:
        self.woken = asyncio.Event()
        try:
            while True:
                self.pump()
                if done():
                    return
                if self.transport is None or self.transport.is_closing():
                    raise RuntimeError("closed")
                self.woken.clear()
                await asyncio.wait_for(self.woken.wait(), 30)
        finally:
            self.woken = None

    async def connect(self, host: str, token: str) -> None:
        name, port = host.rsplit(":", 1)
        await asyncio.get_running_loop().create_connection(lambda: self, name, int(port))
        conn = self.conn = ClientProtocol(parse_uri(f"ws://{host}/graphql"), subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None)
        conn.send_request(conn.connect())
        self._write()
        await self._until(lambda: conn.state is State.OPEN or conn.handshake_exc is not None)
        if conn.handshake_exc is not None:
            raise conn.handshake_exc
        self.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        await self._until(lambda: bool(self.messages))
        if self.messages.pop(0)["type"] != "connection_ack":
            raise RuntimeError("refused")
        self.send({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def post(http: httpx.AsyncClient, token: str, body: str, target: str) -> str:
    response = await http.post("/graphql", json={"query": NOTE_CREATE, "variables": {"input": {"body": body, "targetId": target}}}, headers={"Authorization": f"Bearer {token}"})
    payload = response.json()["data"]["noteCreate"]
    if payload["errors"]:
        raise RuntimeError(payload["errors"])
    return str(payload["note"]["id"])


async def wait_all(followers: list[Follower], note: str, timeout: float) -> None:
    """Until every follower got ``note``. Nothing is parsed while a follower still waits
    for bytes (parsing would delay the reading of the others' deliveries); then every
    socket's bytes are parsed, which also answers the server's pings."""
    deadline = time.perf_counter() + timeout
    waiting = followers
    while True:
        if all(follower.chunks for follower in waiting):
            for follower in waiting:
                follower.pump()
            waiting = [follower for follower in waiting if note not in follower.arrivals]
            if not waiting:
                break
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(waiting)} followers never got {note}")
        await asyncio.sleep(0.01)
    pump_all(followers)


def pump_all(followers: list[Follower]) -> None:
    for follower in followers:
        if follower.chunks:
            follower.pump()


async def wait_any(followers: list[Follower], notes: list[str], timeout: float) -> None:
    """Until each follower got one of ``notes``."""
    deadline = time.perf_counter() + timeout
    waiting = followers
    while True:
        for follower in waiting:
            if follower.chunks:
                follower.pump()
        waiting = [follower for follower in waiting if not any(note in follower.arrivals for note in notes)]
        if not waiting:
            return
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{len(waiting)} followers got none of {notes}")
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
                    pump_all(followers[:start])  # the server's pings, answered
                connect_seconds = time.perf_counter() - connect_started
                # A first note proves every subscription live. The server may still be
                # starting some when it commits (a subscription starts after the latest
                # notification it reads): another one then, until every socket got one.
                warm: list[str] = []
                for attempt in range(10):
                    warm.append(await post(http, author_token, f"Premier passage {attempt}", customer))
                    with contextlib.suppress(RuntimeError):
                        await wait_any(followers, warm, args.timeout / 10)
                        break
                else:
                    raise RuntimeError("some subscriptions never started")
                connect_cpu = cpu_seconds(server.pid) - cpu_before  # connect, subscribe, one note
                await asyncio.sleep(1)
                pump_all(followers)
                rss_idle = rss_kib(server.pid)
                notes: dict[str, tuple[float, float]] = {}  # note -> (POST started, POST answered)
                cpu_before = cpu_seconds(server.pid)
                system_before = cpu_split(server.pid)[1]
                for index in range(args.notes):
                    started = time.perf_counter()
                    note = await post(http, author_token, f"Nouvelle du client, numéro {index}", customer)
                    notes[note] = (started, time.perf_counter())
                    await wait_all(followers, note, args.timeout)
                cpu = cpu_seconds(server.pid) - cpu_before
                system = cpu_split(server.pid)[1] - system_before
        finally:
            for follower in followers:
                follower.close()
            if args.profile:
                server.send_signal(signal.SIGINT)  # a clean exit, so that cProfile writes its file
            else:
                server.terminate()
            server.wait(timeout=120)
            await state.db.dispose()
    latencies = [follower.arrivals[note] - started for note, (started, _answered) in notes.items() for follower in followers]
    last = [max(follower.arrivals[note] for follower in followers) - started for note, (started, _answered) in notes.items()]
    spread = [max(follower.arrivals[note] for follower in followers) - min(follower.arrivals[note] for follower in followers) for note in notes]
    deliveries = len(latencies)
    return {
        "followers": args.followers,
        "notes": args.notes,
        "broker": args.broker_url.split(":", 1)[0],
        "deliveries": deliveries,
        **latency_figures(latencies, digits=1),
        "note_request_ms": round(statistics.median(answered - started for started, answered in notes.values()) * 1000, 1),
        "last_delivery_ms": {"p50": round(statistics.median(last) * 1000, 1), "max": round(max(last) * 1000, 1)},
        # From a note's first delivery to its last: the fan-out alone (the write excluded).
        "fan_out_ms": {"p50": round(statistics.median(spread) * 1000, 1), "max": round(max(spread) * 1000, 1)},
        "server_cpu_us_per_delivery": round(cpu / deliveries * 1e6, 1),
        # Of which in the kernel (the sockets' writes, the note's statements' I/O).
        "server_system_cpu_us_per_delivery": round(system / deliveries * 1e6, 1),
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
    print(json.dumps(uvloop.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

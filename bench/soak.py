"""Live delivery under faults: every committed notification reaches its recipient exactly once.

Starts its own services around a fresh PostgreSQL database of the machine's server (never
stopping a shared one): a ``redis-server`` on a free port, a TCP proxy between the gateways
and PostgreSQL (cutting it drops every connection and refuses new ones, as a restarting
server does), and N gateway processes (``uvicorn fiche.cli:asgi_app``). Then:

- S WebSocket clients, one user each, spread over the gateways, subscribe to
  ``notifications(after:)`` and, like a real client, reconnect to another gateway with the
  last ID they received whenever their socket drops or their subscription fails;
- a writer posts ``noteCreate`` mentioning M random users, W times per second, to the
  gateways in turn;
- faults, in turn: ``kill -9`` of a gateway (restarted a moment later, as an orchestrator
  would), Redis stopped then started again, PostgreSQL cut then back.

At the end every user's inbox (read from the database) is compared with what their client
received: missing, duplicated, out of order. Also reported: writes that failed in each
phase (a write may fail while PostgreSQL is away, never while Redis is), how long after each
fault live delivery resumed, and delivery latency (commit to arrival) p50/p99/max.

    python bench/soak.py --minutes 10 --sockets 500 --writes 50          # the full soak
    python bench/soak.py --seconds 45 --sockets 30 --writes 5           # what the test runs
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import websockets
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mention_latency import ADMIN_URL, NOTE_CREATE, database, make_org, mention_all  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.notifications.models import Notification  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.relay import decode_id, encode_id  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import free_port  # noqa: E402

SECRET = "soak-secret-key-long-enough-for-hs256-signatures"
SUBSCRIPTION = "subscription($after: ID) { notifications(after: $after) { id createdAt } }"


# -- services ------------------------------------------------------------------------------


class Proxy:
    """A TCP proxy in a thread of its own: ``cut()`` drops every connection and refuses new
    ones (PostgreSQL going away), ``resume()`` accepts again on the same port."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="soak-proxy", daemon=True)
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self.thread.start()
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def resume(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        self._call(self._cut())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port, reuse_address=True)

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in tuple(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, upstream_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                sink.transport.abort()
                self.writers.discard(sink)

        await asyncio.gather(copy(reader, upstream_writer), copy(upstream_reader, writer))


class RedisServer:
    """A ``redis-server`` of our own on a free port, stopped and started at will."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class Gateway:
    """One gateway process (``uvicorn fiche.cli:asgi_app``) on its own port."""

    def __init__(self, index: int, env: dict[str, str], log: Path) -> None:
        self.index = index
        self.log = log
        self.port = free_port()
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.serving = False  # started and answering: the writer may use it

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--ws", "websockets-sansio", "--ws-per-message-deflate", "false", "--log-level", "warning", "--no-access-log"]
        # Its log goes to a file: a pipe nobody reads would block the process once full.
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        self.starts += 1

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"gateway {self.index} exited: {self.log.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://{self.host}/healthz")).status_code == 200:
                        self.serving = True
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"gateway {self.index} not ready")

    def kill(self) -> None:
        self.serving = False
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# -- clients -------------------------------------------------------------------------------


class Client:
    """One user's WebSocket client: subscribes ``after`` the last notification it received
    and, whenever the socket or the subscription ends, reconnects to the next gateway."""

    def __init__(self, user_id: int, token: str, after: str, gateways: list[Gateway], offset: int) -> None:
        self.user_id = user_id
        self.token = token
        self.last = after
        self.gateways = gateways
        self.turn = offset
        self.received: list[tuple[int, float, float]] = []  # (notification pk, created, arrived) as epoch seconds
        self.reconnects = 0
        self.subscribed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            gateway = self.gateways[self.turn % len(self.gateways)]
            self.turn += 1
            try:
                await self._session(gateway.host)
            except (OSError, TimeoutError, websockets.WebSocketException, _Ended):
                pass
            if not stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(0.2 + random.random() * 0.3)

    async def _session(self, host: str) -> None:
        async with websockets.connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"], open_timeout=5, max_queue=None) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}))
            ack = json.loads(await asyncio.wait_for(socket.recv(), 5))
            if ack.get("type") != "connection_ack":
                raise _Ended
            await socket.send(json.dumps({"id": "n", "type": "subscribe", "payload": {"query": SUBSCRIPTION, "variables": {"after": self.last}}}))
            self.subscribed.set()
            async for raw in socket:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif kind == "next":
                    payload = message["payload"]
                    if payload.get("errors") or not payload.get("data"):
                        raise _Ended
                    node = payload["data"]["notifications"]
                    arrived = time.time()
                    created = dt.datetime.fromisoformat(node["createdAt"]).timestamp()
                    self.received.append((decode_id(node["id"], "Notification")[1], created, arrived))
                    self.last = node["id"]
                elif kind in ("error", "complete"):
                    raise _Ended


class _Ended(Exception):
    """The server ended the subscription: reconnect."""


@dataclasses.dataclass
class Fault:
    kind: str
    started: float
    ended: float = 0.0


@dataclasses.dataclass
class Writes:
    ok: int = 0
    failed: dict[str, int] = dataclasses.field(default_factory=dict)
    reasons: dict[str, int] = dataclasses.field(default_factory=dict)

    def fail(self, phase: str, reason: str) -> None:
        self.failed[phase] = self.failed.get(phase, 0) + 1
        key = f"{phase}: {reason}"
        self.reasons[key] = self.reasons.get(key, 0) + 1


async def writer(gateways: list[Gateway], token: str, handles: list[str], rate: float, mentions: int, stop: asyncio.Event, phase: list[str], writes: Writes) -> None:
    rng = random.Random(7)
    turn = 0
    pending: set[asyncio.Task[None]] = set()
    # A slow answer is not a failure: only an error or a dropped connection is.
    async with httpx.AsyncClient(timeout=30) as http:

        async def post(host: str, body: str, during: str) -> None:
            try:
                response = await http.post(
                    f"http://{host}/graphql", json={"query": NOTE_CREATE, "variables": {"input": {"body": body}}}, headers={"Authorization": f"Bearer {token}"}
                )
                payload = response.json()
                errors = payload.get("errors") or (payload.get("data") or {}).get("noteCreate", {}).get("errors")
                if response.status_code != 200 or errors:
                    writes.fail(during, f"HTTP {response.status_code} {[(error.get('extensions') or error).get('code') for error in errors or []]}")
                else:
                    writes.ok += 1
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
                writes.fail(during, type(exc).__name__)

        next_at = time.monotonic()
        while not stop.is_set():
            live = [gateway for gateway in gateways if gateway.serving and gateway.alive]
            if live:
                host = live[turn % len(live)].host
                turn += 1
                body = " ".join(f"@{handle}" for handle in rng.sample(handles, min(mentions, len(handles)))) + " soak"
                task = asyncio.create_task(post(host, body, phase[0]))
                pending.add(task)
                task.add_done_callback(pending.discard)
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        if pending:
            await asyncio.gather(*pending)


# -- the run -------------------------------------------------------------------------------


def through(url: str, port: int) -> str:
    """``url`` with its host and port replaced by the proxy's."""
    scheme, rest = url.split("://", 1)
    credentials, _, tail = rest.rpartition("@")
    path = tail.split("/", 1)[1]
    return f"{scheme}://{credentials + '@' if credentials else ''}127.0.0.1:{port}/{path}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    duration = args.seconds if args.seconds else args.minutes * 60
    redis_server = RedisServer()
    redis_server.start()
    async with database(None, args.admin_url) as url:
        host_port = url.split("://", 1)[1].rsplit("@", 1)[-1].split("/", 1)[0]
        pg_host, _, pg_port = host_port.partition(":")
        proxy = Proxy(pg_host, int(pg_port or 5432))
        proxy.start()
        gateways: list[Gateway] = []
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        try:
            namespace = f"soak-{uuid.uuid4().hex[:8]}"
            settings = Settings(database_url=url, broker_url="memory://", secret_key=SECRET, log_level="WARNING", log_json=False)
            pm = get_plugin_manager(settings)
            await upgrade(pm, url)
            state = build_state(settings, pm)
            organization_id, author, users = await make_org(state, args.sockets)
            env = dict(os.environ)
            env.update(
                FICHE_DATABASE_URL=through(url, proxy.port),
                FICHE_BROKER_URL=redis_server.url,
                FICHE_BROKER_NAMESPACE=namespace,
                FICHE_SECRET_KEY=SECRET,
                FICHE_LOG_LEVEL="WARNING",
                FICHE_LOG_JSON="0",
            )
            logs = Path(tempfile.mkdtemp(prefix="fiche-soak-"))
            gateways = [Gateway(index, env, logs / f"gateway-{index}.log") for index in range(args.gateways)]
            for gateway in gateways:
                gateway.start()
            await asyncio.gather(*(gateway.ready() for gateway in gateways))
            author_token = issue_token(settings, author.id, organization_id)
            # One notification per user before anyone connects: clients subscribe after it.
            async with httpx.AsyncClient(timeout=60) as http:
                for body in mention_all(users, chunk=20):
                    response = await http.post(
                        f"http://{gateways[0].host}/graphql",
                        json={"query": NOTE_CREATE, "variables": {"input": {"body": body}}},
                        headers={"Authorization": f"Bearer {author_token}"},
                    )
                    response.raise_for_status()
                    if response.json().get("errors") or response.json()["data"]["noteCreate"]["errors"]:
                        raise RuntimeError(f"the first notes failed: {response.text[:500]}")
            async with state.db.reader(organization_id) as session:
                baseline = dict((await session.execute(select(Notification.recipient_id, Notification.id))).all())
            clients = [
                Client(user.id, issue_token(settings, user.id, organization_id), encode_id("Notification", baseline[user.id]), gateways, index)
                for index, user in enumerate(users)
            ]
            tasks = [asyncio.create_task(client.run(stop)) for client in clients]
            await asyncio.wait_for(asyncio.gather(*(client.subscribed.wait() for client in clients)), 60)
            await asyncio.sleep(2)  # let the subscriptions reach the broker

            phase = ["steady"]
            writes = Writes()
            writing = asyncio.create_task(writer(gateways, author_token, [user.handle for user in users], args.writes, args.mentions, stop, phase, writes))
            started = time.time()
            faults: list[Fault] = []
            kinds = ["kill", "redis", "postgres"]
            # The faults in turn, evenly spread, each followed by a steady stretch.
            slot = 0
            while True:
                slot += 1
                at = started + slot * args.fault_every
                if at + args.outage + 5 > started + duration:
                    break
                await asyncio.sleep(max(0.0, at - time.time()))
                kind = kinds[(slot - 1) % len(kinds)]
                fault = Fault(kind, time.time())
                phase[0] = kind
                if kind == "kill":
                    victim = gateways[(slot // len(kinds)) % len(gateways)]
                    victim.kill()
                    await asyncio.sleep(args.outage)
                    victim.start()
                    await victim.ready()
                elif kind == "redis":
                    redis_server.stop()
                    await asyncio.sleep(args.outage)
                    redis_server.start()
                else:
                    proxy.cut()
                    await asyncio.sleep(args.outage)
                    proxy.resume()
                fault.ended = time.time()
                phase[0] = "steady"
                faults.append(fault)
            await asyncio.sleep(max(0.0, started + duration - time.time()))
            stop.set()
            await writing
            stopped_writing = time.time()
            # Quiescence: what committed is delivered by now, or never will be.
            async with state.db.reader(organization_id) as session:
                rows = (await session.execute(select(Notification.recipient_id, Notification.id, Notification.created_at))).all()
            inbox: dict[int, list[int]] = {}
            created_at: dict[int, float] = {}
            for recipient, pk, created in rows:
                if pk > baseline[recipient]:
                    inbox.setdefault(recipient, []).append(pk)
                    created_at[pk] = created.timestamp()
            deadline = time.time() + args.settle
            while time.time() < deadline:
                if all(sorted(pk for pk, _c, _a in client.received) == sorted(inbox.get(client.user_id, [])) for client in clients):
                    break
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            survivors_alive = all(gateway.alive for gateway in gateways)
            await state.db.dispose()
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            for gateway in gateways:
                gateway.stop()
            proxy.stop()
            redis_server.stop()

    missing = duplicated = out_of_order = unknown = 0
    missed: list[dict[str, Any]] = []
    for client in clients:
        got = [pk for pk, _c, _a in client.received]
        expected = set(inbox.get(client.user_id, []))
        lost = sorted(expected - set(got))
        missing += len(lost)
        # What a failure needs to be understood: when each lost one was created (seconds
        # from the start of the writes, and which fault was under way), and what the
        # client had received and done by the end.
        for pk in lost:
            moment = created_at[pk]
            missed.append(
                {
                    "user": client.user_id,
                    "notification": pk,
                    "created_s": round(moment - started, 2),
                    "during": next((fault.kind for fault in faults if fault.started <= moment <= fault.ended + 1), "steady"),
                    "later_for_user": sum(1 for other in expected if other > pk),
                    "last_received": got[-1] if got else None,
                    "reconnects": client.reconnects,
                }
            )
        duplicated += len(got) - len(set(got))
        unknown += len(set(got) - expected)
        out_of_order += sum(1 for a, b in zip(got, got[1:]) if b <= a)
    deliveries = [(created, arrived) for client in clients for _pk, created, arrived in client.received]
    # Steady state: notifications created outside every fault and the second after it.
    steady = [
        arrived - created
        for created, arrived in deliveries
        if not any(fault.started <= created <= fault.ended + 1 for fault in faults)
    ]
    resumed = {}
    for fault in faults:
        after = [arrived - fault.ended for created, arrived in deliveries if created >= fault.ended]
        resumed[f"{fault.kind}@{fault.started - started:.0f}s"] = round(min(after), 2) if after else None
    return {
        "gateways": args.gateways,
        "sockets": args.sockets,
        "writes_per_s": args.writes,
        "mentions_per_write": args.mentions,
        "seconds": round(stopped_writing - started, 1),
        "outage_s": args.outage,
        "faults": [fault.kind for fault in faults],
        "writes_ok": writes.ok,
        "writes_failed_by_phase": writes.failed,
        "write_failures": writes.reasons,
        "committed_notifications": sum(len(pks) for pks in inbox.values()),
        "delivered": len(deliveries),
        "missing": missing,
        "missing_detail": missed[:20],
        "duplicated": duplicated,
        "out_of_order": out_of_order,
        "unknown": unknown,
        "reconnects": sum(client.reconnects for client in clients),
        "live_again_after_s": resumed,
        "gateway_starts": [gateway.starts for gateway in gateways],
        "survivors_alive": survivors_alive,
        "latency_all": latency_figures([max(0.0, arrived - created) for created, arrived in deliveries], digits=3),
        "latency_steady": latency_figures([max(0.0, latency) for latency in steady], digits=3),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=0, help="overrides --minutes")
    parser.add_argument("--gateways", type=int, default=3)
    parser.add_argument("--sockets", type=int, default=500, help="WebSocket clients, one user each")
    parser.add_argument("--writes", type=float, default=50, help="notifying writes per second")
    parser.add_argument("--mentions", type=int, default=3, help="users mentioned (notified) per write")
    parser.add_argument("--fault-every", type=float, default=40, help="seconds between the starts of two faults")
    parser.add_argument("--outage", type=float, default=30, help="how long Redis / PostgreSQL / a killed gateway stay away")
    parser.add_argument("--settle", type=float, default=30, help="most seconds to wait for the last deliveries")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="a PostgreSQL database to create the soak's own database from")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mention latency across two gateway processes at a fixed note rate (open loop).

Creates a fresh PostgreSQL database (dropped at the end), an organisation of one author
and ``--subscribers`` users, and starts two gateway processes (``fiche serve``, one worker
each) sharing that database and the Redis broker (``--broker-url``, its own namespace).
Each subscriber opens a WebSocket (graphql-transport-ws) to one of the two instances,
alternately, and subscribes to ``notifications``. Then notes are written at ``--rate``
notes per second for ``--seconds`` (after ``--warmup`` seconds at the same rate, not
counted), alternately through each instance's HTTP ``noteCreate``, each mentioning
``--mentions`` random subscribers. The arrivals are fixed in advance (note i is sent at
start + i / rate whatever the server's answers so far: open loop), each request on a
keep-alive connection of a small HTTP/1.1 client of this script (a general client costs
more CPU per request than the server's own parsing).

For every (note, mentioned user) the latency is the time from the start of the note's
request to the arrival of the notification on that user's socket. Prints one JSON object:
the achieved rate, p50 / p99 / max latency, deliveries against expected (lost,
duplicated), failed writes, how late the bench sent its requests (its own lag), server
CPU per note of each instance (``/proc``, user + system, over the measured seconds,
delivery included), the bench's own CPU and the load average.

    python bench/mentions_two_instances.py --rate 200 --seconds 20 --subscribers 200 --mentions 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.mention_latency import SECRET, database, make_org  # noqa: E402
from bench.stats import latency_figures  # noqa: E402
from fiche.app import build_state  # noqa: E402
from fiche.auth import issue_token  # noqa: E402
from fiche.migrate import upgrade  # noqa: E402
from fiche.plugin_host import get_plugin_manager  # noqa: E402
from fiche.settings import Settings  # noqa: E402
from tests.support import free_port  # noqa: E402

REDIS_URL = os.environ.get("FICHE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SUBSCRIPTION = "subscription { notifications { id link } }"
NOTE_CREATE = "mutation($input: NoteCreateInput!) { noteCreate(input: $input) { note { id } errors { code message } } }"
MAX_MENTIONS = 20  # per note (fiche.plugins.notes.services.MAX_MENTIONS)
TICK = os.sysconf("SC_CLK_TCK")
# uvicorn stops on SIGTERM, then raises it again with the handler it found: this one.
PROFILED = """
import cProfile, signal, sys, time
from fiche.cli import main

def stop(*_):
    profile.disable()
    profile.dump_stats(sys.argv[1])
    sys.exit(0)

profile = cProfile.Profile(time.process_time)
signal.signal(signal.SIGTERM, stop)
profile.enable()
main(sys.argv[2:])
stop()
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def waited_seconds(pid: int) -> float:
    """How long the process has been runnable but waiting for a CPU (``/proc/PID/schedstat``):
    what tells a process starved of CPU from one waiting on I/O or on another process."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_seconds(database: str) -> tuple[float, float]:
    """CPU and run-queue wait so far of the PostgreSQL backends connected to ``database``
    (by their process title, ``postgres: USER DATABASE HOST...``; the server is shared with
    other databases, and its background writers are not counted)."""
    cpu = waited = 0.0
    for title in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = title.read_bytes().replace(b"\0", b" ").split()
            if not words or words[0] != b"postgres:" or database.encode() not in words:
                continue
            pid = int(title.parent.name)
            cpu += cpu_seconds(pid)
            waited += waited_seconds(pid)
        except (OSError, ValueError):
            continue
    return cpu, waited


class Instance:
    """One ``fiche serve`` process on its own port."""

    def __init__(self, index: int, env: dict[str, str], log: Path, profile: Path | None = None) -> None:
        self.index, self.env, self.log, self.profile = index, env, log, profile
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        arguments = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        command = [str(Path(sys.executable).parent / "fiche"), *arguments]
        if self.profile is not None:  # the whole life of the process, in CPU time, written when it stops
            command = [sys.executable, "-c", PROFILED, str(self.profile), *arguments]
        with open(self.log, "ab") as log:  # a pipe nobody reads would block the server once full
            self.process = subprocess.Popen(command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)

    async def ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=1) as http:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    raise RuntimeError(f"instance {self.index} exited: {self.log.read_text(errors='replace')[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"instance {self.index} not ready")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
            self.process = None


class Poster:
    """POST /graphql over keep-alive HTTP/1.1 connections, a new one whenever all are busy."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer {token}\r\n"
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def post(self, payload: bytes) -> tuple[int, bytes]:
        request = f"{self.head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload
        while True:
            reused = bool(self.idle)
            if reused:
                reader, writer = self.idle.pop()
            else:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                self.opened += 1
            writer.write(request)
            line = await reader.readline()
            if line or not reused:
                break
            # The server closed this kept-alive connection while it was idle (uvicorn's
            # keep-alive timeout) before reading the request: send it on another, as an
            # HTTP client does.
            writer.close()
        status = int(line.split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.idle.append((reader, writer))
        return status, body

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


class Subscriber:
    """One socket subscribed to ``notifications``: every arrival as (note global ID, time)."""

    def __init__(self, user_id: int, port: int, token: str) -> None:
        self.user_id, self.port, self.token = user_id, port, token
        self.arrivals: list[tuple[str, float]] = []
        self.subscribed = asyncio.Event()
        self.heard = asyncio.Event()

    async def run(self) -> None:
        async with websockets.connect(f"ws://127.0.0.1:{self.port}/graphql", subprotocols=["graphql-transport-ws"], max_queue=None, compression=None) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}))
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
            async for raw in socket:
                arrived = time.perf_counter()
                message = orjson.loads(raw)
                kind = message["type"]
                if kind == "next":
                    self.arrivals.append((message["payload"]["data"]["notifications"]["link"].rsplit("/", 1)[-1], arrived))
                    self.heard.set()
                elif kind == "connection_ack":
                    self.subscribed.set()
                elif kind == "ping":
                    await socket.send('{"type":"pong"}')
                elif kind in ("error", "complete"):
                    raise RuntimeError(f"subscription ended: {message}")


def note_payload(handles: list[str], index: int) -> bytes:
    body = " ".join(f"@{handle}" for handle in handles) + f" merci de regarder la fiche ({index})"
    return orjson.dumps({"query": NOTE_CREATE, "variables": {"input": {"body": body}}})


async def write(poster: Poster, payload: bytes) -> str | None:
    status, body = await poster.post(payload)
    answer = orjson.loads(body)
    if status != 200 or answer.get("errors") or answer["data"]["noteCreate"]["errors"]:
        return None
    return str(answer["data"]["noteCreate"]["note"]["id"])


async def warm_sockets(subscribers: list[Subscriber], posters: list[Poster], handles: dict[int, str], timeout: float) -> None:
    """Notes mentioning the subscribers not heard from yet, until every socket got one: then
    every subscription is live (a note committed before it was would not reach it)."""
    deadline = time.monotonic() + timeout
    while (waiting := [sub for sub in subscribers if not sub.heard.is_set()]) and time.monotonic() < deadline:
        for start in range(0, len(waiting), MAX_MENTIONS):
            chunk = waiting[start : start + MAX_MENTIONS]
            await write(posters[start // MAX_MENTIONS % 2], note_payload([handles[sub.user_id] for sub in chunk], -1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(sub.heard.wait() for sub in waiting)), 2)
    if any(not sub.heard.is_set() for sub in subscribers):
        raise RuntimeError("some subscriptions never went live")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.database_url) as url:
        settings = Settings(database_url=url, secret_key=SECRET, log_level="WARNING", log_json=False)
        pm = get_plugin_manager(settings)
        await upgrade(pm, url)
        state = build_state(settings, pm)
        try:
            organization_id, author, users = await make_org(state, args.subscribers)
            if args.analyze:  # planner statistics, as a database in service has them
                async with state.db.engine.connect() as connection:
                    await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text("ANALYZE"))
        finally:
            await state.db.dispose()
        handles = {user.id: str(user.handle) for user in users}
        env = {
            **os.environ,
            "FICHE_DATABASE_URL": url,
            "FICHE_BROKER_URL": args.broker_url,
            "FICHE_BROKER_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}",
            "FICHE_SECRET_KEY": SECRET,
            "FICHE_LOG_LEVEL": "WARNING",
            "FICHE_LOG_JSON": "0",
        }
        logs = Path(tempfile.mkdtemp(prefix="fiche-two-instances-"))
        profiles = [Path(f"{args.profile}.{index}") if args.profile else None for index in range(2)]
        instances = [Instance(index, env, logs / f"instance-{index}.log", profiles[index]) for index in range(2)]
        try:
            for instance in instances:
                instance.start()
            await asyncio.gather(*(instance.ready() for instance in instances))
            # For a profiler to attach to (py-spy record -p PID) while the run lasts.
            print(f"instance pids: {[instance.process.pid for instance in instances if instance.process]}, database: {url.rsplit('/', 1)[-1]}", file=sys.stderr, flush=True)
            return await measure(args, settings, organization_id, author.id, users, handles, instances)
        finally:
            for instance in instances:
                instance.stop()


async def measure(
    args: argparse.Namespace, settings: Settings, organization_id: int, author_id: int, users: list[Any], handles: dict[int, str], instances: list[Instance]
) -> dict[str, Any]:
    token = issue_token(settings, author_id, organization_id)
    posters = [Poster(instance.port, token) for instance in instances]
    subscribers = [
        Subscriber(user.id, instances[index % 2].port, issue_token(settings, user.id, organization_id)) for index, user in enumerate(users)
    ]
    tasks = [asyncio.create_task(sub.run()) for sub in subscribers]
    try:
        await asyncio.wait_for(asyncio.gather(*(sub.subscribed.wait() for sub in subscribers)), args.timeout)
        await warm_sockets(subscribers, posters, handles, args.timeout)
        rng = random.Random(args.seed)
        ids = list(handles)
        warm_notes = int(args.warmup * args.rate)
        total = warm_notes + int(args.seconds * args.rate)
        started: dict[str, float] = {}  # note global ID -> start of its request (measured notes)
        expected: dict[str, list[int]] = {}
        lags: list[float] = []
        failures = Counter[str]()
        loop = asyncio.get_running_loop()
        database_name = settings.database_url.rsplit("/", 1)[-1].split("?")[0]

        async def send(index: int, due: float) -> None:
            chosen = rng.sample(ids, min(args.mentions, len(ids)))
            begun = time.perf_counter()
            if index >= warm_notes:
                lags.append(loop.time() - due)
            try:
                note = await write(posters[index % 2], note_payload([handles[user] for user in chosen], index))
            except Exception as error:  # counted, not fatal: the run measures what the servers do
                failures[type(error).__name__] += 1
                return
            if note is None:
                failures["error answer"] += 1
            elif index >= warm_notes:
                started[note], expected[note] = begun, chosen

        sends: list[asyncio.Task[None]] = []
        origin = loop.time() + 0.2
        cpu_before: list[float] = []
        bench_cpu_before = wall_before = bench_wait_before = 0.0
        wait_before: list[float] = []
        postgres_before = (0.0, 0.0)
        for index in range(total):
            if index == warm_notes:
                cpu_before = [cpu_seconds(instance.process.pid) for instance in instances if instance.process]
                wait_before = [waited_seconds(instance.process.pid) for instance in instances if instance.process]
                bench_wait_before, postgres_before = waited_seconds(os.getpid()), postgres_seconds(database_name)
                bench_cpu_before, wall_before = time.process_time(), time.perf_counter()
            due = origin + index / args.rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            sends.append(asyncio.create_task(send(index, due)))
        await asyncio.gather(*sends)
        sent_seconds = time.perf_counter() - wall_before
        want = sum(len(recipients) for recipients in expected.values())
        deadline = time.perf_counter() + args.drain

        def received() -> int:
            return sum(1 for sub in subscribers for note, _ in sub.arrivals if note in started)

        while received() < want and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        cpu_after = [cpu_seconds(instance.process.pid) for instance in instances if instance.process]
        wait_after = [waited_seconds(instance.process.pid) for instance in instances if instance.process]
        bench_wait, postgres_after = waited_seconds(os.getpid()) - bench_wait_before, postgres_seconds(database_name)
        bench_cpu = time.process_time() - bench_cpu_before
        measured_seconds = time.perf_counter() - wall_before
        load = os.getloadavg()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for poster in posters:
            poster.close()
    counts = Counter((note, sub.user_id) for sub in subscribers for note, _ in sub.arrivals if note in started)
    wanted = {(note, user) for note, recipients in expected.items() for user in recipients}
    latencies = [arrived - started[note] for sub in subscribers for note, arrived in sub.arrivals if note in started]
    notes = len(started)
    per_instance = [(after - before) for before, after in zip(cpu_before, cpu_after, strict=True)]
    return {
        "rate_target": args.rate,
        "seconds": args.seconds,
        "notes_written": notes,
        "rate_achieved": round(notes / max(sent_seconds, 1e-9), 1),
        "subscribers": len(subscribers),
        "mentions_per_note": args.mentions,
        "expected_deliveries": len(wanted),
        "deliveries": sum(counts.values()),
        "lost": len(wanted - set(counts)),
        "duplicated": sum(count - 1 for count in counts.values() if count > 1),
        "unexpected": len(set(counts) - wanted),
        "failed_writes": dict(failures),
        **latency_figures(latencies, digits=1),
        "send_lag_p99_ms": latency_figures(lags, digits=1)["p99_ms"],
        "server_cpu_ms_per_note": [round(cpu / max(notes / 2, 1) * 1000, 2) for cpu in per_instance],
        "server_cpu_cores": [round(cpu / max(sent_seconds, 1e-9), 2) for cpu in per_instance],
        # Seconds per second each gateway was runnable but waiting for a CPU (the other
        # processes of the machine had it): near its cores used or above, it is starved.
        "server_cpu_wait": [round((after - before) / max(measured_seconds, 1e-9), 2) for before, after in zip(wait_before, wait_after, strict=True)],
        "bench_cpu_cores": round(bench_cpu / max(sent_seconds, 1e-9), 2),
        "bench_cpu_wait": round(bench_wait / max(measured_seconds, 1e-9), 2),
        "postgres_cpu_cores": round((postgres_after[0] - postgres_before[0]) / max(measured_seconds, 1e-9), 2),
        "postgres_cpu_wait": round((postgres_after[1] - postgres_before[1]) / max(measured_seconds, 1e-9), 2),
        "http_connections": [poster.opened for poster in posters],
        "load_average_after": [round(value, 2) for value in load],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="notes per second, both instances together")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds at that rate")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds at that rate before measuring")
    parser.add_argument("--subscribers", type=int, default=200, help="WebSocket subscribers, half on each instance")
    parser.add_argument("--mentions", type=int, default=3, help="subscribers mentioned per note")
    parser.add_argument("--database-url", default=None, help="default: a fresh PostgreSQL database, dropped afterwards")
    parser.add_argument("--broker-url", default=REDIS_URL)
    parser.add_argument("--drain", type=float, default=10.0, help="seconds to wait for the last deliveries")
    parser.add_argument("--timeout", type=float, default=120.0, help="upper bound of the connecting phases, in seconds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--analyze", action=argparse.BooleanOptionalAction, default=True, help="ANALYZE the fresh database before the run")
    parser.add_argument("--profile", default=None, help="run each instance under cProfile (CPU time) and write its profile to PROFILE.0 / PROFILE.1")
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(run(args)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

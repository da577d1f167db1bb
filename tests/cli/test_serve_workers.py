"""``fiche serve --workers N``: how many workers each set-up gets, the refusal on the
in-memory broker, and N real worker processes on PostgreSQL + Redis that share live events
and stop together on SIGTERM."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fiche.cli import WorkersRefused, serve_workers
from fiche.settings import Settings
from tests.cli.processes import alive, connection_owner, worker_pids
from tests.plugins.notes.support import NOTE_CREATE
from tests.plugins.notes.test_live import live_subscription
from tests.plugins.notes.wsclient import WsClient
from tests.conftest import TEST_SECRET, Databases, _unavailable
from tests.support import REDIS_URL, TestOrg, free_port

REPO = Path(__file__).resolve().parents[2]
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/fiche"
SQLITE = "sqlite+aiosqlite:///./fiche.db"
REDIS = "redis://127.0.0.1:6379/0"


def settings_for(database_url: str, broker_url: str, workers: int = 0) -> Settings:
    return Settings(database_url=database_url, broker_url=broker_url, secret_key="x" * 40, workers=workers)


# ------------------------------------------------------------------ how many workers


def test_default_is_one_worker_per_core_with_redis_and_postgres() -> None:
    assert serve_workers(settings_for(POSTGRES, REDIS)) == os.cpu_count()


@pytest.mark.parametrize(("database_url", "broker_url"), [(SQLITE, "memory://"), (SQLITE, REDIS), (POSTGRES, "memory://")])
def test_default_is_one_worker_otherwise(database_url: str, broker_url: str) -> None:
    assert serve_workers(settings_for(database_url, broker_url)) == 1


def test_default_is_one_worker_under_reload() -> None:
    assert serve_workers(settings_for(POSTGRES, REDIS), reload=True) == 1


def test_the_flag_wins_over_the_setting() -> None:
    assert serve_workers(settings_for(POSTGRES, REDIS, workers=3), 2) == 2


def test_several_workers_are_allowed_on_sqlite_with_redis() -> None:
    assert serve_workers(settings_for(SQLITE, REDIS, workers=2)) == 2


@pytest.mark.parametrize(
    ("settings", "requested", "reload", "reason"),
    [
        (settings_for(POSTGRES, "memory://"), 2, False, "2 workers need a shared broker"),
        (settings_for(SQLITE, "memory://", workers=4), None, False, "4 workers need a shared broker"),
        (settings_for(POSTGRES, REDIS), -1, False, "0 (automatic) or more"),
        (settings_for(POSTGRES, REDIS), 2, True, "--reload runs one process"),
    ],
)
def test_impossible_worker_counts_are_refused(settings: Settings, requested: int | None, reload: bool, reason: str) -> None:
    with pytest.raises(WorkersRefused, match=re.escape(reason)):
        serve_workers(settings, requested, reload=reload)


@pytest.mark.parametrize(("argument", "environment"), [(["--workers", "2"], {}), ([], {"FICHE_WORKERS": "2"})])
def test_serve_refuses_several_workers_on_the_memory_broker(tmp_path: Path, argument: list[str], environment: dict[str, str]) -> None:
    # given
    env = dict(
        os.environ,
        FICHE_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/fiche.db",
        FICHE_BROKER_URL="memory://",
        FICHE_SECRET_KEY="x" * 40,
        **environment,
    )
    # when
    result = subprocess.run(
        [sys.executable, "-m", "fiche.cli", "serve", "--port", str(free_port()), *argument],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )
    # then: one clear line, nothing served, nothing created
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "fiche serve: 2 workers need a shared broker: with memory:// live events would not cross processes (set FICHE_BROKER_URL=redis://...)"
    ]
    assert result.stdout == ""
    assert not (tmp_path / "fiche.db").exists()


# ------------------------------------------------------------------ real workers


@pytest.fixture
def db_kind() -> str:
    return "postgres"


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        _unavailable("redis", exc)


@pytest.fixture
def broker_url() -> str:
    _require_redis()
    return REDIS_URL


@dataclasses.dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    workers: set[int]

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def connect(self) -> tuple[http.client.HTTPConnection, int]:
        """A new keep-alive connection and the worker that accepted it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.connect()
        return connection, self.owner(connection.sock.getsockname()[1])

    def owner(self, client_port: int) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            owner = connection_owner(self.port, client_port, self.workers)
            if owner is not None:
                return owner
            time.sleep(0.01)
        raise AssertionError(f"no worker accepted the connection from port {client_port}")


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@contextlib.contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """``fiche serve --workers 2`` in a subprocess, on the given database and broker."""
    port = free_port()
    env = dict(
        os.environ,
        FICHE_DATABASE_URL=settings.database_url,
        FICHE_BROKER_URL=settings.broker_url,
        FICHE_BROKER_NAMESPACE=settings.broker_namespace,
        FICHE_SECRET_KEY=settings.secret_key,
        FICHE_LOG_LEVEL="WARNING",
        FICHE_WORKERS="0",
    )
    command = [sys.executable, "-m", "fiche.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while not (len(worker_pids(process.pid)) == 2 and _ready(port)):
            assert process.poll() is None, f"fiche serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "fiche serve --workers 2 did not start"
            time.sleep(0.1)
        served = Served(process, port, worker_pids(process.pid))
        # /healthz answered by one worker says nothing of the other, which may still be
        # building its schema (the kernel then gives every connection to the first): wait
        # until each worker has accepted a connection.
        accepted: set[int] = set()
        while accepted != served.workers:
            assert time.monotonic() < deadline, f"only workers {accepted} of {served.workers} accept connections"
            connection, owner = served.connect()
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                accepted.add(owner)
            connection.close()
            time.sleep(0.05)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover - diagnostic
                process.kill()
                raise


NAMESPACE = f"fiche-test-workers-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The tests' in-process gateway publishes where the served workers listen."""
    return dataclasses.replace(settings, broker_namespace=NAMESPACE)


@pytest.fixture(scope="module")
def served(databases: Databases) -> Iterator[Served]:
    """One two-worker server for the module's tests that leave it running."""
    _require_redis()
    settings = Settings(
        database_url=databases.url("postgres"), broker_url=REDIS_URL, broker_namespace=NAMESPACE, secret_key=TEST_SECRET
    )
    with serving(settings) as server:
        yield server


def test_each_worker_answers_requests(served: Served) -> None:
    # when: new connections until each worker has accepted one (the kernel picks)
    answered: dict[int, int] = {}
    connections = []
    for _ in range(60):
        connection, owner = served.connect()
        connections.append(connection)
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        answered[owner] = response.status
        if len(answered) == 2:
            break
    for connection in connections:
        connection.close()
    # then
    assert answered == {pid: 200 for pid in served.workers}


async def test_a_subscriber_on_one_worker_receives_a_mention_written_through_the_other(org: TestOrg, served: Served) -> None:
    async with WsClient.connect(served.host, org.token("member")) as client:
        # given: a live subscription, held by one worker
        await live_subscription(org, client, "member")
        subscriber_worker = served.owner(client.socket.local_address[1])
        # when: the note is written through a connection the other worker accepted
        for _ in range(60):
            connection, writer_worker = served.connect()
            if writer_worker != subscriber_worker:
                break
            connection.close()
        else:
            raise AssertionError("every connection went to the subscriber's worker")
        body = json.dumps({"query": NOTE_CREATE, "variables": {"input": {"body": "@member écrit par l'autre worker"}}})
        headers = {"Authorization": f"Bearer {org.token('manager')}", "Content-Type": "application/json"}
        connection.request("POST", "/graphql", body=body, headers=headers)
        response = connection.getresponse()
        payload = json.loads(response.read())
        connection.close()
        note = payload["data"]["noteCreate"]["note"]["id"]
        received = (await client.next(timeout=5.0))["notifications"]
    # then
    assert served.workers == {subscriber_worker, writer_worker}
    assert (received["kind"], received["subject"]["id"]) == ("MENTION", note)


def test_sigterm_stops_every_worker(settings: Settings) -> None:
    with serving(settings) as server:
        # given
        workers = server.workers
        assert len(workers) == 2 and all(alive(pid) for pid in workers)
        # when
        server.process.send_signal(signal.SIGTERM)
        code = server.process.wait(timeout=30)
    # then
    assert code == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)

"""``fiche serve`` as operators run it, in a subprocess: with ``FICHE_LOG_JSON=1`` every
line it writes (its own, uvicorn's, the migrations') is one JSON object, and GraphQL
operations carry their context; with ``FICHE_LOG_JSON=0`` the lines are readable text."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fiche.cli import _report_demo, main
from fiche.logs import JsonFormatter
from fiche.settings import Settings
from tests.support import free_port

SECRET = "serve-test-secret-key-long-enough-for-hs256"
VIEWER = "query Viewer { viewer { user { handle } } }"
BROKEN = "query Broken { viewer { "
OPERATION_FIELDS = {"request_id", "operation_type", "operation_name", "user_id", "organization_id", "duration_ms", "outcome"}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "serve.db"
    monkeypatch.setenv("FICHE_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("FICHE_SECRET_KEY", SECRET)
    monkeypatch.setenv("FICHE_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def token(database: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A user's token in the served database (created before the server starts)."""
    assert main(["db", "upgrade"]) == 0
    assert main(["users", "create", "--org", "acme", "--create-org", "--name", "Ada", "--email", "ada@acme.example", "--handle", "ada", "--role", "admin"]) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


@dataclasses.dataclass
class Served:
    address: str
    lines: list[str] = dataclasses.field(default_factory=list)  # every line written, once stopped


@contextlib.contextmanager
def serve(log_json: bool) -> Iterator[Served]:
    """``fiche serve`` on a free port until the block ends (then interrupted like Ctrl+C)."""
    port = free_port()
    env = {**os.environ, "FICHE_LOG_JSON": "1" if log_json else "0", "FICHE_LOG_LEVEL": "INFO"}
    with subprocess.Popen(
        [sys.executable, "-m", "fiche.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        served = Served(f"http://127.0.0.1:{port}")
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None and time.monotonic() < deadline, "fiche serve did not start"
                try:
                    httpx.get(f"{served.address}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield served
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
            served.lines = [line for line in (stdout + stderr).splitlines() if line.strip()]


def run_requests(address: str, token: str) -> dict[str, httpx.Response]:
    with httpx.Client(base_url=address) as http:
        return {
            "ok": http.post("/graphql", json={"query": VIEWER}, headers={"Authorization": f"Bearer {token}", "X-Request-ID": "ok-1"}),
            "anonymous": http.post("/graphql", json={"query": VIEWER}, headers={"X-Request-ID": "anonymous-1"}),
            "broken": http.post("/graphql", json={"query": BROKEN}, headers={"X-Request-ID": "broken-1"}),
        }


def test_every_line_of_fiche_serve_is_a_json_object(token: str) -> None:
    # when
    with serve(log_json=True) as served:
        responses = run_requests(served.address, token)
    lines = served.lines
    # then
    assert responses["ok"].json() == {"data": {"viewer": {"user": {"handle": "ada"}}}}
    assert responses["ok"].headers["X-Request-ID"] == "ok-1"
    entries: list[dict[str, Any]] = [json.loads(line) for line in lines]  # raises on any other line
    assert all(isinstance(entry, dict) and {"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    assert any(entry["logger"] == "uvicorn.access" for entry in entries)
    assert any(entry["logger"] == "uvicorn.error" for entry in entries)
    operations = {entry["request_id"]: entry for entry in entries if entry["logger"] == "fiche.graphql"}
    assert all(OPERATION_FIELDS <= entry.keys() for entry in operations.values())
    assert operations["ok-1"]["outcome"] == "OK" and operations["ok-1"]["user_id"] is not None
    assert operations["ok-1"]["organization_id"] is not None and operations["ok-1"]["operation_name"] == "Viewer"
    assert operations["anonymous-1"]["outcome"] == "UNAUTHENTICATED" and operations["anonymous-1"]["user_id"] is None
    assert operations["broken-1"]["outcome"] == "GRAPHQL_PARSE_FAILED"
    assert not any("exception" in entry for entry in operations.values())


def test_fiche_serve_writes_text_lines_when_json_is_off(token: str) -> None:
    # when
    with serve(log_json=False) as served:
        run_requests(served.address, token)
    lines = served.lines
    # then
    assert lines
    for line in lines:
        with pytest.raises(json.JSONDecodeError):
            json.loads(line)
    assert any(re.search(r"INFO fiche\.graphql query Viewer OK .* request_id=ok-1", line) for line in lines)
    assert any(re.search(r"INFO uvicorn\.access .*\"POST /graphql HTTP/1\.1\" 200", line) for line in lines)


DEMO = types.SimpleNamespace(slug="demo", organization_id=7, tokens={"ada@demo.example": "token-of-ada"})


def test_serve_demo_reports_its_tokens_as_one_log_object_with_json_logs(capsys: pytest.CaptureFixture[str]) -> None:
    # given
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("fiche.cli")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        # when
        _report_demo(Settings(secret_key=SECRET, log_json=True), DEMO, url="http://127.0.0.1:8000")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    # then
    assert capsys.readouterr().out == ""
    [record] = records
    line = json.loads(JsonFormatter().format(record))
    assert line["tokens"] == {"ada@demo.example": "token-of-ada"}
    assert line["graphiql"] == "http://127.0.0.1:8000/graphql"


def test_serve_demo_prints_its_tokens_with_text_logs(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    _report_demo(Settings(secret_key=SECRET, log_json=False), DEMO, url="http://127.0.0.1:8000")
    # then
    out = capsys.readouterr().out
    assert "ada@demo.example" in out and "token-of-ada" in out

"""Drive the Node scripts of this folder (real clients nobody here wrote) as subprocesses:
JSON commands a line on their stdin, JSON events a line on their stdout. Shared by the
tests and by ``bench/graphql_ws_latency.py``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import redis.asyncio

__all__ = [
    "CHROMIUM",
    "CLIENTS_DIR",
    "NodeScript",
    "missing_prerequisites",
    "wait_until_subscribed",
]

CLIENTS_DIR = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"


def missing_prerequisites(*, browser: bool) -> list[str]:
    """What this machine lacks to run the real clients (empty when nothing)."""
    missing = []
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs)")
    if not (CLIENTS_DIR / "node_modules").is_dir():
        missing.append(f"{CLIENTS_DIR / 'node_modules'} (npm ci in tests/clients)")
    if browser and not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    return missing


class NodeScript:
    """One running ``node <script>``: send commands, read events."""

    def __init__(self, process: asyncio.subprocess.Process, name: str) -> None:
        self.process = process
        self.name = name
        self.seen: list[dict[str, Any]] = []
        self._stderr: list[str] = []
        self._stderr_task = asyncio.create_task(self._drain_stderr())

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, script: str, *args: str) -> AsyncIterator[NodeScript]:
        """Run ``node script args...`` in this folder; on exit, close its stdin (the script's
        cue to shut down cleanly) and wait for it, killing it when it hangs."""
        node = shutil.which("node")
        assert node is not None, "node is not installed"
        process = await asyncio.create_subprocess_exec(
            node,
            str(CLIENTS_DIR / script),
            *args,
            cwd=CLIENTS_DIR,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=2**22,
        )
        driver = cls(process, script)
        try:
            yield driver
        finally:
            await driver.stop()

    async def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self._stderr.append(line.decode(errors="replace"))

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    async def send(self, command: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        await self.process.stdin.drain()

    async def event(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next event the script printed; fails with its stderr when it printed none."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no event within {timeout}s; stderr:\n{self.stderr}") from None
        if not line:
            await asyncio.wait_for(self.process.wait(), 5)
            await self._stderr_task
            raise AssertionError(f"{self.name} exited ({self.process.returncode}) without an event; stderr:\n{self.stderr}")
        event = dict(json.loads(line))
        self.seen.append(event)
        return event

    async def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """The first next event that ``match`` accepts (the others are kept in :attr:`seen`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{self.name}: no matching event within {timeout}s; seen: {self.seen}")
            event = await self.event(remaining)
            if match(event):
                return event

    async def stop(self) -> None:
        assert self.process.stdin is not None
        if not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        await self._stderr_task


async def wait_until_subscribed(redis_url: str, channel: str, timeout: float = 10.0) -> None:
    """Return once some gateway holds a Redis subscription to ``channel``.

    A ``notifications`` subscription fixes "from now on" before it subscribes to the
    broker, so a notification committed after this returns is delivered to it."""
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(timeout):
            while True:
                counts = dict(await client.pubsub_numsub(channel))
                if counts.get(channel.encode(), 0) > 0:
                    return
                await asyncio.sleep(0.02)
    finally:
        await client.aclose()

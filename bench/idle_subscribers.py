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
import signal
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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def serve_traced(port: int, deflate: bool, report: str) -> None:
    """The server under tracemalloc: on SIGUSR1 it takes a snapshot (the first one is the
    baseline), on SIGUSR2 it writes where memory grew since, by file and line, to ``report``."""
    import signal
    import tracemalloc

    import uvicorn

    from fiche.cli import asgi_app

    tracemalloc.start(1)
    snapshots: list[Any] = []

    def take(*_: Any) -> None:
        snapshots.append(tracemalloc.take_snapshot())

    def write(*_: Any) -> None:
        after = tracemalloc.take_snapshot()
        noise = [tracemalloc.Filter(False, tracemalloc.__file__)]
        lines = []
        for key in ("filename", "lineno"):
            stats = after.filter_traces(noise).compare_to(snapshots[0].filter_traces(noise), key)
            lines.append(f"total {sum(stat.size_diff for stat in stats) / 1024:10.1f} KiB, by {key}:")
            lines += [f"{stat.size_diff / 1024:10.1f} KiB {stat.count_diff:8d}  {stat.traceback}" for stat in stats[:40]]
        Path(report).write_text("\n".join(lines) + "\n")

    signal.signal(signal.SIGUSR1, take)
    signal.signal(signal.SIGUSR2, write)
    from fiche.leanws import ws_protocol
    from fiche.settings import Settings

    layer = sys.argv[sys.argv.index("--ws-server") + 1] if "--ws-server" in sys.argv else "lean"
    ws = ws_protocol(Settings.from_env(ws_server=layer))
    uvicorn.run(asgi_app(), host="127.0.0.1", port=port, ws=ws, ws_per_message_deflate=deflate, log_level="warning")


def serve_profiled(port: int, deflate: bool, report: str) -> None:
    """The server under cProfile, profiling from SIGUSR1 to SIGUSR2 (the connecting phase),
    which writes the profile (``pstats``) to ``report``."""
    import cProfile
    import signal

    import uvicorn

    from fiche.cli import asgi_app
    from fiche.leanws import ws_protocol
    from fiche.settings import Settings

    profile = cProfile.Profile(time.process_time)  # CPU time: the clients share the cores

    def write(*_: Any) -> None:
        profile.disable()
        profile.dump_stats(report)

    signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
    signal.signal(signal.SIGUSR2, write)
    layer = sys.argv[sys.argv.index("--ws-server") + 1] if "--ws-server" in sys.argv else "lean"
    ws = ws_protocol(Settings.from_env(ws_server=layer))
    uvicorn.run(asgi_app(), host="127.0.0.1", port=port, ws=ws, ws_per_message_deflate=deflate, log_level="warning")


WS_LAYERS = {"lean": "fiche.leanws.protocol:LeanWebSocketProtocol", "asgi": "websockets-sansio"}


async def measure(
    url: str, tokens: list[str], deflate: bool, batch: int, trace: str | None = None, layer: str = "lean", profile: str | None = None
) -> dict[str, Any]:
    port = free_port()
    env = dict(os.environ, FICHE_DATABASE_URL=url, FICHE_SECRET_KEY=SECRET, FICHE_LOG_LEVEL="WARNING", FICHE_GC_TUNING="1")
    command = [
        sys.executable, "-m", "uvicorn", "fiche.cli:asgi_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
        "--ws", WS_LAYERS[layer], "--ws-per-message-deflate", str(deflate).lower(), "--log-level", "warning",
    ]
    if trace:
        command = [sys.executable, __file__, "--serve-traced", str(port), "--compression", "on" if deflate else "off", "--trace", trace, "--ws-server", layer]
    if profile:
        command = [sys.executable, __file__, "--serve-profiled", str(port), "--compression", "on" if deflate else "off", "--profile", profile, "--ws-server", layer]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    sockets: list[Any] = []
    try:
        host = f"127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=f"http://{host}") as client:
            for _ in range(1200):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        await subscribe(host, tokens[0], sockets)  # warm every code path once
        await asyncio.sleep(1)
        if trace or profile:
            server.send_signal(signal.SIGUSR1)
            await asyncio.sleep(2)
        before = rss_kib(server.pid)
        cpu_before = cpu_seconds(server.pid)
        started = time.perf_counter()
        for start in range(1, len(tokens), batch):
            await asyncio.gather(*(subscribe(host, token, sockets) for token in tokens[start : start + batch]))
        connect_seconds = time.perf_counter() - started
        # Wait until the server has started every subscription (it subscribes to the broker
        # and reads the inbox once for each), then let it settle.
        await asyncio.sleep(3)
        connect_cpu = cpu_seconds(server.pid) - cpu_before
        after = rss_kib(server.pid)
        if profile:
            Path(profile).unlink(missing_ok=True)
            server.send_signal(signal.SIGUSR2)
            for _ in range(600):
                if Path(profile).exists():
                    break
                await asyncio.sleep(0.5)
        if trace:
            report = Path(trace)
            report.unlink(missing_ok=True)
            server.send_signal(signal.SIGUSR2)
            for _ in range(600):
                if report.exists():
                    break
                await asyncio.sleep(0.5)
        count = len(tokens) - 1
        return {
            "per_message_deflate": deflate,
            "subscribers": count,
            "rss_before_kib": before,
            "rss_after_kib": after,
            "kib_per_subscriber": round((after - before) / count, 1),
            "connect_seconds": round(connect_seconds, 2),
            "connects_per_s": round(count / connect_seconds, 1),
            # Server CPU of connection_init + subscribe per socket, and the rate it allows.
            "server_cpu_ms_per_connect": round(connect_cpu / count * 1000, 3),
            "connects_per_cpu_second": round(count / connect_cpu, 1) if connect_cpu else None,
        }
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50, help="connections opened at once")
    parser.add_argument("--compression", choices=("off", "on", "both"), default="both", help="WebSocket per-message compression of the server")
    parser.add_argument("--trace", default=None, help="run the server under tracemalloc and write where the memory went to this file")
    parser.add_argument("--ws-server", choices=("lean", "asgi", "both"), default="both", help="the server's WebSocket layer (FICHE_WS_SERVER)")
    parser.add_argument("--profile", default=None, help="run the server under cProfile while the clients connect and write the profile (pstats) to this file")
    parser.add_argument("--serve-traced", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-profiled", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    modes = {"off": (False,), "on": (True,), "both": (False, True)}[args.compression]
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/idle.db"
        tokens = await prepare(url, args.subscribers)
        layers = ("lean", "asgi") if args.ws_server == "both" else (args.ws_server,)
        runs = [{"ws_server": layer, **await measure(url, tokens, deflate, args.batch, args.trace, layer, args.profile)} for layer in layers for deflate in modes]
    print(json.dumps({"runs": runs, "database": "sqlite", "broker": "memory"}, indent=2))


if __name__ == "__main__":
    if "--serve-traced" in sys.argv:  # the server process of --trace (no event loop yet)
        serve_traced(int(sys.argv[sys.argv.index("--serve-traced") + 1]), sys.argv[sys.argv.index("--compression") + 1] == "on", sys.argv[sys.argv.index("--trace") + 1])
    elif "--serve-profiled" in sys.argv:  # the server process of --profile
        serve_profiled(int(sys.argv[sys.argv.index("--serve-profiled") + 1]), sys.argv[sys.argv.index("--compression") + 1] == "on", sys.argv[sys.argv.index("--profile") + 1])
    else:
        asyncio.run(main())

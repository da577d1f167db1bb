"""Which process serves what, read from ``/proc`` (Linux): the workers of a ``fiche serve
--workers N`` supervisor, and which of them holds the server side of a TCP connection."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["alive", "connection_owner", "worker_pids"]


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children.extend(int(child) for child in (task / "children").read_text().split())
    return children


def alive(pid: int) -> bool:
    """Running (an exited process waiting to be reaped counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in {"Z", "X"}


def worker_pids(supervisor: int) -> set[int]:
    """The supervisor's living worker processes (started by multiprocessing's spawn)."""
    workers = set()
    for child in _children(supervisor):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command and alive(child):
            workers.add(child)
    return workers


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the loopback connection ``client_port`` -> ``server_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
        if local_port == server_port and remote_port == client_port and fields[9] != "0":
            return fields[9]
    return None


def connection_owner(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` has accepted the connection from ``client_port`` (None: none yet)."""
    inode = _socket_inode(server_port, client_port)
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) == target:
                    return pid
            except FileNotFoundError:
                continue
    return None

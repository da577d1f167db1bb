"""Storage of uploaded files behind a small interface (replaceable by the ``file_storage``
hook); the default keeps them in a local directory."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol

__all__ = ["FileStorage", "LocalFileStorage"]


class FileStorage(Protocol):
    async def save(self, data: bytes, *, suffix: str = "") -> str:
        """Store ``data`` and return its opaque key."""

    async def read(self, key: str) -> bytes:
        """The bytes stored under ``key``; raises ``FileNotFoundError``."""

    async def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is already gone."""


class LocalFileStorage:
    """Files in a directory, named by random keys (never by client-supplied names)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise FileNotFoundError(key)
        return self.root / key

    async def save(self, data: bytes, *, suffix: str = "") -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        clean_suffix = "".join(ch for ch in suffix if ch.isalnum() or ch == ".")[:10]
        key = uuid.uuid4().hex + clean_suffix
        temporary = self._path(key).with_suffix(".part")
        temporary.write_bytes(data)
        temporary.replace(self._path(key))
        return key

    async def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    async def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

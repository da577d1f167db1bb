"""Documents attached to a customer (C9): upload limits, storage and metadata.

The bytes go to the file storage (``context.app.storage``, replaceable through the
``file_storage`` hook), under a random key; the table keeps the metadata. Files of deleted
rows are removed from the storage once the transaction has committed (the caller
schedules it), so a rolled-back deletion never loses a file.
"""

from __future__ import annotations

import inspect
import os
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import ErrorCode, UserErrors
from gateway.storage import FileStorage
from plugins.customers import models

__all__ = ["Readable", "clean_filename", "delete_document", "get_document", "read_limited", "store_document"]

CHUNK = 64 * 1024


class Readable(Protocol):
    """What an uploaded file offers (Starlette's ``UploadFile``)."""

    filename: str | None
    content_type: str | None

    def read(self, size: int = -1) -> Any: ...


async def read_limited(upload: Readable, limit: int, *path: str) -> bytes:
    """The upload's bytes; LIMIT_EXCEEDED as soon as more than ``limit`` were read."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = upload.read(CHUNK)
        if inspect.isawaitable(chunk):
            chunk = await chunk
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"The file is larger than the limit of {limit} bytes.", *path)
        chunks.append(chunk)
    return b"".join(chunks)


def clean_filename(name: str | None) -> str:
    """The last path component, without control characters, at most 255 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not base:
        return "document"
    stem, dot, extension = base.rpartition(".")
    if len(base) > 255:
        base = (stem[: 250 - len(extension)] + dot + extension) if dot and len(extension) <= 10 else base[:255]
    return base


def content_type_of(upload: Readable) -> str:
    return (upload.content_type or "application/octet-stream").split(";", 1)[0].strip().lower()


def check_type(content_type: str, allowed: Sequence[str], *path: str) -> None:
    if content_type not in {kind.lower() for kind in allowed}:
        raise UserErrors.invalid(
            f"Files of type {content_type} are not accepted (accepted: {', '.join(allowed)}).", *path
        )


async def store_document(
    session: AsyncSession,
    storage: FileStorage,
    customer_id: int,
    upload: Readable,
    *,
    max_bytes: int,
    allowed_types: Sequence[str],
    path: Sequence[str] = ("input", "file"),
) -> models.CustomerDocument:
    content_type = content_type_of(upload)
    check_type(content_type, allowed_types, *path)
    data = await read_limited(upload, max_bytes, *path)
    if not data:
        raise UserErrors.invalid("The file is empty.", *path)
    filename = clean_filename(upload.filename)
    _, dot, extension = filename.rpartition(".")
    key = await storage.save(data, suffix=f".{extension}" if dot else "")
    document = models.CustomerDocument(
        customer_id=customer_id, filename=filename, content_type=content_type, size=len(data), storage_key=key
    )
    session.add(document)
    try:
        await session.flush()
    except BaseException:
        await storage.delete(key)
        raise
    return document


async def get_document(session: AsyncSession, pk: int, *path: str) -> models.CustomerDocument:
    document = await session.scalar(select(models.CustomerDocument).where(models.CustomerDocument.id == pk))
    if document is None:
        raise UserErrors.not_found("No document with this ID.", *path)
    return document


async def delete_document(session: AsyncSession, document: models.CustomerDocument) -> str:
    """Delete the row; returns the storage key to remove after the commit."""
    key = document.storage_key
    await session.delete(document)
    await session.flush()
    return key

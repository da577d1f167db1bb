"""Uploaded files, for every plugin that keeps some: accepting an upload against the
gateway's limits, and the authenticated, tenant-checked download route.

The bytes live in the file storage (``context.app.storage``, replaceable through the
``file_storage`` hook) under a random key; each plugin keeps the metadata in its own table.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fiche.auth import Viewer, authenticate_token, bearer_token
from fiche.errors import ErrorCode, UserErrors, once_more_if_stale
from fiche.relay import InvalidID, decode_id
from fiche.settings import Settings

if TYPE_CHECKING:
    from fiche.context import OperationContext

__all__ = [
    "AcceptedFile",
    "StoredFile",
    "accept_upload",
    "clean_filename",
    "content_disposition",
    "download_headers",
    "download_route",
    "error_response",
    "remove_after_commit",
    "store_for_transaction",
    "store_upload_for_transaction",
    "viewer_and_pk",
]

CHUNK = 64 * 1024
DOWNLOAD_CHUNK = 256 * 1024


class Readable(Protocol):
    """What an uploaded file offers (Starlette's ``UploadFile``)."""

    filename: str | None
    content_type: str | None

    def read(self, size: int = -1) -> Any: ...


@dataclasses.dataclass(frozen=True, slots=True)
class AcceptedFile:
    data: bytes
    filename: str
    content_type: str

    @property
    def suffix(self) -> str:
        _, dot, extension = self.filename.rpartition(".")
        return f".{extension}" if dot else ""


def clean_filename(name: str | None, default: str = "file") -> str:
    """The last path component of a client-given name, without control characters, at
    most 255 characters (it is only ever shown back, never used as a storage path)."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().lstrip(".")
    if not base:
        return default
    stem, dot, extension = base.rpartition(".")
    if len(base) > 255:
        base = (stem[: 250 - len(extension)] + dot + extension) if dot and len(extension) <= 10 else base[:255]
    return base


async def _read_limited(upload: Readable, limit: int, path: Sequence[str]) -> bytes:
    """The upload's bytes; LIMIT_EXCEEDED as soon as more than ``limit`` were read."""
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = upload.read(CHUNK)
        if inspect.isawaitable(chunk):
            chunk = await chunk
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > limit:
            raise UserErrors.one(ErrorCode.LIMIT_EXCEEDED, f"The file is larger than the limit of {limit} bytes.", *path)
        chunks.append(chunk)


async def accept_upload(upload: Any, settings: Settings, *path: str, default_name: str = "file") -> AcceptedFile:
    """The upload (Starlette's ``UploadFile``, see :class:`Readable`), checked against the accepted content types (INVALID), the size limit
    (LIMIT_EXCEEDED, without reading past it) and emptiness (INVALID)."""
    content_type = (upload.content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    allowed = {kind.lower() for kind in settings.allowed_upload_types}
    if content_type not in allowed:
        raise UserErrors.invalid(
            f"Files of type {content_type} are not accepted (accepted: {', '.join(settings.allowed_upload_types)}).", *path
        )
    data = await _read_limited(upload, settings.max_upload_bytes, path)
    if not data:
        raise UserErrors.invalid("The file is empty.", *path)
    return AcceptedFile(data=data, filename=clean_filename(upload.filename, default_name), content_type=content_type)


async def store_for_transaction(context: OperationContext, data: bytes, *, suffix: str = "") -> str:
    """Store ``data`` for a row the operation's write transaction is adding; returns its
    storage key. Unless the transaction commits, the file is deleted again (a rollback, a
    failed commit, a CONFLICT), so a stored file never outlives the row meant to name it."""
    storage = context.app.storage
    key = await storage.save(data, suffix=suffix)

    async def remove() -> None:
        await storage.delete(key)

    context.on_rollback(remove)
    return key


async def store_upload_for_transaction(context: OperationContext, accepted: AcceptedFile) -> dict[str, Any]:
    """Store an accepted upload as :func:`store_for_transaction` does; returns the columns
    of a file row (``filename``, ``content_type``, ``size``, ``storage_key``)."""
    key = await store_for_transaction(context, accepted.data, suffix=accepted.suffix)
    return {"filename": accepted.filename, "content_type": accepted.content_type, "size": len(accepted.data), "storage_key": key}


def remove_after_commit(context: OperationContext, keys: Sequence[str]) -> None:
    """Delete stored files once the operation's transaction has committed: a rolled-back
    deletion never loses a file (the worst case is an orphan file, never a dangling row)."""
    storage = context.app.storage
    pending = list(keys)
    if not pending or storage is None:
        return

    async def remove() -> None:
        for key in pending:
            await storage.delete(key)

    context.after_commit(remove)


@dataclasses.dataclass(frozen=True, slots=True)
class StoredFile:
    filename: str
    content_type: str
    storage_key: str


def error_response(status: int, message: str) -> JSONResponse:
    """A download route's error: ``{"error": message}`` with ``status``."""
    return JSONResponse({"error": message}, status_code=status)


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """A ``Content-Disposition`` header naming ``filename`` (RFC 6266: an ASCII fallback and
    the UTF-8 name)."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def viewer_and_pk(request: Request, type_name: str) -> tuple[Viewer, int] | Response:
    """The authenticated viewer of a download request and the primary key of its ``{id}``
    path parameter (a global ID of ``type_name``); or the error response: 401 without a
    valid bearer token, 404 for an ID that is not of ``type_name``."""
    state = request.app.state.fiche
    token = bearer_token(request.headers.get("authorization"))
    viewer = await once_more_if_stale(lambda: authenticate_token(state.pm, state.settings, state.db, token))
    if viewer is None:
        return error_response(401, "Authentication required: send `Authorization: Bearer <token>`.")
    try:
        _, pk = decode_id(request.path_params["id"], type_name)
    except InvalidID:
        return error_response(404, f"No such {type_name}.")
    return viewer, pk


def download_headers(filename: str, disposition: str = "attachment") -> dict[str, str]:
    """The headers of every authenticated download: its name, no content sniffing, no
    shared caching."""
    return {
        "Content-Disposition": content_disposition(filename, disposition),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


FileFinder = Callable[[AsyncSession, Viewer, int], Awaitable[StoredFile | None]]


def download_route(path: str, type_name: str, find: FileFinder, *, disposition: str = "attachment") -> Route:
    """``GET path`` (with an ``{id}`` global ID of ``type_name``) downloads a stored file.

    Authenticated like ``/graphql`` (``Authorization: Bearer``); ``find(session, viewer,
    pk)`` runs in a session scoped to the viewer's organisation, so another organisation's
    file answers 404 exactly like a missing one, and may check the viewer's role (None for
    a file the viewer may not read: 404 too). ``disposition`` is ``"inline"`` for files a
    browser should show (pictures)."""
    missing = f"No such {type_name}."

    async def download(request: Request) -> Response:
        state = request.app.state.fiche
        asked = await viewer_and_pk(request, type_name)
        if isinstance(asked, Response):
            return asked
        viewer, pk = asked
        async with state.db.reader(viewer.organization_id) as session:
            stored = await find(session, viewer, pk)
        if stored is None:
            return error_response(404, missing)
        try:
            data = await state.storage.read(stored.storage_key)
        except FileNotFoundError:
            return error_response(404, missing)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(data), DOWNLOAD_CHUNK):
                yield data[start : start + DOWNLOAD_CHUNK]

        return StreamingResponse(
            chunks(),
            media_type=stored.content_type,
            headers={**download_headers(stored.filename, disposition), "Content-Length": str(len(data))},
        )

    return Route(path, download, methods=["GET"])

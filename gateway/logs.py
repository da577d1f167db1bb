"""Logging: one JSON object per line (``FICHE_LOG_JSON=1``) or readable text, for the
gateway, the libraries it uses and uvicorn alike; and the request id that ties an HTTP
request or a WebSocket connection to its log lines.

Structured fields travel in ``extra={"fields": {...}}``: the JSON formatter merges them
into the object, the text formatter appends them as ``key=value``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

import orjson
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fiche.settings import Settings

__all__ = [
    "REQUEST_ID_HEADER",
    "request_id_for",
    "AccessFields",
    "JsonFormatter",
    "RequestId",
    "TextFormatter",
    "configure_logging",
    "formatter",
    "request_id_of",
    "uvicorn_log_config",
]

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is echoed into logs and headers: keep it short and printable.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's fields and,
    for an unexpected error, its exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """The classic line, with the record's fields as ``key=value`` after the message."""

    def __init__(self) -> None:
        super().__init__(_TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items() if value is not None)
        return line


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.log_json else TextFormatter()


def configure_logging(settings: Settings, *, root: bool = False) -> None:
    """Send the ``fiche`` loggers (with ``root=True``: every logger, as ``fiche serve``
    does) to stderr in the configured format and level. Idempotent."""
    logger = logging.getLogger() if root else logging.getLogger("fiche")
    if getattr(logger, "_fiche_configured", False):
        return
    if root:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(settings))
    logger.addHandler(handler)
    logger.setLevel(settings.log_level.upper())
    if root:
        logging.captureWarnings(True)
        # Alembic narrates every plugin it sets up at INFO: one line per migration step is
        # what an operator wants from `fiche serve`, not a page of start-up chatter.
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
        fiche = logging.getLogger("fiche")
        for handler in list(fiche.handlers):
            fiche.removeHandler(handler)
        fiche.propagate = True
        fiche._fiche_configured = True  # type: ignore[attr-defined]
    else:
        logger.propagate = False
    logger._fiche_configured = True  # type: ignore[attr-defined]


class AccessFields(logging.Filter):
    """Gives uvicorn's access lines their parts as fields (client, method, path, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, http_version, status = args
            record.fields = {"client": client, "method": method, "path": path, "http_version": http_version, "status": status}
        return True


def uvicorn_log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's ``log_config``: its error and access loggers write through the root
    handler set up by :func:`configure_logging`, so they share the gateway's format."""
    loggers: dict[str, Any] = {
        name: {"handlers": [], "propagate": True, "level": settings.log_level.upper()}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    config: dict[str, Any] = {"version": 1, "disable_existing_loggers": False, "loggers": loggers}
    if settings.log_json:  # the text line already reads as these fields
        config["filters"] = {"access_fields": {"()": AccessFields}}
        loggers["uvicorn.access"]["filters"] = ["access_fields"]
    return config


def request_id_of(scope: Scope) -> str | None:
    """The id :class:`RequestId` gave this request or WebSocket connection."""
    state = scope.get("state")
    return state.get("request_id") if isinstance(state, dict) else None


def request_id_for(incoming: str) -> str:
    """A connection's request id: the client's ``X-Request-ID`` when sensible, else a new one."""
    return incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestId:
    """Gives each HTTP request and WebSocket connection an id: the client's
    ``X-Request-ID`` when it sends a sensible one, else a new one. The id is kept in
    ``scope["state"]`` for the operation log and returned in the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = next((value for key, value in scope["headers"] if key == b"x-request-id"), b"").decode("latin-1")
        request_id = request_id_for(incoming)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)

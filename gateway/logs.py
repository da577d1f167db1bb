"""Structured logging: one JSON object per line (or plain text), level from settings."""

from __future__ import annotations

import datetime as dt
import logging

import orjson

from gateway.settings import Settings

__all__ = ["configure_logging"]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger("fiche")
    if getattr(root, "_fiche_configured", False):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if settings.log_json else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    root.propagate = False
    root._fiche_configured = True  # type: ignore[attr-defined]

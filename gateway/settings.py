"""Settings: every knob of the gateway, read from ``FICHE_*`` environment variables.

The defaults run with no set-up at all: a SQLite file in the working directory, the
in-memory broker, a secret key generated once and kept beside the database.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["Settings", "SETTINGS_DOC"]


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """The gateway's configuration. Build it with :meth:`from_env` or directly in tests."""

    database_url: str = "sqlite+aiosqlite:///./fiche.db"
    broker_url: str = "memory://"
    broker_namespace: str = "fiche"
    secret_key: str = ""
    token_ttl_seconds: int = 30 * 24 * 3600
    debug: bool = False
    introspection: bool = True
    allowed_origins: tuple[str, ...] = ()
    disabled_plugins: tuple[str, ...] = ()
    max_query_depth: int = 12
    max_query_tokens: int = 4000
    max_aliases: int = 30
    max_query_cost: int = 50_000
    default_page_size: int = 20
    max_page_size: int = 100
    max_upload_bytes: int = 10 * 1024 * 1024
    allowed_upload_types: tuple[str, ...] = (
        "application/pdf",
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/plain",
        "text/csv",
    )
    upload_dir: str = "./uploads"
    log_level: str = "INFO"
    log_json: bool = True
    public_url: str = "http://127.0.0.1:8000"
    gc_tuning: bool = True
    ws_compression: bool = False
    ws_server: str = "lean"  # measured at 10,000 sockets against "asgi": bench/RESULTS.md
    max_subscriptions_per_user: int = 100
    notification_resync_seconds: int = 5
    workers: int = 0
    executor: str = "breadth"
    metrics: bool = False
    trusted_documents: str = ""
    # Customer insights and the report assistant (A6, A7): ``offline`` (built in, nothing
    # leaves the process) or ``openai`` (any OpenAI-compatible chat-completions endpoint).
    ai_provider: str = "offline"
    ai_url: str = ""
    ai_model: str = ""
    ai_api_key: str = ""
    ai_timeout_ms: int = 10_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read ``FICHE_<FIELD>`` for every field; ``overrides`` win over the environment."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = env.get(f"FICHE_{field.name.upper()}")
            if raw is None:
                continue
            default = field.default
            if isinstance(default, bool):
                values[field.name] = _bool(raw)
            elif isinstance(default, int):
                values[field.name] = int(raw)
            elif isinstance(default, tuple):
                values[field.name] = _list(raw)
            else:
                values[field.name] = raw
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            settings = dataclasses.replace(settings, secret_key=settings._local_secret())
        return settings

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def _local_secret(self) -> str:
        """A secret generated on first use and kept in ``fiche.secret`` beside a SQLite file.

        Only the embedded set-up gets one: a PostgreSQL deployment must set
        ``FICHE_SECRET_KEY`` so that every gateway instance signs the same tokens.
        """
        if not self.is_sqlite:
            raise RuntimeError("FICHE_SECRET_KEY must be set when the database is not SQLite")
        database = self.database_url.split("///", 1)[-1]
        folder = Path(database).parent if database and ":memory:" not in database else Path(".")
        path = folder / "fiche.secret"
        if path.exists():
            return path.read_text().strip()
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


SETTINGS_DOC: dict[str, str] = {
    "database_url": "SQLAlchemy URL: `sqlite+aiosqlite:///path.db` or `postgresql+asyncpg://user@host/db`.",
    "broker_url": "`memory://` (one process) or `redis://host:6379/0` (several gateway instances).",
    "broker_namespace": "Prefix of every broker channel, so several deployments can share one Redis.",
    "secret_key": "Key that signs bearer tokens (HS256). Generated into `fiche.secret` for SQLite when unset; required otherwise.",
    "token_ttl_seconds": "Lifetime of tokens printed by `fiche token` and `fiche demo`.",
    "debug": "`1` shows real error messages to clients; otherwise unexpected errors are masked.",
    "introspection": "`0` refuses introspection queries (`__schema`, `__type`; code `INTROSPECTION_DISABLED`) and cuts \"Did you mean ...?\" suggestions from error messages.",
    "allowed_origins": "Comma-separated origins allowed by CORS and by the WebSocket origin check, or `*`.",
    "disabled_plugins": "Comma-separated plugin names to leave out (built-in or installed).",
    "max_query_depth": "Deepest selection nesting accepted.",
    "max_query_tokens": "Most lexical tokens accepted in one document.",
    "max_aliases": "Most aliases accepted in one operation.",
    "max_query_cost": "Largest cost accepted: the most objects an operation may return, computed before it runs (see *Query cost*).",
    "default_page_size": "Page size when `first` is not given.",
    "max_page_size": "Largest `first` accepted on any connection.",
    "max_upload_bytes": "Largest uploaded file accepted.",
    "allowed_upload_types": "Comma-separated content types accepted for uploads.",
    "upload_dir": "Directory of the default local file storage.",
    "log_level": "Python logging level.",
    "log_json": "`1` writes one JSON object per log line (every line of `fiche serve`, uvicorn's included); `0` readable text.",
    "public_url": "Base URL printed by `fiche demo` and used in notification deep links.",
    "max_subscriptions_per_user": "Most subscriptions one user may have open at once, over all their sockets and every gateway instance (code `TOO_MANY_SUBSCRIPTIONS` past it).",
    "notification_resync_seconds": "How often each gateway reads the last notification number of the users it serves live, to deliver from the inbox a notification that committed but whose broker message never went out (its gateway killed between the commit and the publish); such a notification arrives within two periods. `0` turns it off.",
    "ws_compression": "`1` offers WebSocket per-message compression (about 40 kB more server memory per connected socket).",
    "ws_server": "`lean` answers `graphql-transport-ws` on `/graphql` in Fiche's own uvicorn WebSocket protocol (no task per idle socket, about half the memory); `asgi` sends every WebSocket through uvicorn's protocol and the ASGI app. `graphql-ws`, other paths, a refused `Origin`, compression and tracing always take the ASGI path.",
    "workers": "Worker processes of `fiche serve` (`--workers`); `0`: one per core with a Redis broker and PostgreSQL, one otherwise. Several need a shared broker; on SQLite they share one writer.",
    "executor": "`breadth` resolves each field once for all the objects at its position; `graphql-core` uses graphql-core's per-object executor.",
    "metrics": "`1` serves Prometheus metrics on `GET /metrics` (requests, operations, SQL statements, WebSockets, notifications, broker, pool); keep that path off the public network.",
    "trusted_documents": "Path of a trusted-documents manifest (Apollo's `persisted-query-manifest.json` or `{id: document}`): only its documents run, sent by ID or as their exact text; anything else gets `DOCUMENT_NOT_TRUSTED`.",
    "gc_tuning": "`1` freezes start-up objects and raises the garbage collector's thresholds in `fiche serve`.",
}

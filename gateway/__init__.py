"""Fiche: the host that assembles one GraphQL schema from fiche.plugins.

This package is the public API for plugin authors: everything a plugin needs is
re-exported here, so a partner's plugin imports only ``fiche`` (``from fiche import
hookimpl, TypeExtension, ...``). The hook specifications live in :mod:`fiche.hookspecs`;
the built-in plugins are :mod:`fiche.plugins`.

The re-exports are resolved on first use (PEP 562), so ``import fiche`` stays cheap and
the host's own modules can import the hook markers from here without import cycles.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from fiche.context import OperationContext
    from fiche.db import AuditMixin, Base, TenantMixin, UTCDateTime, utcnow
    from fiche.directory import CustomerLocation, customer_branches, customer_locations
    from fiche.errors import ErrorCode, PublicError, UserError, UserErrors
    from fiche.files import accept_upload, remove_after_commit
    from fiche.notifications.kinds import NotificationKind
    from fiche.notifications.service import notify, recipients_of, retarget, withdraw
    from fiche.relay import Connection, InvalidID, Node, decode_id, decode_input, encode_id, input_pk, load_input_row, paginate
    from fiche.schema import SUBJECT_TYPES, TypeExtension
    from fiche.timeline import TimelineEntry, TimelineFilter, latest_per_location

__all__ = [
    "PROJECT_NAME",
    "SUBJECT_TYPES",
    "AuditMixin",
    "Base",
    "Connection",
    "CustomerLocation",
    "ErrorCode",
    "InvalidID",
    "Node",
    "NotificationKind",
    "OperationContext",
    "PublicError",
    "TenantMixin",
    "TimelineEntry",
    "TimelineFilter",
    "TypeExtension",
    "UTCDateTime",
    "UserError",
    "UserErrors",
    "__version__",
    "accept_upload",
    "customer_branches",
    "customer_locations",
    "decode_id",
    "decode_input",
    "encode_id",
    "hookimpl",
    "hookspec",
    "input_pk",
    "latest_per_location",
    "load_input_row",
    "notify",
    "paginate",
    "recipients_of",
    "remove_after_commit",
    "retarget",
    "utcnow",
    "withdraw",
]

PROJECT_NAME = "fiche"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# Where each public name lives (module relative to this package).
_PUBLIC: dict[str, str] = {
    "OperationContext": "context",
    **dict.fromkeys(["AuditMixin", "Base", "TenantMixin", "UTCDateTime", "utcnow"], "db"),
    **dict.fromkeys(["CustomerLocation", "customer_branches", "customer_locations"], "directory"),
    **dict.fromkeys(["ErrorCode", "PublicError", "UserError", "UserErrors"], "errors"),
    **dict.fromkeys(["accept_upload", "remove_after_commit"], "files"),
    "NotificationKind": "notifications.kinds",
    **dict.fromkeys(["notify", "recipients_of", "retarget", "withdraw"], "notifications.service"),
    **dict.fromkeys(
        ["Connection", "InvalidID", "Node", "decode_id", "decode_input", "encode_id", "input_pk", "load_input_row", "paginate"],
        "relay",
    ),
    **dict.fromkeys(["SUBJECT_TYPES", "TypeExtension"], "schema"),
    **dict.fromkeys(["TimelineEntry", "TimelineFilter", "latest_per_location"], "timeline"),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("fiche")
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'fiche' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""Fiche's gateway: the host that assembles one GraphQL schema from plugins.

Plugins mark their hook implementations with :data:`hookimpl`; the specifications live in
:mod:`gateway.hookspecs`.
"""

from __future__ import annotations

import pluggy

__all__ = ["PROJECT_NAME", "hookimpl", "hookspec"]

PROJECT_NAME = "fiche"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

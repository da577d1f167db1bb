"""The plugin manager factory: built-in plugins, then installed ones, minus disabled ones."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType

import pluggy

from fiche import PROJECT_NAME, hookspecs
from fiche.settings import Settings

__all__ = ["BUILTIN_PLUGINS", "CORE_PLUGINS", "ENTRY_POINT_GROUP", "get_plugin_manager", "plugin_names"]

ENTRY_POINT_GROUP = "fiche.plugins"

# The gateway's own features, registered like plugins but never disabled.
CORE_PLUGINS: tuple[tuple[str, str], ...] = (
    ("core", "fiche.core_hooks"),
    ("accounts", "fiche.accounts.hooks"),
    ("notifications", "fiche.notifications.hooks"),
)

# Domain plugins shipped with Fiche, in dependency order (seed_demo runs in this order).
BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("customers", "fiche.plugins.customers.hooks"),
    ("notes", "fiche.plugins.notes.hooks"),
    ("activities", "fiche.plugins.activities.hooks"),
    ("interventions", "fiche.plugins.interventions.hooks"),
    ("billing", "fiche.plugins.billing.hooks"),
)


def _available(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


def get_plugin_manager(settings: Settings, extra: Iterable[tuple[str, ModuleType | object]] = ()) -> pluggy.PluginManager:
    """A new plugin manager for ``settings``. ``extra`` registers more plugins (tests).

    Raises ``ValueError`` when ``settings.disabled_plugins`` names a core feature."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    disabled = set(settings.disabled_plugins)
    # pm.set_blocked would silently unregister a core feature the rest of the gateway needs.
    core = disabled.intersection(name for name, _ in CORE_PLUGINS)
    if core:
        raise ValueError(f"core features cannot be disabled: {', '.join(sorted(core))}")
    for name, module_name in CORE_PLUGINS:
        pm.register(importlib.import_module(module_name), name=name)
    for name in disabled:
        pm.set_blocked(name)
    for name, module_name in BUILTIN_PLUGINS:
        if name not in disabled and _available(module_name):
            pm.register(importlib.import_module(module_name), name=name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for name, plugin in extra:
        if name not in disabled:
            pm.register(plugin, name=name)
    pm.check_pending()
    return pm


def plugin_names(pm: pluggy.PluginManager) -> list[str]:
    """Registered plugin names in registration order."""
    return [name for name, plugin in pm.list_name_plugin() if plugin is not None]

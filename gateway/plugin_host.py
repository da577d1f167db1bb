"""The plugin manager factory: built-in plugins, then installed ones, minus disabled ones.

A plugin says which Fiche versions it supports, and the host refuses one that does not
support the running Fiche (:class:`IncompatiblePlugin`) rather than fail later in a
resolver or a migration. The declaration is read from, in order:

1. ``FICHE_REQUIRES = ">=0.2,<1"`` in the module registered as the plugin (its hooks
   module): it travels with the code, so it also holds for a plugin installed with
   ``--no-deps``, in editable mode, or registered without a distribution at all;
2. the ``fiche`` requirement of the plugin's distribution (``Requires-Dist: fiche>=0.2,<1``
   from ``dependencies = ["fiche>=0.2,<1"]``), which pip checks at install time but only
   warns about when Fiche is upgraded later.

A plugin that declares neither is loaded (built-in plugins follow Fiche's own version).
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from fiche import PROJECT_NAME, hookspecs
from fiche.settings import Settings

__all__ = [
    "BUILTIN_PLUGINS",
    "CORE_PLUGINS",
    "ENTRY_POINT_GROUP",
    "FichePluginManager",
    "IncompatiblePlugin",
    "PluginInfo",
    "fiche_version",
    "get_plugin_manager",
    "plugin_infos",
    "plugin_names",
    "required_fiche",
]

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


class IncompatiblePlugin(RuntimeError):
    """A plugin does not support the running Fiche version (or declares it unreadably)."""


def fiche_version() -> str:
    return importlib.metadata.version(PROJECT_NAME)


def _distribution_requirement(dist: importlib.metadata.Distribution | None) -> str | None:
    for line in (dist.requires or []) if dist is not None else []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.name.lower() == PROJECT_NAME and (requirement.marker is None or requirement.marker.evaluate({"extra": ""})):
            return str(requirement.specifier)
    return None


def required_fiche(plugin: object, dist: importlib.metadata.Distribution | None = None) -> tuple[str | None, str]:
    """The Fiche versions ``plugin`` supports and where that was read (see the module)."""
    declared = getattr(plugin, "FICHE_REQUIRES", None)
    if declared is not None:
        return str(declared), "FICHE_REQUIRES"
    from_dist = _distribution_requirement(dist)
    if from_dist:
        return from_dist, "Requires-Dist"
    return None, ""


def _check_compatible(name: str, plugin: object, dist: importlib.metadata.Distribution | None) -> None:
    required, source = required_fiche(plugin, dist)
    if not required:
        return
    running = fiche_version()
    who = f"plugin {name!r}" + (f" ({dist.metadata['Name']} {dist.version})" if dist is not None else "")
    try:
        specifier = SpecifierSet(required)
        supported = specifier.contains(Version(running), prereleases=True)
    except (InvalidSpecifier, InvalidVersion) as exc:
        raise IncompatiblePlugin(f"{who} declares the Fiche versions it supports as {required!r} ({source}), which is not a version specifier: {exc}") from exc
    if not supported:
        raise IncompatiblePlugin(
            f"{who} supports Fiche {specifier} ({source}) but this is Fiche {running}: install a version of the plugin "
            f"made for Fiche {running}, or leave it out with FICHE_DISABLED_PLUGINS={name}"
        )


class FichePluginManager(pluggy.PluginManager):
    """pluggy's manager, remembering how each plugin came (for ``fiche plugins``)."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.kinds: dict[str, str] = {}
        self.distributions: dict[str, importlib.metadata.Distribution] = {}


@dataclasses.dataclass(frozen=True)
class PluginInfo:
    """What ``fiche plugins`` shows of one loaded plugin."""

    name: str
    kind: str  # core, built-in, installed or extra
    module: str
    location: str | None
    distribution: str | None
    version: str | None
    requires: str | None
    hooks: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "hooks": list(self.hooks)}


def get_plugin_manager(settings: Settings, extra: Iterable[tuple[str, ModuleType | object]] = ()) -> pluggy.PluginManager:
    """A new plugin manager for ``settings``. ``extra`` registers more plugins (tests).

    Raises ``ValueError`` when ``settings.disabled_plugins`` names a core feature, and
    :class:`IncompatiblePlugin` when a plugin does not support this Fiche version."""
    pm = FichePluginManager()
    pm.add_hookspecs(hookspecs)
    disabled = set(settings.disabled_plugins)
    # pm.set_blocked would silently unregister a core feature the rest of the gateway needs.
    core = disabled.intersection(name for name, _ in CORE_PLUGINS)
    if core:
        raise ValueError(f"core features cannot be disabled: {', '.join(sorted(core))}")
    kinds, dists = pm.kinds, pm.distributions
    for name, module_name in CORE_PLUGINS:
        pm.register(importlib.import_module(module_name), name=name)
        kinds[name] = "core"
    for name in disabled:
        pm.set_blocked(name)
    for name, module_name in BUILTIN_PLUGINS:
        if name not in disabled and _available(module_name):
            pm.register(importlib.import_module(module_name), name=name)
            kinds[name] = "built-in"
    # Installed plugins, like pluggy's load_setuptools_entrypoints, but checked for
    # compatibility before they are registered.
    for dist in importlib.metadata.distributions():
        for entry_point in dist.entry_points:
            if entry_point.group != ENTRY_POINT_GROUP or pm.get_plugin(entry_point.name) or pm.is_blocked(entry_point.name):
                continue
            plugin = entry_point.load()
            _check_compatible(entry_point.name, plugin, dist)
            pm.register(plugin, name=entry_point.name)
            kinds[entry_point.name] = "installed"
            dists[entry_point.name] = dist
    for name, plugin in extra:
        if name not in disabled:
            _check_compatible(name, plugin, None)
            pm.register(plugin, name=name)
            kinds[name] = "extra"
    pm.check_pending()
    return pm


def plugin_infos(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Every loaded plugin: where it comes from, its version, what it requires, its hooks."""
    kinds: dict[str, str] = getattr(pm, "kinds", {})
    dists: dict[str, importlib.metadata.Distribution] = getattr(pm, "distributions", {})
    infos = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        dist = dists.get(name)
        kind = kinds.get(name, "extra")
        module = getattr(plugin, "__name__", type(plugin).__qualname__)
        location = getattr(plugin, "__file__", None)
        distribution: str | None = None
        version: str | None = None
        if dist is not None:
            distribution, version = dist.metadata["Name"], dist.version
        elif kind in ("core", "built-in"):
            distribution, version = PROJECT_NAME, fiche_version()
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        infos.append(PluginInfo(name, kind, module, location, distribution, version, required_fiche(plugin, dist)[0], hooks))
    return infos


def plugin_names(pm: pluggy.PluginManager) -> list[str]:
    """Registered plugin names in registration order."""
    return [name for name, plugin in pm.list_name_plugin() if plugin is not None]

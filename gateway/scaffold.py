"""``fiche plugin new NAME``: a plugin package from the template shipped with Fiche.

The template (``fiche/plugin_template``) is a folder of ``*.tmpl`` files rendered with
:class:`string.Template` (placeholders ``%%{name}``, ``%%{Name}``, ``%%{NAME}``,
``%%{camel}``, ``%%{package}``, ...; the ``%%`` delimiter leaves Python's ``@`` decorators
and GraphQL's ``$variables`` alone). Copier or Cookiecutter would do the same with Jinja,
but each brings a dozen packages (prompt toolkits, Jinja, pydantic or requests) into every
production install of the gateway for a command a developer runs once; the template has no
condition or loop that would need them.
"""

from __future__ import annotations

import datetime as dt
import keyword
import re
import string
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = ["PluginNameRefused", "TEMPLATE_FOLDER", "fiche_requirement", "new_plugin", "placeholders"]

TEMPLATE_FOLDER = "plugin_template"  # package data of ``fiche``
PACKAGE_DIR = "_package_"
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_TAKEN = {"core", "accounts", "notifications", "customers", "notes", "activities", "interventions", "billing", "fiche", "plugins", "test", "tests"}


class PluginNameRefused(ValueError):
    """A name that cannot be a plugin's (a one-line reason)."""


class _Template(string.Template):
    delimiter = "%%"


def fiche_requirement(version: str) -> str:
    """The versions a new plugin supports: from this one to the next breaking release
    (the next major; the next minor while Fiche is 0.x)."""
    parts = [int(part) for part in re.findall(r"\d+", version)[:2]] + [0, 0]
    major, minor = parts[0], parts[1]
    return f">={major}.{minor},<{major + 1}" if major else f">=0.{minor},<0.{minor + 1}"


def placeholders(name: str, fiche_version: str) -> dict[str, str]:
    if not _NAME.match(name) or len(name) > 30:
        raise PluginNameRefused(f"{name!r} is not a plugin name: lowercase letters, digits and single underscores, starting with a letter, 30 characters at most")
    if name in _TAKEN or keyword.iskeyword(name):
        raise PluginNameRefused(f"{name!r} is taken by Fiche itself: choose another name")
    words = name.split("_")
    return {
        "name": name,
        "Name": "".join(word.capitalize() for word in words),
        "NAME": name.upper(),
        "camel": words[0] + "".join(word.capitalize() for word in words[1:]),
        "package": f"fiche_{name}",
        "distribution": f"fiche-{name.replace('_', '-')}",
        "fiche_requires": fiche_requirement(fiche_version),
        "fiche_version": fiche_version,
        "today": dt.date.today().isoformat(),
    }


def _files(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    found: list[tuple[tuple[str, ...], Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.is_dir():
            found.extend(_files(entry, (*prefix, entry.name)))
        elif entry.name.endswith(".tmpl"):
            found.append(((*prefix, entry.name.removesuffix(".tmpl")), entry))
    return found


def new_plugin(name: str, directory: Path, fiche_version: str) -> Path:
    """Render the template for ``name`` into ``directory/fiche-<name>``; returns that folder.

    Refuses (:class:`PluginNameRefused`) a bad name or a folder that already exists."""
    values = placeholders(name, fiche_version)
    target = directory / values["distribution"]
    if target.exists():
        raise PluginNameRefused(f"{target} already exists")
    template = resources.files("fiche") / TEMPLATE_FOLDER
    for parts, source in _files(template):
        path = target.joinpath(*(values["package"] if part == PACKAGE_DIR else part for part in parts))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_Template(source.read_text(encoding="utf-8")).substitute(values), encoding="utf-8")
    return target

"""Plugin version compatibility: a plugin declares the Fiche versions it supports
(``FICHE_REQUIRES`` in its hooks module, or its distribution's requirement on ``fiche``);
the host refuses an incompatible one with a message naming the plugin and both versions;
``fiche plugins`` lists what is loaded, from where, with versions and hooks."""

from __future__ import annotations

import contextlib
import importlib
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from fiche import hookimpl
from fiche.cli import main
from fiche.plugin_host import IncompatiblePlugin, fiche_version, get_plugin_manager, plugin_infos
from fiche.settings import Settings

SETTINGS = Settings(database_url="sqlite+aiosqlite:///:memory:", secret_key="plugin-versions-secret-key-long-enough")
RUNNING = fiche_version()

HOOKS = '''
import strawberry
from fiche import hookimpl
{declaration}

@strawberry.type
class {name}Queries:
    @strawberry.field(description="A probe field.")
    def {name}_ping(self) -> str:
        return "pong"

@hookimpl
def register_queries():
    return [{name}Queries]
'''


@contextlib.contextmanager
def installed(site: Path, *, requires_dist: str | None = None, fiche_requires: str | None = None, version: str = "2.3.4") -> Iterator[str]:
    """A distribution ``fiche-<name>`` with a ``fiche.plugins`` entry point, laid out as pip
    would in ``site``; yields the plugin's name."""
    name = f"compat{uuid.uuid4().hex[:8]}"
    package = site / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    declaration = f"FICHE_REQUIRES = {fiche_requires!r}" if fiche_requires is not None else ""
    (package / "hooks.py").write_text(HOOKS.format(declaration=declaration, name=name))
    dist_info = site / f"fiche_{name}-{version}.dist-info"
    dist_info.mkdir()
    metadata = f"Metadata-Version: 2.1\nName: fiche-{name}\nVersion: {version}\n"
    if requires_dist is not None:
        metadata += f"Requires-Dist: {requires_dist}\n"
    (dist_info / "METADATA").write_text(metadata)
    (dist_info / "entry_points.txt").write_text(f"[fiche.plugins]\n{name} = {name}.hooks\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield name
    finally:
        sys.path.remove(str(site))
        importlib.invalidate_caches()
        for module in [module for module in sys.modules if module == name or module.startswith(f"{name}.")]:
            del sys.modules[module]


def test_a_plugin_whose_distribution_requires_another_fiche_is_refused(tmp_path: Path) -> None:
    with installed(tmp_path, requires_dist="fiche>=9.0,<10") as name:
        # when
        with pytest.raises(IncompatiblePlugin) as refused:
            get_plugin_manager(SETTINGS)
    # then: the plugin, its version, what it supports and what runs
    message = str(refused.value)
    assert f"plugin {name!r} (fiche-{name} 2.3.4)" in message
    assert "<10,>=9.0" in message and f"this is Fiche {RUNNING}" in message
    assert "Requires-Dist" in message and f"FICHE_DISABLED_PLUGINS={name}" in message


def test_fiche_requires_in_the_hooks_module_wins_over_the_distribution(tmp_path: Path) -> None:
    # given: a distribution that installs anywhere, a hooks module that says otherwise
    with installed(tmp_path, requires_dist="fiche", fiche_requires="<0.0.1") as name:
        with pytest.raises(IncompatiblePlugin, match=rf"plugin '{name}'.*Fiche <0.0.1 \(FICHE_REQUIRES\) but this is Fiche {RUNNING}"):
            get_plugin_manager(SETTINGS)


def test_a_compatible_plugin_is_loaded(tmp_path: Path) -> None:
    with installed(tmp_path, requires_dist=f"fiche>={RUNNING},<1000") as name:
        pm = get_plugin_manager(SETTINGS)
        assert pm.get_plugin(name) is not None


def test_an_unreadable_declaration_is_refused(tmp_path: Path) -> None:
    with installed(tmp_path, fiche_requires="version two please") as name:
        with pytest.raises(IncompatiblePlugin, match=rf"plugin '{name}'.*'version two please'.*not a version specifier"):
            get_plugin_manager(SETTINGS)


def test_a_disabled_incompatible_plugin_does_not_stop_the_gateway(tmp_path: Path) -> None:
    with installed(tmp_path, requires_dist="fiche>=9") as name:
        pm = get_plugin_manager(Settings(database_url=SETTINGS.database_url, secret_key=SETTINGS.secret_key, disabled_plugins=(name,)))
        assert pm.get_plugin(name) is None


def test_a_plugin_registered_without_a_distribution_is_checked_too() -> None:
    # given: a plugin object handed to the host directly
    plugin = ModuleType("fiche_direct_plugin")
    plugin.FICHE_REQUIRES = ">=99"  # type: ignore[attr-defined]
    # when / then
    with pytest.raises(IncompatiblePlugin, match=rf"plugin 'direct' supports Fiche >=99 \(FICHE_REQUIRES\) but this is Fiche {RUNNING}"):
        get_plugin_manager(SETTINGS, extra=[("direct", plugin)])


def test_fiche_plugins_lists_origin_versions_requirements_and_hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FICHE_DATABASE_URL", SETTINGS.database_url)
    monkeypatch.setenv("FICHE_SECRET_KEY", SETTINGS.secret_key)
    with installed(tmp_path, requires_dist=f"fiche>={RUNNING}", version="1.4.0") as name:
        # when
        code = main(["plugins", "--json"])
        listed = json.loads(capsys.readouterr().out)
        text_code = main(["plugins"])
        text = capsys.readouterr().out
    # then
    assert code == text_code == 0
    assert listed["fiche"] == RUNNING
    plugins = {plugin["name"]: plugin for plugin in listed["plugins"]}
    partner = plugins[name]
    assert (partner["kind"], partner["distribution"], partner["version"], partner["requires"]) == ("installed", f"fiche-{name}", "1.4.0", f">={RUNNING}")
    assert partner["location"] == str(tmp_path / name / "hooks.py")
    assert partner["hooks"] == ["register_queries"]
    assert (plugins["core"]["kind"], plugins["core"]["distribution"], plugins["core"]["version"]) == ("core", "fiche", RUNNING)
    assert "register_types" in plugins["core"]["hooks"]
    assert f"{name} (installed) - fiche-{name} 1.4.0" in text
    assert "  hooks:    register_queries" in text


def test_the_cli_refuses_an_incompatible_plugin_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FICHE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FICHE_SECRET_KEY", SETTINGS.secret_key)
    with installed(tmp_path / "site", requires_dist="fiche>=9") as name:
        # when
        codes = [main(["plugins"]), main(["db", "upgrade"])]
    # then
    assert codes == [1, 1]
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"fiche plugins: plugin {name!r}") and lines[1].startswith(f"fiche db: plugin {name!r}")


def test_plugin_infos_of_a_plugin_object_without_module() -> None:
    class Hooks:
        @hookimpl
        def register_queries(self) -> list[type]:
            return []

    pm = get_plugin_manager(SETTINGS, extra=[("object", Hooks())])
    [info] = [info for info in plugin_infos(pm) if info.name == "object"]
    assert (info.kind, info.distribution, info.location, info.hooks) == ("extra", None, None, ("register_queries",))

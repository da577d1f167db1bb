"""Fiche installs one top-level package, ``fiche``, so it never collides with another
distribution's ``gateway`` or ``plugins``; partners use the public API re-exported by it."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import fiche

REPO = Path(__file__).resolve().parents[1]
PARTNER = REPO / "tests" / "partner_plugin" / "src"


def python_folders() -> set[str]:
    """``fiche.*`` package names of every folder of gateway/ and plugins/ holding Python files."""
    names = set()
    for folder, prefix in ((REPO / "gateway", "fiche"), (REPO / "plugins", "fiche.plugins")):
        for path in folder.rglob("*.py"):
            relative = path.parent.relative_to(folder)
            names.add(".".join([prefix, *relative.parts]))
    return names


def test_the_distribution_lists_every_package_folder() -> None:
    # given
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    # then
    assert set(config["packages"]) == python_folders()
    assert config["package-dir"] == {"fiche": "gateway", "fiche.plugins": "plugins"}


def test_the_wheel_installs_only_the_fiche_package(tmp_path: Path) -> None:
    # when
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    # then
    (wheel,) = tmp_path.glob("fiche-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")} == {"fiche"}
    assert "fiche/plugins/notes/migrations/versions/0001_notes.py" in names
    assert "fiche/migrations/env.py" in names
    assert any(name.startswith("fiche/graphiql/assets/") for name in names)


def test_fiche_runs_beside_other_top_level_gateway_and_plugins_modules(tmp_path: Path) -> None:
    # given: another distribution's generic top-level modules, first on the path
    (tmp_path / "plugins.py").write_text("raise ImportError('not fiche')\n")
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "__init__.py").write_text("raise ImportError('not fiche')\n")
    script = (
        "from fiche.plugin_host import get_plugin_manager\n"
        "from fiche.schema import build_schema, export_sdl\n"
        "from fiche.settings import Settings\n"
        "settings = Settings()\n"
        "print(len(export_sdl(build_schema(get_plugin_manager(settings), settings))))\n"
    )
    # when
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path)}, check=False
    )
    # then
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 10_000


def test_every_public_name_resolves() -> None:
    for name in fiche.__all__:
        assert getattr(fiche, name) is not None, name


def test_the_partner_plugin_imports_only_the_public_api() -> None:
    # given
    imported: list[str] = []
    for path in PARTNER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "fiche":
                imported.append(node.module)
            elif isinstance(node, ast.Import):
                imported.extend(alias.name for alias in node.names if alias.name.split(".")[0] == "fiche")
    # then
    assert imported and set(imported) == {"fiche"}

"""The gateway and the built-in plugins type-check (mypy, configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parents[1]


def fiche_tree(root: Path) -> Path:
    """The ``fiche`` package as it is installed, laid out with links: the gateway/ folder's
    entries at its top and the plugins/ folder as ``fiche/plugins``. mypy names modules
    after folders and knows nothing of setuptools' package-dir mapping."""
    package = root / "fiche"
    package.mkdir()
    for entry in (REPO / "gateway").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    (package / "plugins").symlink_to(REPO / "plugins")
    return package


def test_gateway_and_plugins_type_check(tmp_path: Path) -> None:
    package = fiche_tree(tmp_path)
    report, errors, status = api.run(
        ["--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / ".mypy_cache"), str(package)]
    )
    assert status == 0, report + errors
    assert "Success" in report, report

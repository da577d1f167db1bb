"""The gateway and the built-in plugins type-check (mypy, configured in pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parents[1]


def test_gateway_and_plugins_type_check() -> None:
    report, errors, status = api.run(["--config-file", str(REPO / "pyproject.toml"), str(REPO / "gateway"), str(REPO / "plugins")])
    assert status == 0, report + errors

"""docs/hooks.md is generated from gateway/hookspecs.py (``fiche docs hooks``): one section
per hook with its signature, description, parameters and an example; stale means failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fiche.cli import main
from fiche.hookdocs import EXAMPLES, hook_specs, hooks_markdown

REPO = Path(__file__).resolve().parents[2]


def test_docs_hooks_md_is_up_to_date() -> None:
    assert (REPO / "docs" / "hooks.md").read_text() == hooks_markdown(), "docs/hooks.md is stale: run `fiche docs hooks`"


def test_every_hook_has_a_section_with_its_signature_and_an_example() -> None:
    text = hooks_markdown()
    for name, _, _ in hook_specs():
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"def {name}(" in section
        assert "Example:" in section and "@hookimpl" in section.split("Example:", 1)[1], name


def test_the_kept_examples_name_existing_hooks_only() -> None:
    assert set(EXAMPLES) <= {name for name, _, _ in hook_specs()}


def test_parameters_become_a_list() -> None:
    section = hooks_markdown().split("\n## customer_deleted\n", 1)[1].split("\n## ", 1)[0]
    assert "- `customer_id`: primary key of the deleted customer." in section
    assert ":param" not in section


def test_docs_hooks_check_fails_when_stale_and_writes_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "hooks.md"
    path.write_text("# an old reference\n")
    assert main(["docs", "hooks", "--check", "--path", str(path)]) == 1
    assert "run `fiche docs hooks`" in capsys.readouterr().err
    assert main(["docs", "hooks", "--path", str(path)]) == 0
    assert main(["docs", "hooks", "--check", "--path", str(path)]) == 0
    assert path.read_text() == hooks_markdown()

"""``fiche plugin new``: the template shipped in Fiche's wheel generates a plugin package
that installs into a fresh virtual environment beside Fiche and beside another
distribution with a top-level ``plugins`` module, and whose own tests pass there."""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
from pathlib import Path

import pytest

from fiche.cli import main
from fiche.plugin_host import fiche_version
from fiche.scaffold import PluginNameRefused, fiche_requirement, placeholders

REPO = Path(__file__).resolve().parents[2]
NAME = "warranty_kit"


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The child sees none of this process's FICHE_* settings, and runs outside the
    # checkout (whose plugins/ folder would be the top-level `plugins` of `python -c`).
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FICHE_", "PYTHON"))}
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False, env=env, timeout=600)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with Fiche installed from its wheel, and Fiche's
    dependencies visible from this test environment (nothing is downloaded)."""
    root = tmp_path_factory.mktemp("fresh")
    run(sys.executable, "-m", "pip", "wheel", REPO, "--no-deps", "--no-build-isolation", "-q", "-w", root / "wheels", cwd=root)
    (wheel,) = (root / "wheels").glob("fiche-*.whl")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    run(base, "-m", "venv", root / "venv", cwd=root)
    python = root / "venv" / "bin" / "python"
    own_site = run(python, "-c", "import site; print(site.getsitepackages()[0])", cwd=root).stdout.strip()
    dependencies = site.getsitepackages()[0]
    # After the venv's own site-packages: its Fiche (the wheel) wins over this checkout's.
    Path(own_site, "zz_fiche_dependencies.pth").write_text(f"import site; site.addsitedir({dependencies!r})\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=root)
    return python


def test_a_generated_plugin_installs_beside_fiche_and_a_top_level_plugins_module_and_its_tests_pass(fresh_venv: Path, tmp_path: Path) -> None:
    python = fresh_venv
    # given: Fiche from its wheel (so the template comes from the distribution) ...
    where = run(python, "-c", "import fiche, fiche.scaffold; print(fiche.__file__)", cwd=tmp_path).stdout.strip()
    assert where.startswith(str(python.parent.parent)), where
    # ... another distribution whose top-level module is called `plugins` ...
    other = tmp_path / "other"
    (other / "plugins").mkdir(parents=True)
    (other / "plugins" / "__init__.py").write_text("OWNER = 'another distribution'\n")
    (other / "pyproject.toml").write_text('[project]\nname = "other-plugins"\nversion = "1.0"\n[tool.setuptools]\npackages = ["plugins"]\n')
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", other, cwd=tmp_path)
    # when: a plugin is generated and installed
    run(python, "-m", "fiche.cli", "plugin", "new", NAME, "--directory", tmp_path, cwd=tmp_path)
    plugin = tmp_path / "fiche-warranty-kit"
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", plugin, cwd=tmp_path)
    # then: both top-level names live together, Fiche lists the plugin, its tests pass
    assert run(python, "-c", "import plugins; print(plugins.OWNER)", cwd=tmp_path).stdout.strip() == "another distribution"
    listed = json.loads(run(python, "-m", "fiche.cli", "plugins", "--json", cwd=tmp_path).stdout)
    [generated] = [entry for entry in listed["plugins"] if entry["name"] == NAME]
    assert (generated["kind"], generated["distribution"], generated["version"]) == ("installed", "fiche-warranty-kit", "0.1.0")
    assert generated["requires"] == fiche_requirement(fiche_version())
    assert {"register_type_extensions", "timeline_entries", "register_subject_types", "register_notification_kinds", "seed_demo", "register_migrations"} <= set(generated["hooks"])
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=plugin)
    assert re.search(r"^9 passed", tests.stdout, re.MULTILINE), tests.stdout


def test_plugin_new_refuses_a_bad_or_taken_name_and_an_existing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugin", "new", "Bad-Name", "--directory", str(tmp_path)]) == 2
    assert main(["plugin", "new", "notes", "--directory", str(tmp_path)]) == 2
    assert main(["plugin", "new", "kit", "--directory", str(tmp_path)]) == 0
    assert main(["plugin", "new", "kit", "--directory", str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in errors] == ["fiche plugin new"] * 3
    assert "already exists" in errors[2]


def test_placeholders_of_a_name() -> None:
    values = placeholders("field_kit", "1.4.2")
    assert (values["Name"], values["camel"], values["NAME"], values["package"], values["distribution"]) == (
        "FieldKit",
        "fieldKit",
        "FIELD_KIT",
        "fiche_field_kit",
        "fiche-field-kit",
    )
    assert values["fiche_requires"] == ">=1.4,<2"
    assert fiche_requirement("0.1.0") == ">=0.1,<0.2"
    with pytest.raises(PluginNameRefused):
        placeholders("class", "1.0")

"""The apps depend one way (docs/architecture.md, "Apps"): the import-linter contract in pyproject.toml
holds, counting imports inside functions, and covers every app of the project. `make lint` runs the
same check; this test makes `make test` catch a violation too."""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _importlinter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_no_app_imports_an_app_above_it():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_covers_every_app_of_the_project_in_one_order():
    config = _importlinter_config()
    (contract,) = [c for c in config["contracts"] if c["id"] == "apps-one-way"]
    layered = [name.strip() for layer in contract["layers"] for name in layer.split("|")]
    project_apps = {config.name for config in apps.get_app_configs() if Path(config.path).parent == ROOT}

    assert project_apps <= set(config["root_packages"]) == set(layered)
    assert contract["layers"][0] == "adminpanel"  # the UI on top: nothing imports it
    assert contract["layers"][-1] == "cashback"  # the base imports no app
    assert "merchants | charity" in contract["layers"]  # siblings that never import each other
    assert not contract.get("ignore_imports")  # no exception: a violation is fixed, never listed

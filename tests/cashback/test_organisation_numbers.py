"""Organisation numbers live in the base app, so merchants and charities share one set of rules."""

import ast
import pathlib

import pytest

import cashback.organisation_numbers as shared
import merchants.validators


def test_merchants_use_the_shared_rules():
    assert merchants.validators.validate_organisation_number is shared.validate_organisation_number
    assert shared.validate_organisation_number("923 609 016", country="NO") == "923609016"
    with pytest.raises(shared.InvalidOrganisationNumberError):
        shared.validate_organisation_number("923609017", country="NO")


def test_the_shared_module_imports_no_app():
    tree = ast.parse(pathlib.Path(shared.__file__).read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}

    assert {name.split(".")[0] for name in modules} <= {"re", "django", "cashback"}


def test_charity_does_not_import_merchants():
    charity = pathlib.Path(shared.__file__).resolve().parents[1] / "charity"
    sources = "\n".join(path.read_text() for path in charity.rglob("*.py"))

    assert "merchants" not in {
        (node.module or "").split(".")[0] for node in ast.walk(ast.parse(sources)) if isinstance(node, ast.ImportFrom)
    }

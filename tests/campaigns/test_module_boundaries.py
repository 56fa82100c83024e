"""Who owns purchases and rewards, checked on the source: purchases from every source live in
campaigns (merchants and wallet never import it), the partner spend door sits in merchants (the
wallet never imports merchants), and campaigns' services are modules of one job each that share
only public names. Imports inside functions count."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "campaigns" / "services"


def _modules(app: str) -> list[Path]:
    return sorted(p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[tuple[int, str, list[str], bool]]:
    """(line, module, names, inside a function) for every import of the file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, [], in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                found.append((child.lineno, child.module, [alias.name for alias in child.names], in_function))
            visit(child, nested)

    visit(tree, False)
    return found


@pytest.mark.parametrize(("app", "forbidden"), [("merchants", "campaigns"), ("wallet", "merchants")])
def test_an_app_does_not_import_the_app_above_it(app, forbidden):
    upward = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _modules(app)
        for line, module, _, _ in _imports(path)
        if module == forbidden or module.startswith(f"{forbidden}.")
    ]
    assert upward == []


def test_purchase_sources_are_registered_by_campaigns():
    from cashback import inbox

    kinds = [
        ("visa", "transaction.clearing"),
        ("stripe_connect", "invoice.paid"),
        ("stripe_connect", "charge.refunded"),
    ]
    modules = {inbox.handler_for(source=source, event_type=event_type).__module__ for source, event_type in kinds}
    assert modules == {"campaigns.handlers", "campaigns.stripe_source"}


def test_services_modules_share_only_public_names_and_stay_small():
    problems = []
    for path in sorted(SERVICES.glob("*.py")):
        if len(path.read_text().splitlines()) > 600:
            problems.append(f"{path.name} is over 600 lines")
        for line, module, names, _ in _imports(path):
            if module.startswith("campaigns."):
                problems += [f"{path.name}:{line} imports {module}.{name}" for name in names if name.startswith("_")]
    assert problems == []


def test_campaigns_imports_inside_functions_only_to_break_a_cycle_with_its_tasks():
    inside = [
        f"{path.relative_to(ROOT)}:{line} {module}"
        for path in _modules("campaigns")
        if path.name != "apps.py"  # AppConfig.ready() imports once the apps are loaded
        for line, module, _, in_function in _imports(path)
        if in_function and module != "campaigns.tasks"
    ]
    assert inside == []

"""Imports inside functions only where they are needed (issue 12): in an ``AppConfig.ready()``
(apps.py is loaded before the models exist), or where a module and its own app's tasks import each
other, with a comment on the same line or the line before that names the cycle. Everything else
is imported at module level."""

import ast
import io
import textwrap
import tokenize
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _comments_by_line(source: str) -> dict[int, str]:
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = comments.get(token.start[0], "") + token.string
    return comments


def _is_app_config_ready(function: ast.AST, owner: ast.ClassDef | None) -> bool:
    if owner is None or not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) or function.name != "ready":
        return False
    base_names = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in owner.bases}
    return any(name.endswith("Config") for name in base_names)


def function_imports_without_reason(source: str) -> list[int]:
    """Line numbers of imports inside functions that are neither in an ``AppConfig.ready()`` nor
    explained by a comment containing "cycle" on the import's line(s) or the line before it."""
    comments = _comments_by_line(source)
    found: list[int] = []

    def visit(node: ast.AST, *, in_function: bool, in_ready: bool, owner: ast.ClassDef | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if in_function and not in_ready:
                    end = child.end_lineno or child.lineno
                    lines = range(child.lineno - 1, end + 1)
                    if not any("cycle" in comments.get(line, "").lower() for line in lines):
                        found.append(child.lineno)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                ready = in_ready or (not in_function and _is_app_config_ready(child, owner))
                visit(child, in_function=True, in_ready=ready, owner=None)
            elif isinstance(child, ast.ClassDef):
                visit(child, in_function=in_function, in_ready=in_ready, owner=child)
            else:
                visit(child, in_function=in_function, in_ready=in_ready, owner=owner)

    visit(ast.parse(source), in_function=False, in_ready=False, owner=None)
    return found


def _app_modules() -> list[Path]:
    modules = []
    for config in apps.get_app_configs():
        app_path = Path(config.path)
        if app_path.parent != ROOT:
            continue  # Django's and third-party apps
        for path in sorted(app_path.rglob("*.py")):
            parts = path.relative_to(app_path).parts
            if "migrations" in parts or "tests" in parts or path.name.startswith("test_"):
                continue
            modules.append(path)
    return modules


def test_the_checker_on_a_synthetic_module():
    source = textwrap.dedent(
        """
        import os

        from django.apps import AppConfig


        class ShopConfig(AppConfig):
            def ready(self):
                # Imports in ready(): apps.py is loaded before the models.
                from shop import handlers

                def later():
                    import json  # nested in ready(): still the app registry's reason

        class Other:
            def ready(self):
                import csv  # not an AppConfig


        def enqueue():
            # shop.tasks imports this module (a cycle within the app).
            from shop.tasks import send

            from shop.tasks import other  # shop.tasks imports this module: a Cycle

            from shop.tasks import (  # a cycle, said on the first line of a long import
                a,
                b,
            )


        def lazy():
            import stripe

            # imported here to start faster (a reason, but not the one allowed)
            from django.utils.html import escape

            # cycle: said two lines above is too far

            import psycopg


        async def fetch():
            import httpx

        handler = lambda: __import__("os")  # a call, not an import statement
        """
    )

    lines = source.splitlines()
    flagged = {lines[number - 1].strip() for number in function_imports_without_reason(source)}

    assert flagged == {
        "import csv  # not an AppConfig",
        "import stripe",
        "from django.utils.html import escape",
        "import psycopg",
        "import httpx",
    }


def test_the_apps_import_inside_functions_only_where_a_cycle_or_ready_needs_it():
    modules = _app_modules()
    assert any(path.name == "apps.py" for path in modules)  # the walk found the apps

    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        for line in function_imports_without_reason(path.read_text(encoding="utf-8"))
    ]

    assert offenders == [], (
        "Import these at module level, or say on the line (or the one before) which import cycle "
        "makes the function-level import necessary: " + ", ".join(offenders)
    )

"""No test reads the clock or signs a body when pytest imports or collects it.

A value taken at collection is as old as the whole run by the time its test executes: on a loaded
machine where the suite takes twelve minutes, Visa headers signed inside ``@pytest.mark.parametrize``
were refused as ``timestamp_stale`` (300 s tolerance). Module-level constants, decorator arguments
(``parametrize`` lists) and default argument values are evaluated at import, so none of them may
call the clock or a signing function; tests take the time, or sign, in their own body or a fixture.
"""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# Names whose call means "now" or "sign with now": the clock itself and the signing helpers.
CLOCK_OR_SIGNATURE = frozenset(
    {
        "time",
        "monotonic",
        "now",
        "utcnow",
        "today",
        "localdate",
        "localtime",
        "sign",
        "_signed",
        "stripe_signature",
        "generate_header",
        "compute_signature",
    }
)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return None


def _calls_in(node: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call) and _called_name(n) in CLOCK_OR_SIGNATURE]


def _evaluated_at_import(tree: ast.Module) -> list[ast.AST]:
    """The parts of a module Python runs when importing it: everything except function bodies,
    but including each function's decorators and default values (also inside classes)."""
    parts: list[ast.AST] = []

    def visit(body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                parts.extend(statement.decorator_list)
                parts.extend(statement.args.defaults)
                parts.extend(d for d in statement.args.kw_defaults if d is not None)
            elif isinstance(statement, ast.ClassDef):
                parts.extend(statement.decorator_list)
                visit(statement.body)
            else:
                parts.append(statement)

    visit(tree.body)
    return parts


def clock_reads_at_import(source: str) -> list[int]:
    """Line numbers of clock or signing calls that run at import, outside any lambda."""
    lines: list[int] = []
    for part in _evaluated_at_import(ast.parse(source)):
        lambdas = [n for n in ast.walk(part) if isinstance(n, ast.Lambda)]
        deferred = {id(call) for lam in lambdas for call in _calls_in(lam.body)}
        lines.extend(call.lineno for call in _calls_in(part) if id(call) not in deferred)
    return sorted(lines)


def test_the_check_finds_a_header_signed_in_a_parametrize_list():
    source = (
        "import time, pytest\n"
        "T0 = time.time()\n"
        "@pytest.mark.parametrize('h', [_signed(b'x'), stripe_signature(b'x', 's')])\n"
        "def test_x(h, at=timezone.now()):\n"
        "    now = time.time()\n"
        "    later = lambda: time.time()\n"
        "LATER = lambda: timezone.now()\n"
    )

    assert clock_reads_at_import(source) == [2, 3, 3, 4]


def test_no_test_module_reads_the_clock_or_signs_at_import():
    found = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in clock_reads_at_import(path.read_text())
    ]

    assert found == [], "take the time or sign inside the test (or a fixture), not at import: " + ", ".join(found)

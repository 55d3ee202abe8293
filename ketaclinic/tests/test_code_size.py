"""The house stays easy to change: no product module over 500 lines, no function over 60.

Migrations and tests are left out, and the demo clinic's modules may be long (they are
mostly data), but the demo's functions are held to the same 60 lines as everything else.
A function is measured from its ``def`` line to its last line, decorators excluded.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def product_modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        and "tests" not in path.parts
        and not path.name.startswith("test_")
        and path.name != "conftest.py"
    )


def long_functions(source: str) -> list[tuple[str, int, int]]:
    """(name, line, length) of every function or method over the limit in ``source``."""
    return [
        (node.name, node.lineno, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_the_walk_sees_the_whole_product():
    names = {path.relative_to(PACKAGE).as_posix() for path in product_modules()}
    assert len(names) > 300
    assert {"charting/checklist.py", "protocols/dosing.py", "demo/cohort.py"} <= names
    assert not any("/tests/" in name or "/migrations/" in name for name in names)


def test_no_product_module_is_over_500_lines():
    too_long = [
        f"{path.relative_to(PACKAGE.parent)} ({lines} lines)"
        for path in product_modules()
        if path.relative_to(PACKAGE).parts[0] != "demo"
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not too_long, "split these by meaning: " + "; ".join(too_long)


def test_no_function_is_over_60_lines():
    too_long = [
        f"{path.relative_to(PACKAGE.parent)}:{line} {name} ({length} lines)"
        for path in product_modules()
        for name, line, length in long_functions(path.read_text(encoding="utf-8"))
    ]
    assert not too_long, "make these named steps: " + "; ".join(too_long)


def test_the_measure_catches_a_long_method_and_spares_a_short_one():
    body = "".join(f"        x{n} = {n}\n" for n in range(60))
    source = f"class C:\n    def long(self):\n{body}\n    def short(self):\n        pass\n"
    assert long_functions(source) == [("long", 2, 61)]

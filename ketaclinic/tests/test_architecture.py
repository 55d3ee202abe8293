"""Apps import each other in the clinic's order, with no cycle, and views modules say what they are.

The graph is read from the source with ``ast``: module-level and function-level imports
alike (an import moved into a function still ties the apps together), relative imports
resolved, ``from ketaclinic import x`` read as an import of ``x``, and a literal
``apps.get_model("label", ...)`` counted as the import it stands for. Tests and migrations
are left out. The order is DESIGN.md's "Dependency order"; where an earlier app must show a
later app's things, the later app registers itself with a small registry the earlier one
owns, from its ``AppConfig.ready()``.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # .../ketaclinic

# DESIGN.md's dependency order: an app may import only apps of an earlier rank.
ORDER: list[set[str]] = [
    {"audit"},
    {"accounts"},
    {"jobs"},
    {"patients"},
    {"intake"},
    {"protocols", "screening"},
    {"plans"},
    {"scheduling"},
    {"charting"},
    {"inventory"},
    {"outcomes"},
    {"billing"},
    {"fhir", "analytics"},
    {"demo"},
]
RANK = {app: rank for rank, apps in enumerate(ORDER) for app in apps}
# Import no app; every app may import them.
INDEPENDENT = {"pk", "web"}
# Root composers: they import the apps, so no app may import them.
ROOT_COMPOSERS = {"ketaclinic.api", "ketaclinic.urls", "ketaclinic.settings", "ketaclinic.wsgi"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing app, or a root module such as "ketaclinic.api"
    target: str
    where: str  # path:line

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.where})"


def apps() -> set[str]:
    return {
        p.name
        for p in PACKAGE.iterdir()
        if p.is_dir() and (p / "__init__.py").exists() and p.name != "tests"
    }


def product_files() -> list[Path]:
    """Every Python file of the product: no tests, test helpers or migrations."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).parts
        if "tests" in parts or "migrations" in parts:
            continue
        if path.name == "conftest.py" or path.name.startswith("test_"):
            continue
        found.append(path)
    return found


def owner(path: Path, known: set[str]) -> str:
    """The app a file belongs to, or the root module it is (``ketaclinic.api``)."""
    parts = path.relative_to(PACKAGE).parts
    if len(parts) > 1 and parts[0] in known:
        return parts[0]
    return "ketaclinic." + path.stem


def package_of(path: Path) -> list[str]:
    """Dotted parts of the package holding ``path`` (for resolving relative imports)."""
    parts = ["ketaclinic", *path.relative_to(PACKAGE).parts[:-1]]
    return parts


def imported_modules(node: ast.AST, path: Path) -> list[str]:
    """Dotted names ``node`` imports (``from ketaclinic import x`` gives ``ketaclinic.x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = package_of(path)[: len(package_of(path)) - (node.level - 1)]
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        if module == "ketaclinic":
            return [f"ketaclinic.{alias.name}" for alias in node.names]
        return [module]
    if is_get_model_call(node):
        return [f"ketaclinic.{node.args[0].value}"]
    return []


def is_get_model_call(node: ast.AST) -> bool:
    """``apps.get_model("label", ...)`` with a literal label: an import by another name."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get_model"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "apps"
        and len(node.args) >= 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def target_of(module: str, known: set[str]) -> str | None:
    """The app (or root module) a dotted name lies in; None outside the package."""
    parts = module.split(".")
    if parts[0] != "ketaclinic" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in known else f"ketaclinic.{parts[1]}"


def imports() -> list[Import]:
    """Every import from one app (or root module) into another, wherever it is written."""
    known = apps()
    found = []
    for path in product_files():
        source = owner(path, known)
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for module in imported_modules(node, path):
                target = target_of(module, known)
                if target is not None and target != source:
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    found.append(Import(source, target, where))
    return found


def against_the_order(edge: Import) -> str | None:
    """Why ``edge`` breaks the dependency order, or None when it keeps it."""
    source, target = edge.source, edge.target
    if source.startswith("ketaclinic."):
        return None  # root modules (api.py, urls.py...) compose the apps
    if target in ROOT_COMPOSERS:
        return f"{source} imports the root composer {target}"
    if target.startswith("ketaclinic."):
        return None  # ketaclinic/__init__.py and similar plain modules
    if source in INDEPENDENT:
        return f"{source} must import no app, but imports {target}"
    if target in INDEPENDENT:
        return None
    if source not in RANK or target not in RANK:
        return f"{source} -> {target}: an app missing from ORDER (add it where DESIGN.md puts it)"
    if RANK[target] == RANK[source]:
        return f"{source} and {target} share a rank and must not import each other"
    if RANK[target] > RANK[source]:
        return f"{source} imports {target}, which comes later in the clinic's order"
    return None


def app_graph(edges: list[Import]) -> dict[str, dict[str, list[Import]]]:
    graph: dict[str, dict[str, list[Import]]] = defaultdict(lambda: defaultdict(list))
    for edge in edges:
        graph[edge.source][edge.target].append(edge)
    return graph


def cycles(graph: dict[str, dict[str, list[Import]]]) -> list[list[str]]:
    """The strongly connected groups of more than one app (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, {}):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def a_cycle_through(group: list[str], graph) -> list[str]:
    """One closed path through ``group``, from its first app back to it, to name in a failure."""
    start, members = group[0], set(group)

    def walk(path: list[str]) -> list[str] | None:
        for successor in sorted(graph[path[-1]]):
            if successor == start:
                return [*path, start]
            if successor in members and successor not in path:
                found = walk([*path, successor])
                if found:
                    return found
        return None

    return walk([start]) or group


# --- The tests ------------------------------------------------------------------------------


def test_the_scan_sees_imports_of_every_kind():
    """The graph would be useless if it missed function-level or relative imports."""
    edges = imports()
    sources = {edge.source for edge in edges}
    assert {"patients", "charting", "demo", "ketaclinic.api", "ketaclinic.urls"} <= sources
    assert any(edge.target == "pk" for edge in edges)  # ``from ketaclinic import pk``
    assert set(apps()) - INDEPENDENT <= set(RANK), "every app has a place in ORDER"


def test_no_app_imports_against_the_clinic_s_order():
    problems = [f"{why}: {edge.where}" for edge in imports() if (why := against_the_order(edge))]
    assert not problems, "Imports against DESIGN.md's dependency order:\n" + "\n".join(problems)


def test_no_cycle_between_apps():
    graph = app_graph(imports())
    named = []
    for group in cycles(graph):
        path = a_cycle_through(group, graph)
        steps = [f"{a} -> {b} ({graph[a][b][0].where})" for a, b in itertools.pairwise(path)]
        named.append(" -> ".join(path) + ":\n    " + "\n    ".join(steps))
    assert not named, "Import cycles between apps:\n" + "\n".join(named)


def test_a_cycle_is_found_and_named():
    made_up = [
        Import("patients", "charting", "patients/views.py:1"),
        Import("charting", "scheduling", "charting/board.py:2"),
        Import("scheduling", "patients", "scheduling/views.py:3"),
        Import("charting", "audit", "charting/api.py:4"),
    ]
    graph = app_graph(made_up)

    [group] = cycles(graph)

    assert group == ["charting", "patients", "scheduling"]
    assert a_cycle_through(group, graph) == ["charting", "scheduling", "patients", "charting"]


def test_the_order_refuses_later_same_rank_and_root_imports():
    def why(source, target):
        return against_the_order(Import(source, target, "x.py:1"))

    assert why("charting", "scheduling") is None
    assert why("charting", "web") is None
    assert "later" in why("scheduling", "charting")
    assert "share a rank" in why("protocols", "screening")
    assert "root composer" in why("plans", "ketaclinic.api")
    assert "import no app" in why("web", "audit")
    assert "import no app" in why("pk", "plans")


def test_relative_package_and_get_model_imports_are_resolved():
    path = PACKAGE / "plans" / "example.py"
    source = (
        "from ..outcomes import services\n"
        "from .. import billing\n"
        "from . import schedule\n"
        "from ketaclinic import pk, api\n"
        "def later():\n"
        "    import ketaclinic.charting.models\n"
        "    return apps.get_model('fhir', 'StagedImport')\n"
    )
    found = [m for node in ast.walk(ast.parse(source)) for m in imported_modules(node, path)]

    assert sorted(target_of(m, apps()) for m in found) == sorted(
        ["outcomes", "billing", "plans", "pk", "ketaclinic.api", "charting", "fhir"]
    )


def test_every_views_module_says_what_it_is():
    missing = [
        str(path.relative_to(PACKAGE.parent))
        for path in product_files()
        if "views" in path.stem and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert not missing, "Views modules without a docstring:\n" + "\n".join(missing)

"""The package's layout rules (docs/DESIGN.md): no import circle (function-level imports
count), no module over 400 lines, no provider named in the shared provider bases, and no
branch on a provider id outside providers/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aurinko_auth"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
PROVIDER_IDS = ("Google", "Office365", "Zoho", "Salesforce", "Hubspot", "SugarCRM", "EWS", "IMAP")
SHARED_BASES = (
    "base.py",
    "oauth2.py",
    "responses.py",
    "forms.py",
    "service_accounts.py",
    "registry.py",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in SOURCES}


def imports_of(path: Path) -> set[str]:
    """Every module of the package that ``path`` imports, at any level of the file."""
    found: set[str] = set()
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module_name(path):
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return result


def test_no_import_cycle():
    graph = {}
    for name, path in MODULES.items():
        # A package's __init__ importing its own submodules is registration, not a dependency
        # of those submodules on it.
        graph[name] = {
            m
            for m in imports_of(path)
            if not (path.name == "__init__.py" and m.startswith(name + "."))
        }
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_400_lines(path):
    assert len(path.read_text().splitlines()) <= 400


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


@pytest.mark.parametrize("name", SHARED_BASES)
def test_shared_provider_bases_name_no_provider(name):
    """Their code (strings and names; prose in docstrings and comments aside) names no provider."""
    path = PACKAGE / "providers" / name
    tree = ast.parse(path.read_text())
    words = [value for _, value in _string_constants(path)]
    words += [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    words += [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    words += [n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    text = " ".join(words)
    products = (*PROVIDER_IDS, "Microsoft", "Exchange", "Sugar", "Workspace", "Gmail", "Graph")
    named = [pid for pid in products if pid in text]
    assert named == []


def test_no_branch_on_a_provider_id_outside_providers():
    offenders = []
    for path in SOURCES:
        if "providers" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                values = [node.left, *node.comparators]
                for value in values:
                    elts = (
                        value.elts if isinstance(value, (ast.Tuple, ast.List, ast.Set)) else [value]
                    )
                    if any(isinstance(e, ast.Constant) and e.value in PROVIDER_IDS for e in elts):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", "").endswith("Provider"):
                offenders.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} instantiates {node.func.id}"
                )
    assert offenders == []

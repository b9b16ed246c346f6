"""The architecture as contracts (docs/ARCHITECTURE.md): layers, no Qt in the core, no import
cycles, function-level imports only with a reason, modules of a readable size."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import REPO

PACKAGE = REPO / "tracker"
CORE = PACKAGE / "core"
FORBIDDEN = ("PySide6", "shiboken6", "PyQt5", "PyQt6", "tracker.ui", "tracker.app", "tracker.cli")
MAX_LINES = 500


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_core_module_imports_qt_or_upper_layers() -> None:
    offenders = [
        f"{path.relative_to(REPO)}: {name}"
        for path in CORE.rglob("*.py")
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    ]
    assert offenders == []


def test_importing_the_whole_core_loads_no_qt() -> None:
    modules = sorted(
        "tracker.core." + ".".join(p.relative_to(CORE).with_suffix("").parts)
        for p in CORE.rglob("*.py")
        if p.name != "__init__.py" and "versions" not in p.parts and p.name != "env.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(n for n in sys.modules if n.startswith(('PySide6', 'shiboken6'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert len(modules) >= 30


def test_import_linter_contracts_hold() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_module_graph_has_no_cycle() -> None:
    """Every import counts, those inside functions and under TYPE_CHECKING too: a cycle hidden
    in a function is still a cycle."""
    graph = grimp.build_graph("tracker", include_external_packages=False)
    assert len(graph.modules) > 100
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


def test_every_function_level_import_says_why() -> None:
    """Imports go at the top; one inside a function is there to keep start-up fast, and a
    comment beside or above it says so. The benchmarks say it once, in their docstring."""
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "bench" in path.relative_to(PACKAGE).parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    here = lines[sub.lineno - 1]
                    above = lines[max(0, sub.lineno - 3) : sub.lineno - 1]
                    if "#" not in here and not any(a.strip().startswith("#") for a in above):
                        missing.append(f"{path.relative_to(REPO)}:{sub.lineno}: {here.strip()}")
    assert missing == []


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    """About 500 lines at most; a longer module says why at its top."""
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES and "longer than 500 lines" not in text[:2000]:
            long.append(f"{path.relative_to(REPO)}: {text.count(chr(10))} lines")
    assert long == []

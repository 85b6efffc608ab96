"""The import graph of bioseq: no cycle between units, no private name across modules, the intended layers.

A *unit* is a sub-package (``bioseq.io``, ``bioseq.encode``, ...) or a top-level
module (``bioseq.errors``, ``bioseq.codes``, ``bioseq.predict``, ...). Every
module under ``bioseq/`` is parsed with :mod:`ast`; nothing is imported. An
import counts wherever it is written (module level, inside a function, under
``if TYPE_CHECKING``), and so do imports by name: the ``bioseq.*`` modules of a
package's lazy ``_EXPORTS`` table and ``importlib.import_module("bioseq...")``.
Each test lists every violation it finds, with the file, line and import.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import itertools
from collections import defaultdict, deque
from collections.abc import Collection, Iterable
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bioseq"

# From the bottom up: each of these units may import only the ones before it.
BOTTOM = ("bioseq.errors", "bioseq.alphabet", "bioseq.codes", "bioseq.checks")
HIGHER = ("bioseq.datasets", "bioseq.models", "bioseq.train", "bioseq.bundle", "bioseq.cli")
FORBIDDEN = {  # unit -> units it must not import
    "bioseq.io": ("bioseq.encode", *HIGHER, "bioseq.evaluate", "bioseq.predict", "bioseq.scan"),
    "bioseq.encode": HIGHER,
}


@dataclasses.dataclass(frozen=True)
class Import:
    """One imported module (one name of a ``from ... import`` whose name is a module counts alone)."""

    source: str  # the importing module, e.g. "bioseq.io.summary"
    target: str  # the imported module, e.g. "bioseq.io.aligned_reads"
    names: tuple[str, ...]  # the names taken from it (empty for ``import x``)
    path: str  # the importing file, relative to the repository
    line: int
    text: str  # the import statement, on one line

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


def unit(module: str) -> str:
    """``bioseq.io.fasta`` -> ``bioseq.io``; ``bioseq.errors`` -> ``bioseq.errors``; ``bioseq`` -> ``bioseq``."""
    return ".".join(module.split(".")[:2])


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


_READ = (ast.Import, ast.ImportFrom, ast.Assign, ast.Call)  # the nodes that can import


def read_imports(root: Path) -> list[Import]:
    """Every import between modules of the package at ``root``."""
    files = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    imports = []
    for module, path in files.items():
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(root.parent).as_posix()
        is_package = path.name == "__init__.py"
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if not isinstance(node, _READ):
                continue
            for target, names, at in _targets(node, module, is_package, files, root.name):
                text = " ".join(" ".join(lines[at.lineno - 1 : at.end_lineno]).split())
                imports.append(Import(module, target, names, where, at.lineno, text))
    return imports


def _targets(
    node: ast.AST, module: str, is_package: bool, modules: Collection[str], package: str
) -> list[tuple[str, tuple[str, ...], ast.AST]]:
    """``(imported module, names taken, where)`` of one AST node that imports from ``package``."""

    def ours(name: str) -> bool:
        return name == package or name.startswith(package + ".")

    if isinstance(node, ast.Import):
        return [(alias.name, (), node) for alias in node.names if ours(alias.name)]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: from the module's package, up level - 1
            here = module.split(".") if is_package else module.split(".")[:-1]
            base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
        if not ours(base):
            return []
        found: dict[str, list[str]] = defaultdict(list)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in modules:
                found.setdefault(submodule, [])  # a module, not a name of base
            else:
                found[base].append(alias.name)
        return [(target, tuple(names), node) for target, names in found.items()]
    if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in node.targets):
        return [
            (c.value, (), c)
            for c in ast.walk(node.value)
            if isinstance(c, ast.Constant) and isinstance(c.value, str) and ours(c.value)
        ]
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and ours(str(node.args[0].value))
    ):
        return [(node.args[0].value, (), node)]
    return []


def unit_edges(imports: Iterable[Import]) -> dict[tuple[str, str], list[Import]]:
    """``(importing unit, imported unit)`` -> the imports that make the edge (imports inside a unit left out)."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in imports:
        if unit(imp.source) != unit(imp.target):
            edges[unit(imp.source), unit(imp.target)].append(imp)
    return edges


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """Unit cycles ``[a, b, ..., a]``: for each edge that lies on a cycle, the shortest cycle through it.

    Every edge of every strongly connected component is covered, so every import that
    takes part in a cycle is reported; cycles are listed once, starting at their least unit.
    """
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    found = []
    for a, b in sorted((source, target) for source in graph for target in graph[source]):
        back = _shortest_path(graph, b, a)
        if back is None:
            continue
        ring = [a] + back[:-1]  # a, b, ..., (not a again)
        start = ring.index(min(ring))
        ring = ring[start:] + ring[:start]
        if ring + ring[:1] not in found:
            found.append(ring + ring[:1])
    return found


def _shortest_path(graph: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path[::-1]
        for following in sorted(graph.get(node, ())):
            if following not in previous:
                previous[following] = node
                queue.append(following)
    return None


def cycle_report(imports: Iterable[Import]) -> list[str]:
    edges = unit_edges(imports)
    reports = []
    for ring in cycles(edges):
        lines = [f"import cycle {' -> '.join(ring)}:"]
        for a, b in itertools.pairwise(ring):
            lines += [f"  {a} -> {b}: {imp}" for imp in edges[a, b]]
        reports.append("\n".join(lines))
    return reports


def private_report(imports: Iterable[Import]) -> list[str]:
    """``from x import _name`` of a private (not dunder) name of another module."""
    return [
        f"{imp.source} takes private {name} from {imp.target}: {imp}"
        for imp in imports
        for name in imp.names
        if name.startswith("_") and not (name.startswith("__") and name.endswith("__")) and imp.target != imp.source
    ]


def forbidden_report(imports: Iterable[Import], source: str, targets: Iterable[str], why: str) -> list[str]:
    targets = set(targets)
    return [
        f"{source} imports {unit(imp.target)} ({why}): {imp}"
        for imp in imports
        if unit(imp.source) == source and unit(imp.target) in targets
    ]


@functools.cache
def package_imports() -> tuple[Import, ...]:
    return tuple(read_imports(PACKAGE))


def check(problems: list[str]) -> None:
    if problems:
        pytest.fail(f"{len(problems)} violation(s):\n" + "\n".join(problems), pytrace=False)


# --- the rules, on bioseq ----------------------------------------------------------------


def test_no_cycle_between_units():
    check(cycle_report(package_imports()))


def test_no_private_name_crosses_modules():
    check(private_report(package_imports()))


def test_bottom_units_import_only_the_units_below():
    imports = package_imports()
    problems = []
    for i, source in enumerate(BOTTOM):
        below = set(BOTTOM[:i])
        problems += [
            f"{source} imports {unit(imp.target)}, but it may import only {sorted(below) or 'no unit'}: {imp}"
            for imp in imports
            if unit(imp.source) == source and unit(imp.target) not in below | {source}
        ]
    check(problems)


@pytest.mark.parametrize("source", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(source):
    check(forbidden_report(package_imports(), source, FORBIDDEN[source], "a higher layer"))


def test_only_the_cli_imports_the_cli():
    imports = package_imports()
    check(
        [
            f"{unit(imp.source)} imports the command line: {imp}"
            for imp in imports
            if unit(imp.target) == "bioseq.cli" and unit(imp.source) != "bioseq.cli"
        ]
    )


def test_the_graph_sees_every_kind_of_import():
    """Guards the rules against a reader that silently finds nothing."""
    imports = package_imports()
    pairs = {(imp.source, imp.target) for imp in imports}
    assert ("bioseq.codes", "bioseq.alphabet") in pairs  # module level
    assert ("bioseq.encode", "bioseq.codes") in pairs  # a lazy export
    assert any(
        imp.source == "bioseq.evaluate.compare" and imp.target == "bioseq.evaluate.report" for imp in imports
    )  # inside a function
    assert len({unit(imp.source) for imp in imports}) >= 15


# --- the reader and the reports, on a made-up package -------------------------------------


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> list[Import]:
    root = tmp_path_factory.mktemp("toy") / "toy"
    files = {
        "__init__.py": "from toy import _lazy\n",
        "_lazy.py": "",
        "low.py": "import os\n\n\ndef f():\n    from toy.high.run import go\n    return go\n",
        "high/__init__.py": '_EXPORTS = {"x": "toy.mid"}\n',
        "high/run.py": "from . import helpers\nfrom ..mid import _secret, __version__\n\ngo = 1\n",
        "high/helpers.py": "",
        "mid.py": "from toy.low import (\n    f,\n)\n_secret = __version__ = 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return read_imports(root)


def test_reader_resolves_relative_function_level_and_lazy_imports(toy):
    got = {(imp.source, imp.target, imp.names, imp.line) for imp in toy}
    assert got == {
        ("toy", "toy._lazy", (), 1),  # a module taken by name is a module, not a private name
        ("toy.low", "toy.high.run", ("go",), 5),  # inside a function
        ("toy.high", "toy.mid", (), 1),  # lazy export
        ("toy.high.run", "toy.high.helpers", (), 1),  # from . import module
        ("toy.high.run", "toy.mid", ("_secret", "__version__"), 2),  # from ..mid import names
        ("toy.mid", "toy.low", ("f",), 1),
    }


def test_reports_name_the_cycle_and_the_private_import(toy):
    (report,) = cycle_report(toy)
    assert report.splitlines() == [
        "import cycle toy.high -> toy.mid -> toy.low -> toy.high:",
        '  toy.high -> toy.mid: toy/high/__init__.py:1: _EXPORTS = {"x": "toy.mid"}',
        "  toy.high -> toy.mid: toy/high/run.py:2: from ..mid import _secret, __version__",
        "  toy.mid -> toy.low: toy/mid.py:1: from toy.low import ( f, )",
        "  toy.low -> toy.high: toy/low.py:5: from toy.high.run import go",
    ]
    assert private_report(toy) == [
        "toy.high.run takes private _secret from toy.mid: toy/high/run.py:2: from ..mid import _secret, __version__"
    ]


def test_cycles_cover_every_edge_of_a_tangle():
    assert cycles([("a", "b"), ("b", "a"), ("b", "c"), ("c", "a"), ("c", "d")]) == [
        ["a", "b", "a"],
        ["a", "b", "c", "a"],
    ]

"""No module of a Porter package imports itself back through others: each package reads from
top to bottom (beside test_import_direction, which holds the boundaries between packages).

The graph has one node per module (a package's `__init__` is the package's node) and an
edge A -> B when running A may run B's code or read B's names:
- `import a.b.c` and `from a.b import c` anywhere in A, at module level or inside a function
  (a lazy import is still an edge; only imports under `if TYPE_CHECKING:` are left out, as
  they never run), with relative imports resolved against A's package;
- the edge goes to the module named (`a.b.c`, or `a.b.c` for `from a.b import c` when c is a
  submodule), and to every package on the way (`a`, `a.b`) whose `__init__` the import runs:
  that is each one that does not contain A, since a module's enclosing packages have already
  started before it runs;
- `from a.b import name` where `name` is not a submodule reads `a.b`'s `__init__`, so it is an
  edge to `a.b` even from inside `a.b`: a submodule that takes a name from its package's
  `__init__` while that `__init__` re-exports from the submodule is a cycle.
A strongly connected component of more than one module is a cycle; the test names each.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
PACKAGES = ("porter_specs", "porter_image", "porter_registry", "porter_runtime", "porterd")
PACKAGES += ("porter_cli",)


def package_roots() -> dict[str, Path]:
    """Each package's folder, found in the components' src trees."""
    return {
        init.parent.name: init.parent
        for init in sorted(REPOSITORY.glob("*/src/*/__init__.py"))
        if ".venv" not in init.parts and init.parent.name in PACKAGES
    }


def modules_of(package: str, root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package under `root`."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement below `node` that can run (not under `if TYPE_CHECKING:`)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _imports_in(other)
            continue
        yield from _imports_in(child)


def _imports_in(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _imports(node)


def _package_of(module: str, path: Path) -> str:
    """The package a relative import in `module` is resolved against."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package_of(module, path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _ran_packages(target: str, module: str, path: Path) -> list[str]:
    """The packages on the way to `target` whose `__init__` importing it runs from `module`
    (those that do not contain `module`)."""
    parts = target.split(".")
    enclosing = _package_of(module, path)
    chain = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [p for p in chain if not (enclosing == p or enclosing.startswith(p + "."))]


def import_edges(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of `known` that running `module` (at `path`) may import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    targets: set[str] = set()
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                targets.add(alias.name)
                targets.update(_ran_packages(alias.name, module, path))
            continue
        source = _absolute(node, module, path)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            targets.update(_ran_packages(submodule, module, path))
            targets.add(submodule if submodule in known else source)
    return {t for t in targets if t in known and t != module}


def import_graph(package: str, root: Path) -> dict[str, set[str]]:
    modules = modules_of(package, root)
    known = set(modules)
    return {name: import_edges(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node, each sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


ROOTS = package_roots()


def test_the_walk_finds_every_package():
    assert set(ROOTS) == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_modules_of_a_package_import_each_other_in_a_loop(package):
    found = cycles(import_graph(package, ROOTS[package]))
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def _fake_package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "fake"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_package_whose_modules_import_one_way_has_no_cycle(tmp_path):
    root = _fake_package(tmp_path, {"a.py": "from fake import b\n", "b.py": "import os\n"})
    assert cycles(import_graph("fake", root)) == []


def test_two_modules_importing_each_other_are_a_cycle(tmp_path):
    root = _fake_package(tmp_path, {"a.py": "from fake import b\n", "b.py": "from . import a\n"})
    assert cycles(import_graph("fake", root)) == [["fake.a", "fake.b"]]


def test_a_function_level_import_closes_a_cycle(tmp_path):
    lazy = "def f():\n    from fake.a import x\n"
    root = _fake_package(tmp_path, {"a.py": "import fake.b\nx = 1\n", "b.py": lazy})
    assert cycles(import_graph("fake", root)) == [["fake.a", "fake.b"]]


def test_an_import_under_type_checking_is_no_edge(tmp_path):
    typed = "TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from fake.a import x\n"
    root = _fake_package(tmp_path, {"a.py": "from fake.b import y\nx = 1\n", "b.py": typed})
    assert cycles(import_graph("fake", root)) == []


def test_an_init_re_exporting_a_submodule_that_reads_the_package_is_a_cycle(tmp_path):
    files = {"__init__.py": "from fake.a import A\n", "a.py": "from fake import VERSION\nA = 1\n"}
    root = _fake_package(tmp_path, files)
    assert cycles(import_graph("fake", root)) == [["fake", "fake.a"]]


def test_a_submodule_importing_a_sibling_does_not_run_its_own_packages_init(tmp_path):
    files = {"__init__.py": "from fake.a import A\n", "a.py": "import fake.b\nA = 1\n"}
    root = _fake_package(tmp_path, {**files, "b.py": ""})
    assert cycles(import_graph("fake", root)) == []


def test_importing_a_subpackage_from_outside_runs_its_init(tmp_path):
    files = {
        "sub/__init__.py": "from fake.sub.store import S\n",
        "sub/store.py": "from fake.tool import T\nS = 1\n",
        "tool.py": "from fake.sub.store import S\nT = 1\n",
    }
    root = _fake_package(tmp_path, files)
    assert cycles(import_graph("fake", root)) == [["fake.sub", "fake.sub.store", "fake.tool"]]


def test_taking_a_submodule_from_a_subpackage_outside_runs_its_init(tmp_path):
    files = {
        "sub/__init__.py": "from fake.sub.store import S\n",
        "sub/store.py": "from fake.tool import T\nS = 1\n",
        "sub/other.py": "",
        "tool.py": "from fake.sub import other\nT = 1\n",
    }
    root = _fake_package(tmp_path, files)
    assert cycles(import_graph("fake", root)) == [["fake.sub", "fake.sub.store", "fake.tool"]]


def test_a_three_module_loop_is_named_whole(tmp_path):
    files = {"a.py": "from . import b\n", "b.py": "from . import c\n", "c.py": "from . import a\n"}
    root = _fake_package(tmp_path, files)
    assert cycles(import_graph("fake", root)) == [["fake.a", "fake.b", "fake.c"]]

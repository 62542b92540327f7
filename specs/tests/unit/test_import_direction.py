"""Imports point one way: everything may use porter_specs; porter_specs uses nothing of Porter.

Components import porter_specs and their own package only; porterd may also use porter_image
as a library, and so may porter_cli for one thing: `porter build` reads the context's
.dockerignore with the builder's own matcher, so that the files the CLI sends and the files
the builder would take never disagree (docker's CLI and builder share one matcher too). Nothing
imports porterd: the CLI reaches it over its API, the daemon reaches the
runtime through its command line and registries through HTTP (DESIGN.md).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[3]
EXTRA_ALLOWED = {"porterd": {"porter_image"}, "porter_cli": {"porter_image"}}


def _packages() -> dict[str, Path]:
    """Every top-level package in a component's src tree, by import name."""
    return {
        init.parent.name: init.parent
        for init in sorted(REPOSITORY.glob("*/src/*/__init__.py"))
        if ".venv" not in init.parts
    }


PACKAGES = _packages()


def _imported(path: Path) -> set[tuple[str, int]]:
    """Top-level names of the absolute imports in a file, with their line numbers."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add((node.module.split(".")[0], node.lineno))
    return found


def _allowed(package: str) -> set[str]:
    if package == "porter_specs":
        return {"porter_specs"}
    return {"porter_specs", package} | EXTRA_ALLOWED.get(package, set())


def test_the_walk_finds_the_components_packages():
    assert {"porter_specs", "porter_image", "porterd"} <= set(PACKAGES)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_a_package_imports_only_what_the_design_allows(package):
    allowed = _allowed(package)
    root = PACKAGES[package]
    wrong = sorted(
        f"{source.relative_to(REPOSITORY)}:{line} imports {name}"
        for source in root.rglob("*.py")
        for name, line in _imported(source)
        if name in PACKAGES and name not in allowed
    )
    assert wrong == []

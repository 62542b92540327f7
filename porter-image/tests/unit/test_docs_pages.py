"""The committed command reference pages match the commands' --help."""

from __future__ import annotations

import importlib.util
from pathlib import Path

GEN = Path(__file__).resolve().parents[2] / "docs" / "gen.py"


def test_reference_pages_are_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("porter_image_docs_gen", GEN)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    assert gen.main(["--check"]) == 0, "run porter-image/docs/gen.py and commit docs/cli"

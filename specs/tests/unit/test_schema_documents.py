"""runtime_schema_documents and schema_documents, the schemas as Python, are what
specs/tools/generate_schema_documents.py makes of the JSON files under porter_specs/schemas/:
the two cannot drift apart."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from porter_specs import runtime_schema_documents, schema_check, schema_documents
from porter_specs.schema_pattern import Matcher

from .conftest import load_example, modules_imported_by_checking

SPECS = Path(__file__).resolve().parents[2]
SCHEMAS = SPECS / "src" / "porter_specs" / "schemas"


def _generator():
    path = SPECS / "tools" / "generate_schema_documents.py"
    spec = importlib.util.spec_from_file_location("generate_schema_documents", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MODULES = [runtime_schema_documents, schema_documents]


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_committed_module_is_a_fresh_generation_from_the_schema_files(module):
    path = Path(module.__file__)
    assert path.read_text(encoding="utf-8") == _generator().generate(path.name, SCHEMAS)


def test_every_schema_file_is_built_as_its_json_parses():
    files = {**runtime_schema_documents.FILES, **schema_documents.FILES}
    for path in sorted(SCHEMAS.glob("*.json")):
        assert files[path.name]() == json.loads(path.read_text()), path.name


def test_the_runtime_spec_files_are_apart_from_the_others():
    assert set(runtime_schema_documents.FILES) == {
        "runtime-config.json",
        "runtime-config-linux.json",
        "runtime-state.json",
    }
    assert set(runtime_schema_documents.FILES).isdisjoint(schema_documents.FILES)


def test_every_pattern_table_builds_the_matcher_of_its_pattern():
    for pattern, table in runtime_schema_documents.PATTERNS.items():
        assert table == Matcher(pattern).table()


def test_every_schema_file_has_its_uri_as_id():
    for name in schema_check.schemas():
        assert schema_check.schema_file(name)["$id"] == name


def test_a_schema_changed_on_disk_makes_a_different_module(tmp_path):
    for path in SCHEMAS.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    changed = json.loads((tmp_path / "defs.json").read_text())
    changed["$defs"]["size"]["minimum"] = 1
    (tmp_path / "defs.json").write_text(json.dumps(changed))
    module = "schema_documents.py"
    assert _generator().generate(module, tmp_path) != _generator().generate(module, SCHEMAS)


def test_checking_a_runtime_config_loads_only_the_runtime_spec_schemas():
    loaded = modules_imported_by_checking(load_example("runtime-config"), "runtime-config")
    assert "porter_specs.runtime_schema_documents" in loaded
    assert loaded & {"porter_specs.schema_documents", "porter_specs.validate"} == set()

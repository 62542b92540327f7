"""schema_documents, the schemas as Python, is what specs/tools/generate_schema_documents.py
makes of the JSON files under porter_specs/schemas/: the two cannot drift apart."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from porter_specs import schema_check, schema_documents

SPECS = Path(__file__).resolve().parents[2]
SCHEMAS = SPECS / "src" / "porter_specs" / "schemas"


def _generator():
    path = SPECS / "tools" / "generate_schema_documents.py"
    spec = importlib.util.spec_from_file_location("generate_schema_documents", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_module_is_a_fresh_generation_from_the_schema_files():
    module_path = Path(schema_documents.__file__)
    assert module_path.read_text(encoding="utf-8") == _generator().generate(SCHEMAS)


def test_every_schema_file_is_built_as_its_json_parses():
    for path in sorted(SCHEMAS.glob("*.json")):
        assert schema_documents.FILES[path.name]() == json.loads(path.read_text()), path.name


def test_every_schema_file_has_its_uri_as_id():
    for name in schema_documents.FILES:
        uri = schema_check.SCHEMA_BASE_URI + name
        assert schema_check.schema_file(uri)["$id"] == uri


def test_a_schema_changed_on_disk_makes_a_different_module(tmp_path):
    for path in SCHEMAS.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text())
    changed = json.loads((tmp_path / "defs.json").read_text())
    changed["$defs"]["size"]["minimum"] = 1
    (tmp_path / "defs.json").write_text(json.dumps(changed))
    assert _generator().generate(tmp_path) != _generator().generate(SCHEMAS)

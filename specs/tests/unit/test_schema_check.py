"""schema_check, the quick schema check, gives jsonschema's verdict on every document it
accepts, and accepts what jsonschema accepts, over the repository's documents and thousands of
seeded mutations of them; its choices (integer, pattern, references) are jsonschema's."""

from __future__ import annotations

import copy
import importlib.util
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from porter_specs import media_types, schema_check, schema_pattern
from porter_specs.models import Descriptor, ImageConfig, Index, Manifest, Platform
from porter_specs.runtime_defaults import default_runtime_config
from porter_specs.schema_pattern import Matcher
from porter_specs.schema_problems import validator
from porter_specs.validate import KINDS

from .conftest import EXAMPLES, load_example, modules_imported_by_checking, schema_patterns

REPO = Path(__file__).resolve().parents[3]
MUTATIONS = 4000


def _conformance_config() -> dict[str, Any]:
    """The config.json the runtime conformance suite starts every bundle from."""
    path = REPO / "conformance" / "runtime" / "bundle.py"
    spec = importlib.util.spec_from_file_location("conformance_bundle", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    config: dict[str, Any] = module.default_config(["sh", "-c", "true"])
    return config


def _built_documents() -> list[Any]:
    """The image documents as the models write them: the examples read and written again, a
    descriptor of content with a platform."""
    models = {"manifest": Manifest, "index": Index, "config": ImageConfig}
    built: list[Any] = [
        models[kind].from_json(load_example(name)).to_json()  # type: ignore[attr-defined]
        for name, kind in [
            ("manifest-image", "manifest"),
            ("manifest-artifact-with-config", "manifest"),
            ("index-two-platforms", "index"),
            ("layout-index", "index"),
            ("image-config", "config"),
        ]
    ]
    platform = Platform("linux", "arm64", "v8", os_features=("feature",))
    built.append(Descriptor.of(media_types.LAYER_TAR_GZIP, b"layer", platform=platform).to_json())
    return built


def _corpus() -> list[Any]:
    documents = [load_example(path.stem) for path in sorted(EXAMPLES.glob("*.json"))]
    documents += [
        default_runtime_config("1.2.0"),
        default_runtime_config("1.2.0", rootless=True, uid=1000, gid=1000),
        _conformance_config(),
        *_built_documents(),
    ]
    return documents


CORPUS = _corpus()


def _jsonschema_accepts(document: Any, kind: str) -> bool:
    return bool(validator(kind).is_valid(document))


def _kinds_of(document: Any) -> list[str]:
    """The kinds a corpus document is valid as (an image index is index.json's too)."""
    return [kind for kind in KINDS if _jsonschema_accepts(document, kind)]


# values put in place of others: wrong types, bounds of the integer types, pattern breakers
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 2.0, 0.5, -1.5, "", "x", "\n", "/", "CAP_", [], {},
    [1], {"a": 1}, 2**15, 2**16, 2**31, 2**32, 2**63, 2**64, -(2**63) - 1, 2**64 - 1,
    "CAP_SYS_ADMIN", "RLIMIT_NOFILE", "1.2.0", "sha256:" + "0" * 64, "a/b", "0-3,7", "2MB",
    float("inf"), float("nan"),
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _changed_string(text: str, rng: random.Random) -> str:
    return rng.choice(
        [
            text + "\n",
            " " + text,
            text[:-1],
            text + "!",
            text.upper(),
            text.lower(),
            text.replace("1", "\u0661"),  # an Arabic-Indic one: \d matches it, [0-9] does not
            "\n" + text,
            text * 2,
        ]
    )


def _changed_number(number: int | float, rng: random.Random) -> Any:
    return rng.choice(
        [number + 1, number - 1, float(number), -number - 1, number * 2**32, bool(number % 2)]
    )


def _replacement(value: Any, rng: random.Random) -> Any:
    if isinstance(value, str) and rng.random() < 0.6:
        return _changed_string(value, rng)
    if type(value) in (int, float) and rng.random() < 0.6:
        return _changed_number(value, rng)
    return copy.deepcopy(rng.choice(ODD_VALUES))


def _mutate(document: Any, rng: random.Random) -> Any:
    """`document` with one to three random changes: a value replaced, a member removed or
    added, an entry dropped or repeated."""
    changed = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(list(_paths(changed)))
        if not path:
            return rng.choice(ODD_VALUES)
        *parents, last = path
        parent = changed
        for part in parents:
            parent = parent[part]
        action = rng.random()
        if action < 0.55:
            parent[last] = _replacement(parent[last], rng)
        elif action < 0.75 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.85 and isinstance(parent[last], dict):
            parent[last][rng.choice(["extra", "os", "type", "path", "x"])] = _replacement("", rng)
        elif isinstance(parent, list):
            if rng.random() < 0.5:
                del parent[last]
            else:
                parent.append(copy.deepcopy(parent[last]))
        else:
            parent[last] = _replacement(parent[last], rng)
    return changed


def _mutants() -> Iterator[tuple[Any, str]]:
    rng = random.Random(8)
    kinds = [_kinds_of(document) for document in CORPUS]
    for _ in range(MUTATIONS):
        index = rng.randrange(len(CORPUS))
        mutant = _mutate(CORPUS[index], rng)
        for kind in kinds[index]:
            yield mutant, kind


@pytest.mark.parametrize("kind", KINDS)
def test_quick_check_agrees_with_jsonschema_on_the_corpus(kind):
    disagreements = [
        index
        for index, document in enumerate(CORPUS)
        if schema_check.accepts(document, kind) != _jsonschema_accepts(document, kind)
    ]
    assert disagreements == []


def test_every_corpus_document_is_valid_as_some_kind():
    assert all(_kinds_of(document) for document in CORPUS)


@pytest.fixture(params=["re", "matcher"])
def pattern_engine(request, monkeypatch):
    """Patterns matched by re (a process that has imported it) or by schema_pattern's matcher
    (one that has not, as porter-runtime create)."""
    if request.param == "matcher":
        patterns = schema_patterns()
        monkeypatch.setattr(schema_pattern, "_compiled", {p: Matcher(p) for p in patterns})
    return request.param


def test_quick_check_agrees_with_jsonschema_on_mutations(pattern_engine):
    verdicts = {(True, True): 0, (False, False): 0}
    wrong = []
    for document, kind in _mutants():
        verdict = (schema_check.accepts(document, kind), _jsonschema_accepts(document, kind))
        if verdict in verdicts:
            verdicts[verdict] += 1
        else:
            wrong.append((kind, verdict, document))
    assert wrong[:3] == []
    assert min(verdicts.values()) > MUTATIONS // 10  # both verdicts well exercised


@pytest.mark.parametrize(
    ("value", "accepted"),
    [(1, True), (1.0, False), (True, False), (-1, False), (2**32, False), ("1", False)],
)
def test_integer_is_a_json_integer_in_range(value, accepted):
    config = load_example("runtime-config-minimal")
    config["process"]["user"]["uid"] = value
    assert schema_check.accepts(config, "runtime-config") is accepted


@pytest.mark.parametrize(
    ("version", "accepted"),
    [("1.2.0", True), ("1.2.0-rc.1", True), ("1.2.0\n", False), ("v1.2.0", False)],
)
def test_pattern_ends_at_the_end_of_the_string(version, accepted):
    config = load_example("runtime-config-minimal")
    config["ociVersion"] = version
    assert schema_check.accepts(config, "runtime-config") is accepted


def test_pattern_is_a_search_not_a_full_match():
    config = load_example("runtime-config-minimal")
    config["process"]["cwd"] = "/home/user and more"  # "^/" anywhere after is fine
    assert schema_check.accepts(config, "runtime-config")


def test_const_takes_a_float_equal_to_the_integer():
    manifest = load_example("manifest-image")
    manifest["schemaVersion"] = 2.0
    assert schema_check.accepts(manifest, "manifest") == _jsonschema_accepts(manifest, "manifest")
    assert schema_check.accepts(manifest, "manifest")


def test_if_then_asks_for_pid_of_a_running_container():
    state = load_example("runtime-state")
    del state["pid"]
    state["status"] = "running"
    assert not schema_check.accepts(state, "runtime-state")
    state["status"] = "stopped"
    assert schema_check.accepts(state, "runtime-state")


def test_an_unknown_keyword_leaves_the_verdict_to_jsonschema(monkeypatch):
    descriptor = load_example("descriptor-manifest")
    schemas = schema_check.schemas()
    changed = copy.deepcopy(schemas)
    changed[schema_check.SCHEMA_BASE_URI + "defs.json"]["$defs"]["size"]["multipleOf"] = 2
    monkeypatch.setattr(schema_check, "_loaded", changed)
    assert not schema_check.accepts(descriptor, "descriptor")


def test_a_number_of_another_type_leaves_the_verdict_to_jsonschema():
    from decimal import Decimal

    descriptor = load_example("descriptor-manifest")
    descriptor["size"] = Decimal(7)
    assert not schema_check.accepts(descriptor, "descriptor")


def test_an_unknown_kind_is_not_accepted():
    assert not schema_check.accepts({}, "manifesto")


def test_checking_a_runtime_config_imports_no_heavy_module():
    imported = modules_imported_by_checking(load_example("runtime-config"), "runtime-config")
    heavy = {"jsonschema", "json", "re", "typing", "dataclasses", "enum"}
    assert imported & heavy == set()

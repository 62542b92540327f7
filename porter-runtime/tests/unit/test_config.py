"""config.json shape errors name the JSON pointer of the bad value."""

import json

import pytest
from porter_runtime import config
from porter_runtime.errors import ConfigError
from porter_runtime.spec import default_config


def write(tmp_path, document):
    (tmp_path / "config.json").write_text(json.dumps(document))
    return str(tmp_path)


def test_default_spec_passes_the_structural_check():
    config.check_shape(default_config(), config.SHAPE)
    config.check_shape(default_config(rootless=True), config.SHAPE)


def test_missing_oci_version_is_reported():
    doc = default_config()
    del doc["ociVersion"]
    with pytest.raises(ConfigError, match="/ociVersion: is required"):
        config.check_shape(doc, config.SHAPE)


def test_wrong_type_is_reported_with_its_pointer():
    doc = default_config()
    doc["process"]["args"] = ["sh", 3]
    with pytest.raises(ConfigError, match="/process/args/1: must be a string"):
        config.check_shape(doc, config.SHAPE)


def test_boolean_is_not_an_integer():
    doc = default_config()
    doc["process"]["user"]["uid"] = True
    with pytest.raises(ConfigError, match="/process/user/uid: must be an integer"):
        config.check_shape(doc, config.SHAPE)


def test_enum_values_are_checked():
    doc = default_config()
    doc["linux"]["rootfsPropagation"] = "sideways"
    with pytest.raises(ConfigError, match="rootfsPropagation"):
        config.check_shape(doc, config.SHAPE)


@pytest.mark.parametrize("text", ["{nope", "{", '{"a": [1,}', "{} {}", ""])
def test_invalid_json_is_a_config_error_naming_the_place(tmp_path, text):
    (tmp_path / "config.json").write_text(text)
    with pytest.raises(ConfigError, match=r"not valid JSON: .* \(char \d+\)"):
        config.load(str(tmp_path))


def test_missing_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"config\.json"):
        config.load(str(tmp_path))


def test_missing_rootfs_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config.rootfs_path(str(tmp_path), {"root": {"path": "rootfs"}})


def test_load_returns_the_document(tmp_path):
    doc = default_config()
    assert config.load(write(tmp_path, doc)) == doc


def test_load_checks_the_runtime_spec_schema(tmp_path):
    doc = default_config()
    doc["linux"]["resources"] = {"memory": {"limit": 1.0}}  # the structural check takes it
    with pytest.raises(ConfigError, match="/linux/resources/memory/limit: must be an integer"):
        config.load(write(tmp_path, doc))


def test_load_checks_the_runtime_spec_rules(tmp_path):
    doc = default_config()
    doc["process"]["env"].append("NO_EQUALS_SIGN")
    with pytest.raises(ConfigError, match="/process/env/2: must be NAME=value"):
        config.load(write(tmp_path, doc))

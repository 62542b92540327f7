"""Config file (TOML or JSON), defaults, and overrides; bad input gets one clear line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from porter_registry.config import ConfigError, PolicyRule, build_config, read_file

TOML = """
listen = "0.0.0.0:5443"
data = "/srv/registry"
delete_enabled = false
log_level = "warning"

[tls]
cert = "/etc/registry/cert.pem"
key = "/etc/registry/key.pem"

[limits]
threads = 4
gc_grace_seconds = 60

[auth]
kind = "htpasswd"
htpasswd = "/etc/registry/htpasswd"

[[auth.policy]]
repository = "team/*"
users = ["alice"]
actions = ["pull", "push"]
anonymous = ["pull"]

[proxy]
url = "https://upstream.example"
"""


def test_defaults_need_no_file() -> None:
    config = build_config()
    assert config.listen == "127.0.0.1:5000"
    assert config.delete_enabled is True
    assert config.limits.max_manifest_bytes == 4 * 1024 * 1024
    assert config.auth.kind == "none"


def test_toml_file_is_parsed_into_every_section(tmp_path: Path) -> None:
    path = tmp_path / "registry.toml"
    path.write_text(TOML)
    config = build_config(read_file(path))
    assert config.listen_address() == ("0.0.0.0", 5443)
    assert config.delete_enabled is False
    assert config.tls.key == "/etc/registry/key.pem"
    assert config.limits.threads == 4
    assert config.auth.policy == (PolicyRule("team/*", ("alice",), ("pull", "push"), ("pull",)),)
    assert config.proxy.url == "https://upstream.example"


def test_json_file_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"data": "/d", "limits": {"threads": 2}}))
    config = build_config(read_file(path))
    assert (config.data, config.limits.threads) == ("/d", 2)


def test_overrides_win_over_the_file() -> None:
    config = build_config(
        {"listen": "1.2.3.4:1", "limits": {"threads": 3}},
        {"listen": "127.0.0.1:9", "limits.threads": 7, "data": None},
    )
    assert (config.listen, config.limits.threads) == ("127.0.0.1:9", 7)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"colour": "blue"}, "unknown key 'colour'"),
        ({"limits": {"threads": "many"}}, "limits.threads: expected a non-negative integer"),
        ({"delete_enabled": "yes"}, "delete_enabled: expected true or false"),
        ({"listen": "nowhere"}, "expected HOST:PORT"),
        ({"tls": {"cert": "c.pem"}}, "both a certificate and a key"),
        ({"auth": {"kind": "magic"}}, "use none, htpasswd or token"),
        ({"log_level": "loud"}, "log_level 'loud'"),
        ({"auth": {"policy": {"x": 1}}}, "expected a list of tables"),
    ],
)
def test_bad_settings_are_refused_with_the_key(document: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config(document)


def test_unparsable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("listen = ")
    with pytest.raises(ConfigError, match=r"broken\.toml: cannot parse"):
        read_file(path)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.json: cannot read"):
        read_file(tmp_path / "missing.json")

"""`porterd --cluster-store URLS --advertise-addr ADDR` and their daemon.json keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from porterd.cli import config_from_args
from porterd.cluster.node import node_id, parse_endpoints
from porterd.config import ConfigError
from porterd.errors import InvalidParameter


def test_cluster_store_flags_are_read(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").write_text("{}")
    config = config_from_args(
        [
            "--config-file",
            str(tmp_path / "daemon.json"),
            "--cluster-store",
            "http://10.0.0.1:2379,http://10.0.0.2:2379",
            "--advertise-addr",
            "10.0.0.5",
        ]
    )
    assert (config.cluster_store, config.advertise_addr) == (
        "http://10.0.0.1:2379,http://10.0.0.2:2379",
        "10.0.0.5",
    )


def test_daemon_json_names_them_as_dockerd_did(tmp_path: Path) -> None:
    settings = {"cluster-store": "http://10.0.0.1:2379", "cluster-advertise": "10.0.0.5"}
    (tmp_path / "daemon.json").write_text(json.dumps(settings))
    config = config_from_args(["--config-file", str(tmp_path / "daemon.json")])
    assert (config.cluster_store, config.advertise_addr) == ("http://10.0.0.1:2379", "10.0.0.5")


def test_a_cluster_store_without_an_advertise_address_is_refused(tmp_path: Path) -> None:
    (tmp_path / "daemon.json").write_text("{}")
    with pytest.raises(ConfigError, match="needs --advertise-addr"):
        config_from_args(
            ["--config-file", str(tmp_path / "daemon.json"), "--cluster-store", "http://a:2379"]
        )


@pytest.mark.parametrize("text", ["", "a:2379", "ftp://a:2379", "http://"])
def test_a_malformed_cluster_store_is_one_clear_error(text: str) -> None:
    with pytest.raises(InvalidParameter, match="cluster-store"):
        parse_endpoints(text)


def test_endpoints_are_split_on_commas_without_trailing_slashes() -> None:
    assert parse_endpoints("http://a:2379/, http://b:2379") == ["http://a:2379", "http://b:2379"]


def test_the_node_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = node_id(tmp_path)
    assert len(first) == 25
    assert node_id(tmp_path) == first
